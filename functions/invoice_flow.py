"""The invoice flow: a pure function of (row, snapshot, people, settings, now) → a row plan.

No I/O here. The engine feeds in what was read and applies what comes out.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from .directory import Person
from .flow_context import FlowContext
from .model import EmailIntent, LogEntry, Recipient, SheetRow, Stored, stored
from .parsing import format_money, parse_amount, parse_date, parse_email, same_text, text
from .transitions import TRANSITIONS, Transition, outgoing
from .typed_values import settle_typed_values

FLOW = "invoice"
_CHAIN_LIMIT = len(TRANSITIONS)  # a row can move at most this many steps in one tick


@dataclass
class InvoiceState:
    """What the flow remembers about a row beyond its cells (kept in the snapshot)."""

    status: str = "new"
    round: int = 0  # how many times the invoice was sent to a signer
    reworks: int = 0
    signer: str | None = None
    rework_file: str | None = None
    accountant: str | None = None  # the locked claim: first write wins
    notice: str | None = None  # a one-off explanation kept in the Note until the next move
    submitted_at: str | None = None
    approved_at: str | None = None
    paid_at: str | None = None
    closed_at: str | None = None

    @classmethod
    def from_json(cls, data: dict[str, Any] | None) -> InvoiceState:
        return cls(**data) if data else cls()

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RowOutcome:
    record: str
    values: dict[str, Stored]
    state: InvoiceState
    writes: dict[str, Stored] = field(default_factory=dict)
    locks: list[tuple[str, bool]] = field(default_factory=list)
    emails: list[EmailIntent] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    transitions: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    note: str | None = None
    read: dict[str, Stored] = field(default_factory=dict)  # the cells as read, for compare-and-set
    labels: dict[str, str] = field(default_factory=dict)  # status key → the sheet's word

    def set(self, column: str, value: Stored) -> None:
        """Write a cell (only if it changes) and keep `values` as the sheet will be."""
        if self.values.get(column) != value:
            self.writes[column] = value
            self.values[column] = value


def check_fields(values: dict[str, Stored], ctx: FlowContext) -> list[str]:
    """Problems with the manager's part of the row, in plain words."""
    checks: list[tuple[str, Callable[[Stored, str, str], tuple[object, str | None]]]] = [
        ("supplier_email", parse_email),
        ("invoice_date", parse_date),
        ("amount", parse_amount),
    ]
    required = (
        "manager",
        "supplier",
        "supplier_email",
        "invoice_no",
        "invoice_date",
        "amount",
        "invoice_file",
    )
    missing = [ctx.header(k) for k in required if not text(values.get(k))]
    problems = [ctx.say("fill_in", fields=", ".join(missing))] if missing else []
    manager = values.get("manager")
    if text(manager) and ctx.people.find(manager, "manager") is None:
        problems.append(
            ctx.say(
                "not_active_person",
                label=ctx.header("manager"),
                value=text(manager),
                role=ctx.role("manager"),
            )
        )
    for column, parse in checks:
        if text(values.get(column)):
            _, problem = parse(values.get(column), ctx.header(column), ctx.locale)
            if problem:
                problems.append(problem)
    return problems


def _invoice_context(record: str, values: dict[str, Stored], ctx: FlowContext) -> dict[str, str]:
    amount, _ = parse_amount(values.get("amount"), "", ctx.locale)
    invoice_date, _ = parse_date(values.get("invoice_date"), "")
    paid_on, _ = parse_date(values.get("paid_on"), "")
    shown = {key: text(value) for key, value in values.items()}
    shown.update(
        id=record,
        amount=format_money(amount) if isinstance(amount, Decimal) else shown.get("amount", ""),
        currency=shown.get("currency") or ctx.settings.currency,
        invoice_date=invoice_date.isoformat() if isinstance(invoice_date, date) else "",
        paid_on=paid_on.isoformat() if isinstance(paid_on, date) else "",
    )
    for column, role in (
        ("manager", "manager"),
        ("signer", "director"),
        ("accountant", "accountant"),
    ):
        person = ctx.people.find(values.get(column), role)
        if person is not None:  # named as written in People, not as typed (`иван петров`)
            shown[column] = person.name
    return shown


