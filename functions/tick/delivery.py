"""The emails a tick queued in the ledger, sent once each, also across crashes and takeovers."""

from __future__ import annotations

from collections.abc import Callable

from functions.errors import MailError
from functions.ports import MailSender, StateStore
from functions.text.messages import say
from functions.tick.tick_report import TickReport


def deliver(
    state: StateStore,
    mail: MailSender,
    report: TickReport,
    renew_lock: Callable[[], bool] | None,
    checkpoint: Callable[[str], None],
) -> None:
    """Send every queued email once; a send cut short by a crash is checked first.

    A tick stalled past its lease may have been taken over: before each email it renews
    the lease (`renew_lock`, when it holds one; False: another tick holds it, so it stops)
    and re-reads the email's status, so it never sends beside that tick nor resends what
    that tick sent.
    """
    for key in state.pending_keys():
        if renew_lock is not None and not renew_lock():
            report.problems.append(say(report.locale, "tick_lost_lock"))
            return
        entry = state.ledger_entry(key)
        if entry is None or entry[1] not in ("pending", "sending"):
            continue  # sent meanwhile by a tick that took over
        email, status = entry
        if status == "sending":
            delivered = mail.was_sent(email)
            if delivered is None:
                state.mark_sent(email.key, "uncertain")
                to = ", ".join(email.to)
                said = say(report.locale, "tick_email_uncertain", subject=email.subject, to=to)
                report.problems.append(said)
                continue
            if delivered:
                state.mark_sent(email.key)
                continue
        state.mark_sending(email.key)
        try:
            mail.send(email)
        except MailError as exc:
            # Maybe delivered: stay at "sending" so the next tick asks the sender first.
            state.mark_sent(email.key, "sending" if exc.maybe_sent else "pending")
            report.problems.append(say(report.locale, "tick_mail_retry", error=exc))
            return
        state.mark_sent(email.key)
        report.emails.append(f"{', '.join(email.to)} — {email.subject}")
        checkpoint("email_sent")
