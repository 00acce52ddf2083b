"""A tick's rows planned, purely: People and Settings first, then each row tab's own planner.

People and Settings are the context every tab is planned in (a change to them re-plans every
invoice); `plan_invoices` and `plan_deals` plan their tab's rows; the invoices folder's files
join the invoices. A new row tab is one more planner module and one more line here.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.deal_watch import alert_recipients
from functions.directory import read_directory, settings_problems
from functions.flow_context import FlowContext
from functions.invoices.folder import pending_notices, plan_folder
from functions.meta import CONTEXT, LAST_REPORT, TIME_ZONE
from functions.model import BookRead, FolderScan, Snapshot, TickPlan
from functions.months import previous_month
from functions.schema import TAB_FLOWS, Locale, Schema
from functions.settings_notes import plan_settings_notes
from functions.text.parsing import text
from functions.tick.diff import row_values
from functions.tick.plan_deals import plan_deals_tab
from functions.tick.plan_invoices import plan_invoices_tab

ALL_FLOWS = frozenset(TAB_FLOWS.values())


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
    context_changed = meta.get(CONTEXT) != repr(context_key)
    if "invoice" in flows:  # the invoice flow is the one that re-evaluates on People changes
        plan.meta[CONTEXT] = repr(context_key)
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
    plan.meta[TIME_ZONE] = settings.time_zone
    # Said whichever flow runs, and whether its read has the Deals tab: the invoice function
    # reads no deals, and a Note one function writes the other must not clear.
    if bad := alert_recipients(ctx)[1]:
        settings_said["deal_alerts_to"] = ". ".join(dict.fromkeys(bad))
    plan_settings_notes(settings_table, settings_said, schema, locale, plan, ctx.say)
    plan.meta.setdefault(LAST_REPORT, previous_month(now, settings.zone))
    if "invoice" in flows:
        planned = plan_invoices_tab(read, snapshot.get("invoices", {}), ctx, plan, context_changed)
        plan_folder(folder, read, ctx, plan, planned)
    if "deal" in flows and "deals" in read.tables:
        plan_deals_tab(read, snapshot.get("deals", {}), ctx, plan)
    if context_changed and "invoice" in flows:
        plan.changes.lists = {
            role + "s": [p.name for p in directory.active(role)]
            for role in ("director", "accountant", "manager")
        }
    return plan