class _Row:
    """One row's evaluation: guards read the effective values, effects fill the outcome."""

    def __init__(
        self, record: str, row: SheetRow, previous: Mapping[str, Any] | None, ctx: FlowContext
    ) -> None:
        self.record, self.ctx = record, ctx
        self.before: dict[str, Stored] = dict((previous or {}).get("values") or {})
        self.state = InvoiceState.from_json((previous or {}).get("state"))
        cells = {k: stored(v) for k, v in row.values.items()}
        self.out = RowOutcome(
            record, dict(cells), self.state, read=cells, labels=ctx.schema.labels_for(ctx.locale)
        )
        self.problems: list[str] = []  # why the row cannot move on (re-checked each step)
        self.effect_problems: list[str] = []  # what went wrong while moving it
        self.is_new = previous is None

    # -- people ------------------------------------------------------------------------
    def person(self, column: str, role: str) -> Person | None:
        return self.ctx.people.find(self.out.values.get(column), role)

    def manager(self) -> Person | None:
        typed = self.out.values.get("manager")
        return self.ctx.people.find(typed, "manager") or next(
            (p for p in self.ctx.people.people if same_text(p.name, typed)), None
        )

    # -- guards ------------------------------------------------------------------------
    def can(self, t: Transition) -> Person | None | bool:
        """Whether `t` may fire now; records why not in `problems`."""
        v = self.out.values
        if t.trigger == "submitted":
            field_problems = check_fields(v, self.ctx)
            self.problems += field_problems
            signer = self.person("signer", "director")
            if signer is None:
                self.problems.append(self._unknown("signer", "director"))
            return bool(signer) and not field_problems
        decision = self.ctx.schema.choice_key("decisions", text(v.get("decision")))
        if t.trigger == "approved":
            if text(v.get("decision")) and decision is None:
                self.problems.append(
                    self.ctx.say(
                        "bad_decision",
                        label=self.ctx.header("decision"),
                        value=text(v.get("decision")),
                        approve=self.ctx.word("decisions", "approve"),
                        rework=self.ctx.word("decisions", "rework"),
                    )
                )
            return decision == "approve"
        if t.trigger == "sent_to_rework":
            if decision == "rework" and not text(v.get("comment")):
                self.problems.append(self.ctx.say("rework_needs_comment"))
            return decision == "rework" and bool(text(v.get("comment")))
        if t.trigger == "resubmitted":
            return bool(text(v.get("invoice_file"))) and text(v.get("invoice_file")) != (
                self.state.rework_file or ""
            )
        if t.trigger == "claimed":
            accountant = self.person("accountant", "accountant")
            if text(v.get("accountant")) and accountant is None:
                self.problems.append(self._unknown("accountant", "accountant"))
            return accountant is not None
        if t.trigger == "paid":
            return self._paid_on_ok()
        if t.trigger == "closed":
            return bool(text(v.get("closing_docs")))
        raise AssertionError(f"no guard for {t.trigger}")  # check_definition keeps this unreachable

    def _unknown(self, column: str, role: str) -> str:
        typed = text(self.out.values.get(column))
        if not typed:
            return self.ctx.say("choose_signer", role=self.ctx.role(role))
        return self.ctx.say(
            "not_active_person",
            label=self.ctx.header(column),
            value=typed,
            role=self.ctx.role(role),
        )

    def _paid_on_ok(self) -> bool:
        typed = self.out.values.get("paid_on")
        if not text(typed):
            return False
        paid_on, problem = parse_date(typed, self.ctx.header("paid_on"), self.ctx.locale)
        if problem or not isinstance(paid_on, date):
            self.problems.append(problem or "")
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

    # -- effects -----------------------------------------------------------------------
    def fire(self, t: Transition) -> list[EmailIntent]:
        s, now = self.state, self.ctx.now.isoformat(timespec="seconds")
        actor = self.actor(t)
        self.out.log.append(
            self.ctx.log(
                self.record,
                "transition",
                from_=self.ctx.label(t.source),
                to=self.ctx.label(t.target),
                by=actor,
                details=t.when,
            )
        )
        self.out.transitions.append((t.source, t.target))
        s.status, s.notice = t.target, None
        if t.trigger in ("submitted", "resubmitted"):
            if t.trigger == "resubmitted":
                self._clear_decision()
            s.round += 1
            s.signer = text(self.out.values.get("signer"))
            s.submitted_at = s.submitted_at or now
        elif t.trigger == "sent_to_rework":
            s.reworks += 1
            s.rework_file = text(self.out.values.get("invoice_file"))
        elif t.trigger == "approved":
            s.approved_at = now
        elif t.trigger == "claimed":
            s.accountant = text(self.out.values.get("accountant"))
            self.out.locks.append(("accountant", True))
        elif t.trigger == "paid":
            s.paid_at = now
        elif t.trigger == "closed":
            s.closed_at = now
        return [e for name in t.emails for e in self.emails_for(name)]

    def actor(self, t: Transition) -> str:
        return text(self.out.values.get(t.by))

    def _clear_decision(self) -> None:
        old = [
            f"{self.ctx.header(c)}: {text(self.out.values.get(c))}"
            for c in ("decision", "comment")
            if text(self.out.values.get(c))
        ]
        self.out.log.append(self.ctx.log(self.record, "cleared", details="; ".join(old)))
        self.out.set("decision", None)
        self.out.set("comment", None)

    def emails_for(self, template: str) -> list[EmailIntent]:
        v, s = self.out.values, self.state
        if template == "signer_request":
            targets = [(self.person("signer", "director"), f"r{s.round}")]
        elif template == "rework_to_manager":
            targets = [(self.manager(), f"r{s.reworks}")]
        elif template == "accountants_approved":
            targets = [(p, "1") for p in self.ctx.people.active("accountant")]
        elif template == "supplier_in_payment":
            email = text(v.get("supplier_email"))
            targets = [(Person(text(v.get("supplier")), email, "supplier", True), "1")]
        elif template == "manager_paid":
            targets = [(self.manager(), "1")]
        else:  # closed: the manager and the accountant who paid
            targets = [(self.manager(), "1"), (self.person("accountant", "accountant"), "1")]
        intents = []
        for person, round_ in targets:
            if person is None:
                self.effect_problems.append(self.ctx.say("no_email_address", what=template))
                continue
            key = f"{FLOW}:{self.record}:{template}:{round_}:{person.email.casefold()}"
            context = {
                "company": self.ctx.settings.company,
                "recipient_name": person.name,
                "invoice": _invoice_context(self.record, v, self.ctx),
            }
            intents.append(
                EmailIntent(
                    key=key,
                    template=template,
                    to=(Recipient(person.name, person.email),),
                    context=context,
                    record=self.record,
                    reply_to=self.reply_to(template),
                )
            )
        return intents

    def reply_to(self, template: str) -> tuple[Recipient, ...]:
        """Whoever can act on a reply: a supplier's answer reaches the manager (or Settings
        Reply to), a signer's question the manager, a manager's the signer or accountant."""
        reply_to = self.ctx.settings.reply_to
        if template == "supplier_in_payment" and reply_to:
            return (Recipient(self.ctx.settings.company, reply_to),)
        if template == "rework_to_manager":
            person = self.person("signer", "director")
        elif template == "manager_paid":
            person = self.person("accountant", "accountant")
        else:
            person = self.manager()
        return (person.recipient,) if person is not None else ()

    # -- protection of automation-owned and locked cells --------------------------------
    def restore_protected(self) -> None:
        if self.is_new:
            return
        automation = self.ctx.schema.tab("invoices").automation_keys - {"id"}
        for column in sorted(automation):
            self._restore(column, self.before.get(column))
        if self.state.accountant and text(self.out.values.get("accountant")) != text(
            self.before.get("accountant")
        ):
            self._restore("accountant", self.before.get("accountant"))

    def _restore(self, column: str, kept: Stored) -> None:
        typed = self.out.values.get(column)
        if typed == kept:
            return
        header = self.ctx.header(column)
        why = (
            self.ctx.say("locked_by", label=header, kept=text(kept))
            if column == "accountant"
            else self.ctx.say("automation_cell", label=header)
        )
        notice = self.ctx.say("restored", why=why, typed=text(typed), kept=text(kept))
        self.out.conflicts.append(notice)
        self.out.log.append(
            self.ctx.log(
                self.record, "conflict", from_=text(typed), to=text(kept), by=header, details=notice
            )
        )
        self.out.set(column, kept)
        self.state.notice = notice


