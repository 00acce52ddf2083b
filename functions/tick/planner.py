"""One tick's plan, computed purely from what was read and what the snapshot remembers."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from itertools import chain
from typing import Any

from functions.controls import DuplicateIndex
from functions.deal_watch import alert_recipients, plan_deal
from functions.directory import read_directory, settings_problems
from functions.flow_context import FlowContext
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.invoice_folder import FolderScan, pending_notices, plan_folder
from functions.model import (
    BookRead,
    CellLock,
    CellWrite,
    EmailIntent,
    LogEntry,
    QueueView,
    SheetChanges,
    SheetRow,
    Snapshot,
    Stored,
    stored,
)
from functions.months import previous_month
from functions.record import same_entry
from functions.schema import TAB_FLOWS, Locale, Schema, Tab
from functions.settings_notes import plan_settings_notes
from functions.text import formats
from functions.text.parsing import same_text, text
from functions.tick.diff import TableDiff, diff_table, row_values

ALL_FLOWS = frozenset(TAB_FLOWS.values())
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
# Settings rows sheetflow itself writes (the Bitrix24 status): not a reason to re-plan invoices.
_WRITTEN_SETTINGS = frozenset({"bitrix24 status", "статус битрикс24"})


@dataclass
class TickPlan:
    changes: SheetChanges = field(default_factory=SheetChanges)
    emails: list[EmailIntent] = field(default_factory=list)
    snapshot: dict[str, dict[str, dict[str, Any] | None]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    transitions: list[tuple[str, str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    locale: Locale = "en"
    sender: str = ""

    def is_empty(self) -> bool:
        return self.changes.is_empty() and not self.emails and not any(self.snapshot.values())


def _id_number(record: str, prefix: str) -> int:
    match = re.fullmatch(re.escape(prefix) + r"(\d+)", record)
    return int(match.group(1)) if match else 0


def _fingerprint(table_rows: list[dict[str, Any]]) -> list[Any]:
    return sorted((sorted(r.items(), key=str) for r in table_rows), key=str)


def plan_tick(
    read: BookRead,
    snapshot: Snapshot,
    meta: dict[str, Any],
    schema: Schema,
    now: datetime,
    flows: frozenset[str] = ALL_FLOWS,
    folder: FolderScan | None = None,
) -> TickPlan:
    locale: Locale = "ru" if read.locale == "ru" else "en"
    people_table, settings_table = read.table("people"), read.table("settings")
    directory = read_directory(people_table, schema, locale)
    settings, settings_said = settings_problems(settings_table, schema, locale)
    plan = TickPlan(meta=dict(meta), locale=locale, sender=settings.sender)
    plan.problems += list(directory.problems)
    # People or Settings changed → every row is re-evaluated (a new accountant may unblock rows).
    written = {k.casefold() for k in schema.labels.settings_keys["bitrix24_status"].values()}
    context_key = [
        _fingerprint([row_values(r, people_table.columns) for r in people_table.rows]),
        _fingerprint(
            [
                row_values(r, [c for c in settings_table.columns if c != "note"])
                for r in settings_table.rows
                if text(r.get("key")).casefold() not in written  # sheetflow's own status
                and text(r.get("value"))  # a key without a value changes nothing
            ]
        ),
    ]
    context_changed = meta.get("context") != repr(context_key)
    if "invoice" in flows:  # the invoice flow is the one that re-evaluates on People changes
        plan.meta["context"] = repr(context_key)
    ctx = FlowContext(
        schema,
        locale,
        directory,
        settings,
        now,
        pending_notices(meta),
        date_cells=read.date_cells,
        date_serials=read.date_serials,
    )
    plan.meta["time_zone"] = settings.time_zone
    # Said whichever flow runs, and whether its read has the Deals tab: the invoice function
    # reads no deals, and a Note one function writes the other must not clear.
    if bad := alert_recipients(ctx)[1]:
        settings_said["deal_alerts_to"] = ". ".join(dict.fromkeys(bad))
    plan_settings_notes(settings_table, settings_said, schema, locale, plan, ctx.say)
    plan.meta.setdefault("last_report", previous_month(now, settings.zone))
    if "invoice" in flows:
        planned = _plan_invoices(read, snapshot.get("invoices", {}), ctx, plan, context_changed)
        plan_folder(folder, read, ctx, plan, planned)
    if "deal" in flows and "deals" in read.tables:
        _plan_deals(read, snapshot.get("deals", {}), ctx, plan)
    if context_changed and "invoice" in flows:
        plan.changes.lists = {
            role + "s": [p.name for p in directory.active(role)]
            for role in ("director", "accountant", "manager")
        }
    return plan


def _plan_invoices(
    read: BookRead,
    previous: Mapping[str, Mapping[str, Any]],
    ctx: FlowContext,
    plan: TickPlan,
    everything: bool,
) -> set[str]:
    """Plan the invoices due (all with `everything`); the records planned."""
    tab = ctx.schema.tab("invoices")
    table = read.table("invoices")
    live = {k: v["values"] for k, v in previous.items() if not v.get("deleted")}
    diff = diff_table(live, table.rows, "id", table.columns)
    prefix = tab.id_prefix or ""
    # IDs already known were counted by earlier ticks; only new ones can raise the counter.
    seen = [*previous, *diff.rows] if "next_invoice_no" not in plan.meta else diff.added
    next_no = max([plan.meta.get("next_invoice_no", 1)] + [_id_number(r, prefix) + 1 for r in seen])
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
    plan.meta["next_invoice_no"] = next_no
    _mark_copies(diff, ctx, plan)
    _mark_removed(diff, previous, ctx, plan)
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
        previous: Mapping[str, Mapping[str, Any]],
        planned: Mapping[str, Mapping[str, Any] | None],
        ctx: FlowContext,
        asked: list[SheetRow] | None = None,
    ) -> None:
        self.diff, self.previous, self.planned, self.ctx = diff, previous, planned, ctx
        self.asked = asked
        self.index: DuplicateIndex | None = None
        self.added: list[tuple[str, Mapping[str, Stored]]] = []  # given an ID this tick

    def status_of(self, record: str) -> str:
        entry = self.planned.get(record) or self.previous.get(record) or {}
        return str((entry.get("state") or {}).get("status") or "new")

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
    plan.snapshot.setdefault("invoices", {})[out.record] = {
        "values": out.values,
        "state": out.state.to_json(),
    }


def out_label(out: RowOutcome, status: str) -> str:
    return out.labels.get(status, status) if status else ""


def _plan_deals(
    read: BookRead, previous: Mapping[str, Mapping[str, Any]], ctx: FlowContext, plan: TickPlan
) -> None:
    table = read.table("deals")
    live = {k: v["values"] for k, v in previous.items() if not v.get("deleted")}
    diff = diff_table(live, table.rows, "deal_id", table.columns)
    silent = not plan.meta.get("deals_baseline")
    label = ctx.schema.tab("deals").column("deal_id").header[ctx.locale]
    for record in sorted(set(diff.added) | set(diff.changed), key=lambda r: diff.rows[r].number):
        row = diff.rows[record]
        out = plan_deal(record, row, previous.get(record), ctx, silent=silent)
        plan.changes.log += _deal_edits(record, diff.changed.get(record, {}), ctx)
        for column, value in out.writes.items():
            plan.changes.writes.append(
                CellWrite("deals", record, row.number, column, value, stored(row.get(column)))
            )
        plan.changes.log += out.log
        plan.emails += out.emails
        if out.change:
            before, after = (formats.percent(Decimal(p), ctx.locale) for p in out.change)
            plan.transitions.append((record, before, after))  # as the Log writes them
        if out.note and "note" in out.writes:
            plan.problems.append(f"{record}: {out.note}")
        plan.snapshot.setdefault("deals", {})[record] = {"values": out.values, "state": out.state}
    notes = [(row, ctx.say("deal_no_id", label=label)) for row in diff.unidentified]
    notes += [
        (
            row,
            ctx.say(
                "deal_duplicate_id", label=label, record=record, keeper=diff.rows[record].number
            ),
        )
        for record, rows in diff.copies.items()
        for row in rows
    ]
    for row, note in notes:
        if text(row.get("note")) != note:
            plan.changes.writes.append(
                CellWrite("deals", None, row.number, "note", note, stored(row.get("note")))
            )
            plan.problems.append(
                ctx.say("tick_tab_row", tab=table.title, row=row.number, note=note)
            )
    _mark_removed(diff, previous, ctx, plan, "deals")
    if silent:
        plan.meta["deals_baseline"] = True
        plan.changes.log.append(
            ctx.log(
                "*",
                "baseline",
                flow="deal",
                details=ctx.say("deals_baseline", count=len(diff.rows)),
            )
        )


def _deal_edits(
    record: str, changed: Mapping[str, tuple[Stored, Stored]], ctx: FlowContext
) -> list[LogEntry]:
    tab = ctx.schema.tab("deals")
    return [
        ctx.log(
            record,
            "edited",
            flow="deal",
            from_=ctx.shown("deals", column, old),
            to=ctx.shown("deals", column, new),
            details=tab.column(column).header[ctx.locale],
        )
        for column, (old, new) in changed.items()
        if column not in tab.automation_keys
    ]


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


def _mark_removed(
    diff: TableDiff,
    previous: Mapping[str, Mapping[str, Any]],
    ctx: FlowContext,
    plan: TickPlan,
    tab: str = "invoices",
) -> None:
    for record in diff.removed:
        entry = previous[record]
        values = entry.get("values", {})
        columns = ctx.schema.tab(tab)
        summary = ", ".join(
            f"{_header(columns, k, ctx)}: {text(v)}" for k, v in values.items() if text(v)
        )
        plan.changes.log.append(
            ctx.log(
                record,
                "removed",
                flow=TAB_FLOWS[tab],
                from_=text(values.get("status")),
                details=ctx.say("row_deleted", values=summary)[:2000],
            )
        )
        plan.snapshot.setdefault(tab, {})[record] = {**entry, "deleted": True}
        plan.problems.append(ctx.say("tick_row_deleted", record=record))


def _header(tab: Tab, column: str, ctx: FlowContext) -> str:
    try:
        return tab.column(column).header[ctx.locale]
    except KeyError:
        return column


def queue_views(
    read: BookRead,
    previous: Mapping[str, Mapping[str, Any]],
    updated: dict[str, dict[str, Any] | None],
    ctx: FlowContext,
) -> list[QueueView]:
    """Per active accountant: approved unclaimed invoices plus their own, never others'."""
    # Hot at 100k rows: the state stays a dict (a dataclass per row is costly) and
    # each row's queue cells are picked once, not once per accountant.
    rows: list[tuple[str | None, tuple[Any, ...]]] = []
    for entry in {**previous, **updated}.values():
        state = (entry or {}).get("state") or {}
        if entry and not entry.get("deleted") and state.get("status") in _QUEUE_STATUSES:
            values = entry["values"]
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
