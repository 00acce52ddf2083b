"""The Deals tab's part of a tick's plan: each deal changed, rows without an ID, the baseline."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from functions.deal_watch import plan_deal
from functions.flow_context import FlowContext
from functions.meta import DEALS_BASELINE
from functions.model import (
    BookRead,
    CellWrite,
    LogEntry,
    SnapshotEntry,
    Stored,
    TickPlan,
    entry_deleted,
    entry_values,
    planned_entry,
    stored,
)
from functions.text import formats
from functions.text.parsing import text
from functions.tick.diff import diff_table
from functions.tick.plan_rows import mark_removed


def plan_deals_tab(
    read: BookRead, previous: Mapping[str, SnapshotEntry], ctx: FlowContext, plan: TickPlan
) -> None:
    table = read.table("deals")
    live = {k: entry_values(v) for k, v in previous.items() if not entry_deleted(v)}
    diff = diff_table(live, table.rows, "deal_id", table.columns)
    silent = not plan.meta.get(DEALS_BASELINE)
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
        plan.snapshot.setdefault("deals", {})[record] = planned_entry(out.values, out.state)
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
    mark_removed(diff, previous, ctx, plan, "deals", "deal")
    if silent:
        plan.meta[DEALS_BASELINE] = True
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