def plan_invoice(
    record: str, row: SheetRow, previous: Mapping[str, Any] | None, ctx: FlowContext
) -> RowOutcome:
    """Move one invoice row as far as its cells allow, and say what to write, send and log."""
    r = _Row(record, row, previous, ctx)
    if r.is_new:
        r.out.log.append(
            ctx.log(record, "created", to=ctx.label("new"), by=text(r.out.values.get("manager")))
        )
        r.out.transitions.append(("", "new"))
    r.restore_protected()
    moved: list[tuple[Transition, list[EmailIntent]]] = []
    for _ in range(_CHAIN_LIMIT):
        r.problems = []
        step = next((t for t in outgoing(r.state.status) if r.can(t)), None)
        if step is None:
            break
        moved.append((step, r.fire(step)))
    if r.state.status not in ("new",):
        r.problems += [p for p in check_fields(r.out.values, ctx) if p not in r.problems]
    for index, (step, emails) in enumerate(moved):
        superseded = index < len(moved) - 1 and step.call_to_action
        if not superseded:
            r.out.emails += emails
    settled, typed_log = settle_typed_values(record, r.out.values, r.state.status, ctx)
    for column, value in settled.items():  # amounts as numbers, dates as dates; text in the Log
        r.out.set(column, value)
    r.out.log += typed_log
    _finish(r, bool(moved))
    return r.out


def _finish(r: _Row, moved: bool) -> None:
    ctx, out = r.ctx, r.out
    out.set("status", ctx.label(r.state.status))
    if moved or r.is_new:
        out.set("updated", ctx.local_now.strftime("%Y-%m-%d %H:%M"))
    notice = [r.state.notice] if r.state.notice else []
    parts = [p for p in notice + r.problems + r.effect_problems if p]
    note = ". ".join(dict.fromkeys(parts)) or None
    if note != out.values.get("note") and note and not out.conflicts:
        out.log.append(ctx.log(r.record, "problem", details=note))
    out.set("note", note)
    out.note = note
    for intent in out.emails:
        out.log.append(
            ctx.log(
                r.record, "email", to=", ".join(p.email for p in intent.to), details=intent.template
            )
        )
