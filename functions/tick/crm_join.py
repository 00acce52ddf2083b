"""The CRM's part of a tick, around the engine: ask Bitrix24 early, join its news late.

Early: before the sheet is read, with the field names Settings had last time — a minute in
which neither Bitrix24 nor the sheet changed then costs no read of the sheet at all. Late:
after the plan, the import's rows, cells, Log lines and cursor join that plan, so they are
journaled, written and committed with it (a crash resumes from the last committed cursor).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from functions.bitrix_import import (
    crm_fields,
    deletion_check_due,
    ids_to_check,
    plan_import,
)
from functions.directory import read_directory, read_settings
from functions.flow_context import FlowContext
from functions.meta import BITRIX24, DEALS_BASELINE
from functions.model import BookRead, CrmFields, CrmPull
from functions.ports import DealSource
from functions.schema import Schema
from functions.tick.planner import TickPlan


def _state(meta: dict[str, Any]) -> dict[str, Any]:
    state = meta.get(BITRIX24)
    return state if isinstance(state, dict) else {}


def crm_early(
    crm: DealSource | None, meta: dict[str, Any], flows: frozenset[str], idle: bool, now: datetime
) -> tuple[CrmPull | None, bool]:
    """The pull made before reading the sheet (if one can be), and whether the tick may idle."""
    cached = CrmFields.from_json(_state(meta).get("fields"))
    if crm is None or "deal" not in flows or not idle:
        return None, idle or False
    if cached is None:  # the field names are not known yet: read Settings first
        return None, False
    pull = crm.pull(_state(meta).get("cursor") or {}, cached)
    return pull, pull.quiet(meta) and not deletion_check_due(meta, pull, now)


def crm_join(
    crm: DealSource | None,
    pull: CrmPull | None,
    read: BookRead,
    plan: TickPlan,
    schema: Schema,
    now: datetime,
    flows: frozenset[str],
) -> None:
    """Pull (if not done yet), check for deleted deals when due, and add the import to `plan`."""
    if crm is None or "deal" not in flows or "deals" not in read.tables:
        return
    meta = plan.meta
    settings, _ = read_settings(read.table("settings"), schema, read.locale)
    if pull is None:
        pull = crm.pull(_state(meta).get("cursor") or {}, crm_fields(settings))
    if deletion_check_due(meta, pull, now):
        pull.checked = ids_to_check(read.table("deals"))
        pull.visible = sorted(crm.visible(pull.checked)) if pull.checked else []
        pull.checked = pull.checked or ["-"]  # an empty check still counts as done
    ctx = FlowContext(
        schema, plan.locale, read_directory(read.table("people"), schema), settings, now
    )
    out = plan_import(pull, read.table("deals"), read.table("settings"), ctx, meta)
    plan.changes.appends += out.changes.appends
    plan.changes.writes += out.changes.writes
    plan.changes.log += out.changes.log
    plan.problems += out.problems
    plan.meta[BITRIX24] = out.meta
    if out.silent_next:  # a first import is recorded silently, like a pasted pipeline
        plan.meta[DEALS_BASELINE] = False
    added = sum(1 for a in out.changes.appends if a.tab == "deals")
    if pull.deals or added:
        plan.transitions.append(("Bitrix24", f"{len(pull.deals)} deals read", f"{added} new rows"))
