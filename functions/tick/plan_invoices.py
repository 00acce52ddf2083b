"""The Invoices tab's part of a tick's plan: each invoice due, new IDs, copies, the queues."""

from __future__ import annotations

import re
from collections.abc import Mapping
from itertools import chain
from typing import Any

from functions.controls import DuplicateIndex
from functions.flow_context import FlowContext
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.meta import NEXT_INVOICE_NO
from functions.model import (
    BookRead,
    CellLock,
    CellWrite,
    PlannedEntry,
    QueueView,
    SheetRow,
    SnapshotEntry,
    Stored,
    TickPlan,
    entry_deleted,
    entry_state,
    entry_values,
    planned_entry,
    stored,
)
from functions.record import same_entry
from functions.text.parsing import same_text, text
from functions.tick.diff import TableDiff, diff_table, row_values
from functions.tick.plan_rows import mark_removed

QUEUE_COLUMNS = (
    "id",
    "supplier",
    "invoice_no",
    "invoice_date",
    "amount",
    "currency",
    "invoice_file",
    "status",
    "accountant",
)
_QUEUE_STATUSES = ("awaiting_accountant", "in_payment", "awaiting_closing_docs")


def _id_number(record: str, prefix: str) -> int:
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", record)
    return int(match.group(1)) if match else 0


def plan_invoices_tab(
    read: BookRead,
    previous: Mapping[str, SnapshotEntry],
    ctx: FlowContext,
    plan: TickPlan,
    everything: bool,
) -> set[str]:
    """Plan the invoices due (all with `everything`); the records planned."""
    tab = ctx.schema.tab("invoices")
    table = read.table("invoices")
    live = {k: entry_values(v) for k, v in previous.items() if not entry_deleted(v)}
    diff = diff_table(live, table.rows, "id", table.columns)
    prefix = tab.id_prefix or ""
    # IDs already known were counted by earlier ticks; only new ones can raise the counter.
    seen = [*previous, *diff.rows] if NEXT_INVOICE_NO not in plan.meta else diff.added
    next_no = max([plan.meta.get(NEXT_INVOICE_NO, 1)] + [_id_number(r, prefix) + 1 for r in seen])
    snap_out = plan.snapshot.setdefault("invoices", {})
    due = set(diff.added) | set(diff.changed) | (set(diff.rows) if everything else set())
    asked = None if everything else [*(diff.rows[r] for r in due), *diff.unidentified]
    duplicates = _Duplicates(diff, previous, snap_out, ctx, asked)
    for record in sorted(due, key=lambda r: diff.rows[r].number):
        _apply_outcome(
            plan,
            plan_invoice(record, diff.rows[record], previous.get(record), ctx, duplicates),
            diff.rows[record].number,
            previous.get(record) is None,
        )
        if everything and record in previous and same_entry(snap_out[record], previous[record]):
            # re-planned as it was (People or Settings edited): left out as it is made, not
            # after, or 100,000 unchanged rows would all be held at once
            del snap_out[record]
    for row in diff.unidentified:
        record = f"{prefix}{next_no:06d}"
        next_no += 1
        plan.changes.writes.append(CellWrite("invoices", None, row.number, "id", record, None))
        outcome = plan_invoice(record, row, None, ctx, duplicates)
        duplicates.add(record, row)
        outcome.values["id"] = record
        _apply_outcome(plan, outcome, row.number, True)
    plan.meta[NEXT_INVOICE_NO] = next_no
    _mark_copies(diff, ctx, plan)
    mark_removed(diff, previous, ctx, plan, "invoices", "invoice")
    if snap_out or everything:
        plan.changes.queues = queue_views(read, previous, snap_out, ctx)
    return due | set(snap_out)


