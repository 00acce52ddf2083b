"""The invoice state machine, declared as a table; the README diagram is generated from it."""

from __future__ import annotations

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
    """The transition table is broken (an unreachable status, a dead end, a bad name)."""


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


TRANSITIONS: tuple[Transition, ...] = (
    Transition(
        "submitted",
        "new",
        "awaiting_decision",
        "required fields valid and a Signer chosen",
        "manager",
        ("signer_request",),
        call_to_action=True,
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
    ),
    Transition(
        "updated",
        "awaiting_decision",
        "awaiting_decision",
        "invoice values changed (the signer is asked again)",
        "manager",
        ("signer_request",),
        call_to_action=True,
    ),
    Transition(
        "sent_to_rework",
        "awaiting_decision",
        "rework",
        "Decision = Rework with a Comment",
        "signer",
        ("rework_to_manager",),
    ),
    Transition(
        "resubmitted",
        "rework",
        "awaiting_decision",
        "Invoice file changed (new scan)",
        "manager",
        ("signer_request",),
        call_to_action=True,
    ),
    Transition(
        "approved",
        "awaiting_decision",
        "awaiting_accountant",
        "Decision = Approve",
        "signer",
        ("accountants_approved",),
        call_to_action=True,
    ),
    Transition(
        "reopened",
        "awaiting_accountant",
        "awaiting_decision",
        "an approved value changed (needs a new decision)",
        "manager",
        ("signer_request", "approval_void"),
        call_to_action=True,
    ),
    Transition(
        "withdrawn",
        "awaiting_accountant",
        "rework",
        "approval withdrawn: Decision = Rework with a Comment",
        "signer",
        ("rework_to_manager", "approval_void"),
    ),
    Transition(
        "claimed",
        "awaiting_accountant",
        "in_payment",
        "an accountant writes their name (first wins, cell locked)",
        "accountant",
        ("supplier_in_payment",),
    ),
    Transition(
        "reopened",
        "in_payment",
        "awaiting_decision",
        "an approved value changed before payment (needs a new decision)",
        "manager",
        ("signer_request", "approval_void"),
        call_to_action=True,
    ),
    Transition(
        "paid",
        "in_payment",
        "awaiting_closing_docs",
        "Paid on set",
        "accountant",
        ("manager_paid",),
    ),
    Transition(
        "closed", "awaiting_closing_docs", "closed", "Closing docs attached", "manager", ("closed",)
    ),
)


def outgoing(status: str) -> list[Transition]:
    return [t for t in TRANSITIONS if t.source == status]


def check_definition(transitions: tuple[Transition, ...] = TRANSITIONS) -> None:
    """Fail at import, not when a row hits it: every status reachable, only finals are ends."""
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
