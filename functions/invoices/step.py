"""The invoice machine's guards and effects, named by the transition table.

`transitions.TRANSITIONS` says, for each way out of a status, which method of `InvoiceStep`
decides whether it may fire now (its guard: records why not in `problems`) and which moves
the row (its effect: state, cells, locks and notices; it returns the changes its emails show).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from functions.controls import LATER_STEPS
from functions.directory import Person
from functions.invoices.checks import check_fields, duplicate_problem
from functions.invoices.emails import RECIPIENTS, InvoiceFacts, emails_for
from functions.invoices.row import InvoiceRow
from functions.model import EmailIntent
from functions.template_files import missing_locales
from functions.text.messages import problem_text
from functions.text.parsing import parse_date, text
from functions.transitions import TRANSITIONS, Transition, check_definition

Changes = list[dict[str, str]]  # what changed, as the emails show it: {label, old, new}


class InvoiceStep(InvoiceRow):
    """One row's moves: `can(t)` runs t's guard, `fire(t)` its effect and sends its emails."""

    def can(self, t: Transition) -> bool:
        guard: Callable[[], bool] = getattr(self, t.guard)
        return guard()

    def fire(self, t: Transition) -> list[EmailIntent]:
        self.out.log.append(
            self.ctx.log(
                self.record,
                "transition",
                from_=self.ctx.label(t.source),
                to=self.ctx.label(t.target),
                by=self.ctx.name_of(self.out.values.get(t.by)),
                details=self.ctx.when(t.trigger),
            )
        )
        self.out.transitions.append((t.source, t.target))
        effect: Callable[[Transition], Changes] = getattr(self, t.effect)
        changes: Changes = effect(t)
        facts = InvoiceFacts(
            self.record,
            self.out.values,
            self.ctx,
            self.state.round,
            self.state.reworks,
            self.previous_signer,
        )
        intents: list[EmailIntent] = []
        for name in t.emails:
            sent, problems = emails_for(facts, name, changes)
            intents += sent
            self.effect_problems += problems
        return intents

    # -- guards ------------------------------------------------------------------------
    def fields_valid_and_signer_chosen(self) -> bool:
        field_problems = check_fields(self.out.values, self.ctx)
        self.problems += field_problems
        signer = self.person("signer", "director")
        if signer is None:
            self.problems.append(self.unknown_person("signer", "director"))
        if field_problems or signer is None:
            return False
        return self._not_a_duplicate()

    def another_signer_chosen(self) -> bool:
        signer = self.person("signer", "director")
        if signer is None:
            self.problems.append(self.unknown_person("signer", "director"))
            return False
        return signer != self.ctx.people.find(self.state.signer, "director")

    def values_changed_since_asked(self) -> bool:
        asked = self._asked_signer() is not None
        return asked and self.state.requested is not None and self.bound() != self.state.requested

    def approved_values_changed(self) -> bool:
        return self.state.approved is not None and self.bound() != self.state.approved

    def asked_signer_approves(self) -> bool:
        if self._asked_signer() is None:
            return False  # a decision counts only from the signer who was asked
        typed = text(self.out.values.get("decision"))
        decision = self.decision()
        if typed and decision is None:
            self.problems.append(
                self.ctx.say(
                    "bad_decision",
                    label=self.ctx.header("decision"),
                    value=typed,
                    approve=self.ctx.word("decisions", "approve"),
                    rework=self.ctx.word("decisions", "rework"),
                )
            )
        return decision == "approve"

    def asked_signer_sends_to_rework(self) -> bool:
        if self._asked_signer() is None:
            return False  # a decision counts only from the signer who was asked
        return self.signer_withdraws_with_comment()

    def signer_withdraws_with_comment(self) -> bool:
        decision, comment = self.decision(), text(self.out.values.get("comment"))
        if decision == "rework" and not comment:
            self.problems.append(self.ctx.say("rework_needs_comment"))
        return decision == "rework" and bool(comment)

    def new_scan_attached(self) -> bool:
        scan = text(self.out.values.get("invoice_file"))
        return bool(scan) and scan != self.state.rework_file

    def accountant_claims(self) -> bool:
        if self.decision() != "approve":
            self.problems.append(
                self.ctx.say(
                    "decision_not_approve",
                    label=self.ctx.header("decision"),
                    approve=self.ctx.word("decisions", "approve"),
                    rework=self.ctx.word("decisions", "rework"),
                )
            )
            return False
        accountant = self.person("accountant", "accountant")
        if text(self.out.values.get("accountant")) and accountant is None:
            self.problems.append(self.unknown_person("accountant", "accountant"))
        return accountant is not None

    def paid_on_valid(self) -> bool:
        typed = self.out.values.get("paid_on")
        if not text(typed):
            return False
        paid_on, problem = parse_date(typed, self.ctx.header("paid_on"), self.ctx.locale)
        if problem or not isinstance(paid_on, date):
            self.problems.append(problem_text(problem, self.ctx.locale) if problem else "")
            return False
        if self.state.approved_at:
            approved = datetime.fromisoformat(self.state.approved_at)
            approved_day = approved.astimezone(self.ctx.settings.zone).date()
            if paid_on < approved_day:
                self.problems.append(
                    self.ctx.say(
                        "paid_before_approval",
                        label=self.ctx.header("paid_on"),
                        paid=paid_on.isoformat(),
                        approved=approved_day.isoformat(),
                    )
                )
                return False
        return True

    def closing_docs_attached(self) -> bool:
        return bool(text(self.out.values.get("closing_docs")))

    def _asked_signer(self) -> Person | None:
        """The signer in the row, if that is the person who was asked (else None)."""
        signer = self.person("signer", "director")
        if signer is None or signer != self.ctx.people.find(self.state.signer, "director"):
            return None
        return signer

    def _not_a_duplicate(self) -> bool:
        others = [(r, st) for r, st in self.duplicates(self.record, self.out.values)]
        others = [(r, st) for r, st in others if r not in self.state.distinct_from]
        if not others:
            return True
        comment = text(self.out.values.get("comment")).casefold()
        confirmed = [r for r, _ in others if r.casefold() in comment]
        if len(confirmed) == len(others):
            self.state.distinct_from += confirmed
            self.out.log.append(
                self.ctx.log(
                    self.record,
                    "confirmed",
                    by=self.ctx.name_of(self.out.values.get("manager")),
                    details=self.ctx.say("duplicate_confirmed", others=", ".join(confirmed)),
                )
            )
            return True
        self.problems.append(duplicate_problem(others, self.ctx))
        return False

    # -- effects -----------------------------------------------------------------------
    def _enter(self, t: Transition) -> None:
        self.state.status, self.state.notice = t.target, None

    def ask_signer(self, t: Transition) -> Changes:
        self._enter(t)
        s, now = self.state, self._now()
        self._clear_early("awaiting_decision", "early_before_signer")
        s.round += 1
        s.signer = text(self.out.values.get("signer"))
        s.requested = self.bound()
        s.submitted_at = s.submitted_at or now
        signer = self.person("signer", "director")
        editors = (signer.email,) if signer else ()
        self.out.locks += [("decision", True, editors), ("comment", True, editors)]
        return []

    def ask_new_signer(self, t: Transition) -> Changes:
        s = self.state
        self.previous_signer = self.ctx.people.find(s.signer, "director")
        new = self.person("signer", "director")
        assert new is not None  # the guard fires only for an active director
        if self.previous_signer is None:  # nobody could be asked before: nobody to tell
            self.notices.append(self.ctx.say("signer_chosen", new=new.name))
        else:
            self.notices.append(
                self.ctx.say("signer_replaced", old=self.ctx.name_of(s.signer), new=new.name)
            )
        return self.ask_signer(t)

    def ask_again_with_changes(self, t: Transition) -> Changes:
        changes = self.said_changes(self.state.requested)
        self.notices.append(
            self.ctx.say("changed_while_awaiting", changes=self.change_text(self.state.requested))
        )
        self.ask_signer(t)
        return changes

    def reopen(self, t: Transition) -> Changes:
        s = self.state
        changes = self.said_changes(s.approved)
        self.notices.append(
            self.ctx.say("changed_after_approval", changes=self.change_text(s.approved))
        )
        # Values changed after approval: the claim goes with the approval it was made on.
        s.approved, s.approved_at = None, None
        if s.accountant:
            self.clear(["accountant"])
            s.accountant = None
            self.out.locks.append(("accountant", False, ()))
        self.ask_signer(t)
        return changes

    def send_to_rework(self, t: Transition) -> Changes:
        self._enter(t)
        s = self.state
        s.reworks += 1
        s.rework_file = text(self.out.values.get("invoice_file"))
        s.decided = text(self.out.values.get("decision"))
        s.approved, s.approved_at = None, None
        return []

    def approve(self, t: Transition) -> Changes:
        self._enter(t)
        s = self.state
        s.approved_at, s.approved = self._now(), self.bound()
        s.decided = text(self.out.values.get("decision"))
        self._clear_early("awaiting_accountant", "early_before_approval")
        return []

    def claim(self, t: Transition) -> Changes:
        self._enter(t)
        self.state.accountant = text(self.out.values.get("accountant"))
        self.out.locks += [("accountant", True, ()), ("decision", True, ())]
        return []

    def record_payment(self, t: Transition) -> Changes:
        self._enter(t)
        self.state.paid_at = self._now()
        return []

    def close(self, t: Transition) -> Changes:
        self._enter(t)
        self.state.closed_at = self._now()
        # Closed invoices keep no protection: the number of protected ranges stays bounded.
        self.out.locks += [(c, False, ()) for c in ("decision", "comment", "accountant")]
        return []

    def _now(self) -> str:
        return self.ctx.now.isoformat(timespec="seconds")

    def _clear_early(self, status: str, message: str) -> None:
        """Cells of later steps filled before their step was asked for are not acted on."""
        filled = [c for c in LATER_STEPS[status] if text(self.out.values.get(c))]
        if "decision" in filled:
            filled.insert(filled.index("decision") + 1, "comment")
        if not filled:
            return
        typed_decision = text(self.out.values.get("decision"))
        routine = (
            "decision" in filled
            and self.state.decided is not None
            and typed_decision == self.state.decided
        )
        early = [c for c in filled if not (routine and c in ("decision", "comment"))]
        early = [c for c in early if text(self.out.values.get(c))]
        if early:
            fields_ = ", ".join(
                self.ctx.say(
                    "quoted_field", label=self.ctx.header(c), value=text(self.out.values.get(c))
                )
                for c in early
            )
            self.notices.append(self.ctx.say(message, fields=fields_))
        self.clear(filled, "not_acted_on" if early else "cleared")


check_definition(
    TRANSITIONS, step=InvoiceStep, recipients=RECIPIENTS, missing_locales=missing_locales
)