class _Duplicates:
    """Other invoices that look like the same supplier invoice and block this one.

    An invoice is held when an older one (a lower ID), or one already past New, carries the
    same supplier and invoice no. The index is built on first use (most ticks submit nothing)
    and holds only the invoices that look like the rows being planned, `asked`: a question
    about other values (None: every row is planned) makes it index every invoice.
    """

    _KEYS = ("supplier", "supplier_email", "invoice_no")

    def __init__(
        self,
        diff: TableDiff,
        previous: Mapping[str, SnapshotEntry],
        planned: Mapping[str, PlannedEntry | None],
        ctx: FlowContext,
        asked: list[SheetRow] | None = None,
    ) -> None:
        self.diff, self.previous, self.planned, self.ctx = diff, previous, planned, ctx
        self.asked = asked
        self.index: DuplicateIndex | None = None
        self.added: list[tuple[str, Mapping[str, Stored]]] = []  # given an ID this tick

    def status_of(self, record: str) -> str:
        entry = self.planned.get(record) or self.previous.get(record) or {}
        return str(entry_state(entry).get("status") or "new")

    def _index(self) -> DuplicateIndex:
        if self.index is None:
            rows = ((r, row_values(row, self._KEYS)) for r, row in self.diff.rows.items())
            asked = self.asked
            only = None if asked is None else (row_values(row, self._KEYS) for row in asked)
            self.index = DuplicateIndex(chain(rows, self.added), only)
        return self.index

    def add(self, record: str, row: SheetRow) -> None:
        """A row given its ID this tick: the next new row with the same invoice sees it."""
        values = row_values(row, self._KEYS)
        self._index().add(record, values)
        self.added.append((record, values))

    def __call__(self, record: str, values: Mapping[str, Stored]) -> list[tuple[str, str]]:
        if not self._index().covers(values):  # values no planned row had: look at them all
            self.asked, self.index = None, None
        found = [
            other
            for other in self._index().others(record, values)
            if other < record or self.status_of(other) != "new"
        ]
        return [(other, self.ctx.label(self.status_of(other))) for other in found]


def _apply_outcome(plan: TickPlan, out: RowOutcome, row: int, new: bool) -> None:
    for column, value in out.writes.items():
        plan.changes.writes.append(
            CellWrite("invoices", out.record, row, column, value, out.read.get(column))
        )
    plan.changes.locks += [
        CellLock("invoices", out.record, c, locked, editors) for c, locked, editors in out.locks
    ]
    plan.changes.log += out.log
    plan.emails += out.emails
    plan.transitions += [
        (out.record, out_label(out, a), out_label(out, b)) for a, b in out.transitions
    ]
    plan.conflicts += [f"{out.record}: {c}" for c in out.conflicts]
    if out.note and not out.conflicts and (new or out.writes.get("note")):
        plan.problems.append(f"{out.record}: {out.note}")
    entry = planned_entry(out.values, out.state.to_json())
    plan.snapshot.setdefault("invoices", {})[out.record] = entry


def out_label(out: RowOutcome, status: str) -> str:
    return out.labels.get(status, status) if status else ""


def _mark_copies(diff: TableDiff, ctx: FlowContext, plan: TickPlan) -> None:
    for record, rows in diff.copies.items():
        keeper = diff.rows[record].number
        for row in rows:
            note = ctx.say("copy_row", record=record, keeper=keeper)
            if text(row.get("note")) != note:
                plan.changes.writes.append(
                    CellWrite("invoices", None, row.number, "note", note, stored(row.get("note")))
                )
                plan.changes.log.append(ctx.log(record, "copy", details=note))
                plan.problems.append(ctx.say("tick_row", row=row.number, note=note))


def queue_views(
    read: BookRead,
    previous: Mapping[str, SnapshotEntry],
    updated: dict[str, PlannedEntry | None],
    ctx: FlowContext,
) -> list[QueueView]:
    """Per active accountant: approved unclaimed invoices plus their own, never others'."""
    # Hot at 100k rows: the state stays a dict (a dataclass per row is costly) and
    # each row's queue cells are picked once, not once per accountant.
    rows: list[tuple[str | None, tuple[Any, ...]]] = []
    for entry in {**previous, **updated}.values():
        state = entry_state(entry)
        if entry and not entry_deleted(entry) and state.get("status") in _QUEUE_STATUSES:
            values = entry_values(entry)
            rows.append((state.get("accountant"), tuple(map(values.get, QUEUE_COLUMNS))))
    tab = ctx.schema.tab("invoices")
    headers = tuple(tab.column(c).header[ctx.locale] for c in QUEUE_COLUMNS)
    claimed_by: dict[str, Any] = {}  # a claim's text → the accountant it names (or None)
    for claim in {a for a, _ in rows if a is not None}:
        claimed_by[claim] = ctx.people.find(claim, "accountant")
    views = []
    for person in ctx.people.active("accountant"):
        mine = [
            cells
            for accountant, cells in rows
            if accountant is None
            or claimed_by[accountant] == person
            or same_text(accountant, person.name)
        ]
        views.append(
            QueueView(
                person.name,
                ctx.schema.queue_title(person.name, ctx.locale),
                headers,
                tuple(sorted(mine, key=lambda r: str(r[0]))),
            )
        )
    return views
