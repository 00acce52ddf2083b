"""One invoice row under evaluation: restored from its snapshot, its protected cells put back,
people's edits logged. The step (`invoice_step.InvoiceStep`) moves it on from here."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.controls import BOUND_COLUMNS, Bound, bound_values, changes
from functions.directory import Person
from functions.flow_context import FlowContext
from functions.invoices.state import (
    AFTER_CLAIM,
    AFTER_PAYMENT,
    APPROVED,
    Duplicates,
    InvoiceState,
    RowOutcome,
)
from functions.model import SheetRow, Stored, entry_state, entry_values, stored
from functions.text.parsing import text


class InvoiceRow:
    """The row's values as the sheet will be (`out`), its state, and what the tick must say."""

    def __init__(
        self,
        record: str,
        row: SheetRow,
        previous: Mapping[str, Any] | None,
        ctx: FlowContext,
        duplicates: Duplicates,
    ) -> None:
        self.record, self.ctx, self.duplicates = record, ctx, duplicates
        self.before: dict[str, Stored] = dict(entry_values(previous)) if previous else {}
        self.state = InvoiceState.from_json(entry_state(previous))
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
        if s.status in APPROVED and s.approved is None:
            s.approved = self.bound(self.before)
        if s.status == "awaiting_decision" and s.requested is None:
            s.requested = self.bound(self.before)

    # -- what guards and effects read --------------------------------------------------
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

    def unknown_person(self, column: str, role: str) -> str:
        typed = text(self.out.values.get(column))
        if not typed:
            return self.ctx.say("choose_signer", role=self.ctx.role(role))
        return self.ctx.say(
            "not_active_person",
            label=self.ctx.header(column),
            value=typed,
            role=self.ctx.role(role),
        )

    def clear(self, columns: list[str], event: str = "cleared") -> None:
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
        if s.status in AFTER_CLAIM:
            self._restore("decision", "decision_locked")
        if s.status in AFTER_PAYMENT and s.approved is not None:
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
