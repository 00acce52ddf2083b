"""The invoice state machine, declared as a table; the README diagram is generated from it.

Each transition names its guard and its effect, methods of `functions.invoices.step.InvoiceStep`
(as python-statemachine names `cond=`); its emails are rules in `invoice_emails.RECIPIENTS`.
A new transition is a row here plus the two methods it names: `check_definition` refuses, at
import, a row whose guard, effect, recipient rule or email template is missing.
"""

from __future__ import annotations

from collections.abc import Callable, Collection
from dataclasses import dataclass

STATUSES = (
    "new",
    "awaiting_decision",
    "rework",
    "awaiting_accountant",
    "in_payment",
    "awaiting_closing_docs",
    "closed",
)
INITIAL = "new"
FINAL = frozenset({"closed"})


class InvalidDefinition(Exception):
    """The machine is broken: an unreachable status, a dead end, a bad name, a missing piece."""


@dataclass(frozen=True)
class Transition:
    trigger: str
    source: str
    target: str
    when: str
    by: str  # the column naming who made it happen
    emails: tuple[str, ...] = ()
    # A call to action is pointless if the row moves on in the same tick (already decided).
    call_to_action: bool = False
    guard: str = ""  # the step's method that says whether it may fire now
    effect: str = ""  # the step's method that moves the row (state, cells, locks, notices)


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submitted",
        "new",
        "awaiting_decision",
        "required fields valid and a Signer chosen",
        "manager",
        ("signer_request",),
        call_to_action=True,
        guard="fields_valid_and_signer_chosen",
        effect="ask_signer",
    ),
    # Order matters where a status has several ways out: the first whose guard holds fires,
    # so a changed Signer or changed values are dealt with before any decision counts.
    Transition(
        "signer_changed",
        "awaiting_decision",
        "awaiting_decision",
        "Signer changed (the new signer is asked)",
        "manager",
        ("signer_request", "signer_replaced"),
        call_to_action=True,
        guard="another_signer_chosen",
        effect="ask_new_signer",
    ),
    Transition(
        "updated",
        "awaiting_decision",
        "awaiting_decision",
        "invoice values changed (the signer is asked again)",
        "manager",
        ("signer_request",),
        call_to_action=True,
        guard="values_changed_since_asked",
        effect="ask_again_with_changes",
    ),
    Transition(
        "sent_to_rework",
        "awaiting_decision",
        "rework",
        "Decision = Rework with a Comment",
        "signer",
        ("rework_to_manager",),
        guard="asked_signer_sends_to_rework",
        effect="send_to_rework",
    ),
    Transition(
        "resubmitted",
        "rework",
        "awaiting_decision",
        "Invoice file changed (new scan)",
        "manager",
        ("signer_request",),
        call_to_action=True,
        guard="new_scan_attached",
        effect="ask_signer",
    ),
    Transition(
        "approved",
        "awaiting_decision",
        "awaiting_accountant",
        "Decision = Approve",
        "signer",
        ("accountants_approved",),
        call_to_action=True,
        guard="asked_signer_approves",
        effect="approve",
    ),
    Transition(
        "reopened",
        "awaiting_accountant",
        "awaiting_decision",
        "an approved value changed (needs a new decision)",
        "manager",
        ("signer_request", "approval_void"),
        call_to_action=True,
        guard="approved_values_changed",
        effect="reopen",
    ),
    Transition(
        "withdrawn",
        "awaiting_accountant",
        "rework",
        "approval withdrawn: Decision = Rework with a Comment",
        "signer",
        ("rework_to_manager", "approval_void"),
        guard="signer_withdraws_with_comment",
        effect="send_to_rework",
    ),
    Transition(
        "claimed",
        "awaiting_accountant",
        "in_payment",
        "an accountant writes their name (first wins, cell locked)",
        "accountant",
        ("supplier_in_payment",),
        guard="accountant_claims",
        effect="claim",
    ),
    Transition(
        "reopened",
        "in_payment",
        "awaiting_decision",
        "an approved value changed before payment (needs a new decision)",
        "manager",
        ("signer_request", "approval_void"),
        call_to_action=True,
        guard="approved_values_changed",
        effect="reopen",
    ),
    Transition(
        "paid",
        "in_payment",
        "awaiting_closing_docs",
        "Paid on set",
        "accountant",
        ("manager_paid",),
        guard="paid_on_valid",
        effect="record_payment",
    ),
    Transition(
        "closed",
        "awaiting_closing_docs",
        "closed",
        "Closing docs attached",
        "manager",
        ("closed",),
        guard="closing_docs_attached",
        effect="close",
    ),
)


def outgoing(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status]


def check_definition(
    transitions: tuple[Transition, ...] = TRANSITIONS,
    *,
    step: type | None = None,
    recipients: Collection[str] | None = None,
    missing_locales: Callable[[str], list[str]] | None = None,
) -> None:
    """Fail at import, not when a row hits it: every status reachable, only finals are ends;
    given the step class, the recipients table and the template lookup, every transition's
    guard and effect exist and every email it sends has a recipient rule and a template."""
    _check_graph(transitions)
    if step is not None:
        _check_methods(transitions, step)
    for t in transitions:
        for email in t.emails:
            if recipients is not None and email not in recipients:
                raise InvalidDefinition(f"{t.trigger}: email {email} has no recipient rule")
            if missing_locales is not None and (missing := missing_locales(email)):
                raise InvalidDefinition(f"{t.trigger}: email {email} has no template in {missing}")


def _check_graph(transitions: tuple[Transition, ...]) -> None:
    names = set(STATUSES)
    for t in transitions:
        if t.source not in names or t.target not in names:
            raise InvalidDefinition(f"{t.trigger}: unknown status {t.source} → {t.target}")
        if t.source in FINAL:
            raise InvalidDefinition(f"{t.trigger}: leaves final status {t.source}")
    reached, frontier = {INITIAL}, [INITIAL]
    while frontier:
        status = frontier.pop()
        for t in transitions:
            if t.source == status and t.target not in reached:
                reached.add(t.target)
                frontier.append(t.target)
    if unreachable := names - reached:
        raise InvalidDefinition(f"unreachable statuses: {sorted(unreachable)}")
    dead_ends = {s for s in names - FINAL if not any(t.source == s for t in transitions)}
    if dead_ends:
        raise InvalidDefinition(f"statuses with no way out: {sorted(dead_ends)}")


def _check_methods(transitions: tuple[Transition, ...], step: type) -> None:
    for t in transitions:
        for kind, name in (("guard", t.guard), ("effect", t.effect)):
            if not name:
                raise InvalidDefinition(f"{t.trigger}: no {kind}")
            if name.startswith("_") or not callable(getattr(step, name, None)):
                raise InvalidDefinition(
                    f"{t.trigger}: {kind} {name} is not a method of {step.__name__}"
                )


def mermaid(labels: dict[str, str]) -> str:
    """A Mermaid state diagram of the table, with the sheet's status names."""
    ids = {status: status.replace("_", "") for status in STATUSES}
    lines = ["stateDiagram-v2"]
    lines += [f"    {ids[s]} : {labels[s]}" for s in STATUSES]
    lines.append(f"    [*] --> {ids[INITIAL]}")
    lines += [f"    {ids[t.source]} --> {ids[t.target]} : {t.when}" for t in TRANSITIONS]
    lines += [f"    {ids[s]} --> [*]" for s in STATUSES if s in FINAL]
    return "\n".join(lines)


check_definition()
