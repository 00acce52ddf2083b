"""The invoice flow: a pure function of (row, snapshot, people, settings, now) → a row plan.

No I/O here. The engine feeds in what was read and applies what comes out. The controls
finance relies on live here too: a decision binds to the values it was made on, counts only
when made after the signer was asked, and paid values never change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from datetime import date, datetime
from typing import Any

from functions.controls import BOUND_COLUMNS, LATER_STEPS, Bound, bound_values, changes
from functions.directory import Person
from functions.flow_context import FlowContext
from functions.invoice_checks import check_fields, duplicate_problem, paid_on_problem
from functions.invoice_emails import emails_for
from functions.model import EmailIntent, LogEntry, SheetRow, Stored, stored
from functions.text.messages import problem_text
from functions.text.parsing import parse_date, text
from functions.transitions import TRANSITIONS, Transition, outgoing
from functions.typed_values import settle_typed_values

FLOW = "invoice"
_CHAIN_LIMIT = len(TRANSITIONS)  # a row can move at most this many steps in one tick
_AFTER_CLAIM = ("in_payment", "awaiting_closing_docs", "closed")
_AFTER_PAYMENT = ("awaiting_closing_docs", "closed")
_APPROVED = ("awaiting_accountant", *_AFTER_CLAIM)
# Others that look like the same supplier invoice: [(ID, status as shown)].
Duplicates = Callable[[str, Mapping[str, Stored]], list[tuple[str, str]]]
Lock = tuple[str, bool, tuple[str, ...]]  # column, locked, who besides sheetflow may edit


def _no_duplicates(record: str, values: Mapping[str, Stored]) -> list[tuple[str, str]]:
    return []


@dataclass
class InvoiceState:
    """What the flow remembers about a row beyond its cells (kept in the snapshot)."""

    status: str = "new"
    round: int = 0  # how many requests went to a signer (each one a new decision)
    reworks: int = 0
    signer: str | None = None
    rework_file: str | None = None
    accountant: str | None = None  # the locked claim: first write wins
    notice: str | None = None  # a one-off explanation kept in the Note until the next move
    submitted_at: str | None = None
    approved_at: str | None = None
    paid_at: str | None = None
    closed_at: str | None = None
    requested: Bound | None = None  # the values the signer was last asked about
    approved: Bound | None = None  # the values the signer approved (what may be paid)
    decided: str | None = None  # the Decision acted on last (cleared quietly next round)
    distinct_from: list[str] = field(default_factory=list)  # confirmed: not a duplicate of

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> InvoiceState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RowOutcome:
    record: str
    values: dict[str, Stored]
    state: InvoiceState
    writes: dict[str, Stored] = field(default_factory=dict)
    locks: list[Lock] = field(default_factory=list)
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


class _Row:
    """One row's evaluation: guards read the effective values, effects fill the outcome."""

    def __init__(
        self,
        record: str,
        row: SheetRow,
        previous: Mapping[str, Any] | None,
        ctx: FlowContext,
        duplicates: Duplicates,
    ) -> None:
        self.record, self.ctx, self.duplicates = record, ctx, duplicates
        self.before: dict[str, Stored] = dict((previous or {}).get("values") or {})
        self.state = InvoiceState.from_json((previous or {}).get("state"))
        cells = {k: stored(v) for k, v in row.values.items()}
        self.out = RowOutcome(
            record, dict(cells), self.state, read=cells, labels=ctx.schema.labels_for(ctx.locale)
        )
        self.problems: list[str] = []  # why the row cannot move on (re-checked each step)
        self.effect_problems: list[str] = []  # what went wrong while moving it
        self.notices: list[str] = []  # what this tick did that people must know
        self.restored: set[str] = set()
        self.previous_signer: Person | None = None
        self.is_new = previous is None
        if self.is_new and (read_from_file := ctx.notices.get(record)):
            self.notices.append(read_from_file)  # a row made from a file in the invoices folder
        self._bind_legacy()

    def _bind_legacy(self) -> None:
        """Snapshots from before approvals were bound: bind to the values last seen."""
        s = self.state
        if self.is_new:
            return
        if s.status in _APPROVED and s.approved is None:
            s.approved = self.bound(self.before)
        if s.status == "awaiting_decision" and s.requested is None:
            s.requested = self.bound(self.before)

    # -- helpers -----------------------------------------------------------------------
    def bound(self, values: Mapping[str, Stored] | None = None) -> Bound:
        return bound_values(self.out.values if values is None else values, self.currency)

    @property
    def currency(self) -> str:
        return self.ctx.settings.currency

    def person(self, column: str, role: str) -> Person | None:
        return self.ctx.people.find(self.out.values.get(column), role)

    def decision(self) -> str | None:
        return self.ctx.schema.choice_key("decisions", text(self.out.values.get("decision")))

    def said_changes(self, before: Bound | None) -> list[dict[str, str]]:
        return [
            {"label": self.ctx.header(c), "old": old, "new": new}
            for c, old, new in changes(before, self.bound(), self.ctx.locale)
        ]

    def change_text(self, before: Bound | None) -> str:
        return ", ".join(self.ctx.say("change_item", **c) for c in self.said_changes(before))

    # -- guards ------------------------------------------------------------------------
    def can(self, t: Transition) -> bool:  # noqa: C901 - one branch per trigger, flat
        """Whether `t` may fire now; records why not in `problems`."""
        s, v = self.state, self.out.values
        if t.trigger == "submitted":
            field_problems = check_fields(v, self.ctx)
            self.problems += field_problems
            signer = self.person("signer", "director")
            if signer is None:
                self.problems.append(self._unknown("signer", "director"))
            if field_problems or signer is None:
                return False
            return self._not_a_duplicate()
        if t.trigger == "signer_changed":
            signer = self.person("signer", "director")
            if signer is None:
                self.problems.append(self._unknown("signer", "director"))
                return False
            return signer != self.ctx.people.find(s.signer, "director")
        if t.trigger == "updated":
            asked = self._asked_signer() is not None
            return asked and s.requested is not None and self.bound() != s.requested
        if t.trigger == "reopened":
            return s.approved is not None and self.bound() != s.approved
        decision = self.decision()
        if t.source == "awaiting_decision" and self._asked_signer() is None:
            return False  # a decision counts only from the signer who was asked
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
        if t.trigger in ("sent_to_rework", "withdrawn"):
            if decision == "rework" and not text(v.get("comment")):
                self.problems.append(self.ctx.say("rework_needs_comment"))
            return decision == "rework" and bool(text(v.get("comment")))
        if t.trigger == "resubmitted":
            scan = text(v.get("invoice_file"))
            return bool(scan) and scan != s.rework_file
        if t.trigger == "claimed":
            if decision != "approve":
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
            if text(v.get("accountant")) and accountant is None:
                self.problems.append(self._unknown("accountant", "accountant"))
            return accountant is not None
        if t.trigger == "paid":
            return self._paid_on_ok()
        if t.trigger == "closed":
            return bool(text(v.get("closing_docs")))
        raise AssertionError(f"no guard for {t.trigger}")  # check_definition keeps this unreachable

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

    # -- effects -----------------------------------------------------------------------
    def fire(self, t: Transition) -> list[EmailIntent]:
        s, now = self.state, self.ctx.now.isoformat(timespec="seconds")
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
        context: dict[str, Any] = {}
        if t.trigger == "reopened":
            context["changes"] = self.said_changes(s.approved)
            self.notices.append(
                self.ctx.say("changed_after_approval", changes=self.change_text(s.approved))
            )
            self._release_claim()
        elif t.trigger == "updated":
            context["changes"] = self.said_changes(s.requested)
            self.notices.append(
                self.ctx.say("changed_while_awaiting", changes=self.change_text(s.requested))
            )
        elif t.trigger == "signer_changed":
            self.previous_signer = self.ctx.people.find(s.signer, "director")
            new = self.person("signer", "director")
            assert new is not None  # the guard fires only for an active director
            if self.previous_signer is None:  # nobody could be asked before: nobody to tell
                self.notices.append(self.ctx.say("signer_chosen", new=new.name))
            else:
                self.notices.append(
                    self.ctx.say("signer_replaced", old=self.ctx.name_of(s.signer), new=new.name)
                )
        s.status, s.notice = t.target, None
        if t.target == "awaiting_decision":
            self._ask_signer(now)
        elif t.trigger in ("sent_to_rework", "withdrawn"):
            s.reworks += 1
            s.rework_file = text(self.out.values.get("invoice_file"))
            s.decided = text(self.out.values.get("decision"))
            s.approved, s.approved_at = None, None
        elif t.trigger == "approved":
            s.approved_at, s.approved = now, self.bound()
            s.decided = text(self.out.values.get("decision"))
            self._clear_early("awaiting_accountant", "early_before_approval")
        elif t.trigger == "claimed":
            s.accountant = text(self.out.values.get("accountant"))
            self.out.locks += [("accountant", True, ()), ("decision", True, ())]
        elif t.trigger == "paid":
            s.paid_at = now
        elif t.trigger == "closed":
            s.closed_at = now
            # Closed invoices keep no protection: the number of protected ranges stays bounded.
            self.out.locks += [(c, False, ()) for c in ("decision", "comment", "accountant")]
        return [e for name in t.emails for e in emails_for(self, name, context.get("changes", []))]

    def _ask_signer(self, now: str) -> None:
        s = self.state
        self._clear_early("awaiting_decision", "early_before_signer")
        s.round += 1
        s.signer = text(self.out.values.get("signer"))
        s.requested = self.bound()
        s.submitted_at = s.submitted_at or now
        signer = self.person("signer", "director")
        editors = (signer.email,) if signer else ()
        self.out.locks += [("decision", True, editors), ("comment", True, editors)]

    def _release_claim(self) -> None:
        """Values changed after approval: the claim goes with the approval it was made on."""
        s = self.state
        s.approved, s.approved_at = None, None
        if s.accountant:
            self._clear(["accountant"])
            s.accountant = None
            self.out.locks.append(("accountant", False, ()))

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
        self._clear(filled, "not_acted_on" if early else "cleared")

    def _clear(self, columns: list[str], event: str = "cleared") -> None:
        old = [
            f"{self.ctx.header(c)}: {text(self.out.values.get(c))}"
            for c in columns
            if text(self.out.values.get(c))
        ]
        if old:
            self.out.log.append(self.ctx.log(self.record, event, details="; ".join(old)))
        for column in columns:
            self.out.set(column, None)

    # -- protection of automation-owned, locked and paid cells -----------------------------
    def restore_protected(self) -> None:
        if self.is_new:
            return
        s = self.state
        automation = self.ctx.schema.tab("invoices").automation_keys - {"id"}
        for column in sorted(automation):
            self._restore(column, "automation_cell")
        if s.accountant:
            self._restore("accountant", "locked_by")
        if s.status in _AFTER_CLAIM:
            self._restore("decision", "decision_locked")
        if s.status in _AFTER_PAYMENT and s.approved is not None:
            now = self.bound()
            for column in BOUND_COLUMNS:
                if now[column] != s.approved.get(column, now[column]):
                    self._restore(column, "paid_values_locked")

    def _restore(self, column: str, reason: str) -> None:
        typed, kept = self.out.values.get(column), self.before.get(column)
        if typed == kept:
            return
        header = self.ctx.header(column)
        typed_shown = self.ctx.shown("invoices", column, typed)
        kept_shown = self.ctx.shown("invoices", column, kept)
        why = self.ctx.say(
            reason,
            label=header,
            kept=kept_shown,
            accountant=self.ctx.name_of(self.state.accountant, "accountant"),
        )
        notice = self.ctx.say("restored", why=why, typed=typed_shown, kept=kept_shown)
        self.out.conflicts.append(notice)
        self.out.log.append(
            self.ctx.log(
                self.record, "conflict", from_=typed_shown, to=kept_shown, by=header, details=notice
            )
        )
        self.out.set(column, kept)
        self.restored.add(column)
        self.notices.append(notice)

    def log_edits(self) -> None:
        """Every change people made to a watched column is a Log row, old → new."""
        if self.is_new:
            return
        automation = self.ctx.schema.tab("invoices").automation_keys
        for column, typed in self.out.read.items():
            before = self.before.get(column)
            if column in automation or column in self.restored or typed == before:
                continue
            self.out.log.append(
                self.ctx.log(
                    self.record,
                    "edited",
                    from_=self.ctx.shown("invoices", column, before),
                    to=self.ctx.shown("invoices", column, typed),
                    details=self.ctx.header(column),
                )
            )


