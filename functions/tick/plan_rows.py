"""What every row tab's plan does alike: rows that were deleted from the sheet."""

from __future__ import annotations

from collections.abc import Mapping

from functions.flow_context import FlowContext
from functions.model import SnapshotEntry, TickPlan, deleted_entry, entry_values
from functions.schema import Tab
from functions.text.parsing import text
from functions.tick.diff import TableDiff


def mark_removed(
    diff: TableDiff,
    previous: Mapping[str, SnapshotEntry],
    ctx: FlowContext,
    plan: TickPlan,
    tab: str,
    flow: str,
) -> None:
    """Rows the snapshot knew that the tab no longer holds: a Log line with what they said."""
    for record in diff.removed:
        entry = previous[record]
        values = entry_values(entry)
        columns = ctx.schema.tab(tab)
        summary = ", ".join(
            f"{_header(columns, k, ctx)}: {text(v)}" for k, v in values.items() if text(v)
        )
        plan.changes.log.append(
            ctx.log(
                record,
                "removed",
                flow=flow,
                from_=text(values.get("status")),
                details=ctx.say("row_deleted", values=summary)[:2000],
            )
        )
        plan.snapshot.setdefault(tab, {})[record] = deleted_entry(entry)
        plan.problems.append(ctx.say("tick_row_deleted", record=record))


def _header(tab: Tab, column: str, ctx: FlowContext) -> str:
    try:
        return tab.column(column).header[ctx.locale]
    except KeyError:
        return column
