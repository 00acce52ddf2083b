"""The whole plan of one tick, made in one place from what the engine gathered (pure).

The rows of each tab (planner), the invoices folder's files, the CRM's import, the monthly
report and the meta that tells the next tick what this one saw: a new tick input is planned
here, after the tabs' rows.
"""

from __future__ import annotations

from collections.abc import Mapping

from functions.meta import BOOK_ID, LAST_REPORT, LOCALE
from functions.model import PlannedEntry, Snapshot, TickPlan
from functions.record import same_entry
from functions.schema import TAB_FLOWS, Schema
from functions.tick.crm_join import join_crm
from functions.tick.inputs import TickInputs
from functions.tick.monthly import report_logged, report_tab
from functions.tick.planner import plan_tick


def plan_whole_tick(inputs: TickInputs, schema: Schema) -> TickPlan:
    """Everything the tick writes, sends and commits; `inputs` gives up its snapshot."""
    read, now = inputs.read, inputs.now
    snapshot = inputs.take_snapshot()
    plan = plan_tick(read, snapshot, inputs.meta, schema, now, inputs.flows, inputs.folder)
    drop_unchanged(plan.snapshot, snapshot)
    del snapshot  # what the plan needs of it, it holds
    ours = len(plan.changes.writes)
    if inputs.crm is not None:
        join_crm(inputs.crm, read, plan, schema, now)
    appended = any(a.tab in TAB_FLOWS for a in plan.changes.appends)
    plan.reread = appended or inputs.folder_news or len(plan.changes.writes) != ours
    plan.meta.update(inputs.freshness.after_read(inputs.digest))
    plan.meta[LOCALE] = read.locale  # idle ticks, which read nothing, speak it too
    if read.identity:
        plan.meta[BOOK_ID] = read.identity
    if inputs.report is not None:
        month = inputs.report.month
        tab = report_tab(read, month, inputs.report.log, plan.changes.log, schema)
        plan.changes.reports = [tab]
        plan.changes.log.append(report_logged(month, read, now, schema))
        plan.meta[LAST_REPORT] = month
    return plan


def drop_unchanged(planned: Mapping[str, dict[str, PlannedEntry | None]], stored: Snapshot) -> None:
    """Leave out of the commit the rows the state already holds as planned.

    People or Settings edited make every invoice re-evaluated; most come out as they were, and
    rewriting them all would cost the state store (Firestore bills each document) for nothing.
    """
    for tab, rows in planned.items():
        known = stored.get(tab, {})
        for record in [r for r, entry in rows.items() if entry is not None and r in known]:
            if same_entry(rows[record], known[record]):
                del rows[record]