def plan_invoice(
    record: str,
    row: SheetRow,
    previous: Mapping[str, Any] | None,
    ctx: FlowContext,
    duplicates: Duplicates = _no_duplicates,
) -> RowOutcome:
    """Move one invoice row as far as its cells allow, and say what to write, send and log."""
    r = _Row(record, row, previous, ctx, duplicates)
    if r.is_new:
        r.out.log.append(
            ctx.log(
                record,
                "created",
                to=ctx.label("new"),
                by=ctx.name_of(r.out.values.get("manager")),
            )
        )
        r.out.transitions.append(("", "new"))
    r.restore_protected()
    r.log_edits()
    moved: list[tuple[Transition, list[EmailIntent]]] = []
    for _ in range(_CHAIN_LIMIT):
        r.problems = []
        step = next((t for t in outgoing(r.state.status) if r.can(t)), None)
        if step is None:
            break
        moved.append((step, r.fire(step)))
    if r.state.status != "new":
        r.problems += [p for p in check_fields(r.out.values, ctx) if p not in r.problems]
    if problem := paid_on_problem(r.state.status, r.out.values, ctx):
        r.problems.append(problem)
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
    if r.notices:
        r.state.notice = ". ".join(dict.fromkeys(r.notices))
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
                r.record,
                "email",
                to=", ".join(ctx.name_of(p.email) for p in intent.to),
                details=ctx.email_kind(intent.template),
            )
        )
