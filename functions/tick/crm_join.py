"""The CRM's part of a tick: ask Bitrix24 early, pull late if need be, join the import's news.

Early: before the sheet is read, with the field names Settings had last time — a minute in
which neither Bitrix24 nor the sheet changed then costs no read of the sheet at all. Late:
after the read, with the field names Settings have now, and the deletion check when due.
The import's rows, cells, Log lines and cursor join the tick's plan (pure), so they are
journaled, written and committed with it (a crash resumes from the last committed cursor).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.bitrix_import import crm_fields, deletion_check_due, ids_to_check, plan_import
from functions.directory import read_directory, read_settings
from functions.flow_context import FlowContext
from functions.meta import BITRIX24, DEALS_BASELINE
from functions.model import BookRead, CrmFields, CrmPull, TickPlan
from functions.ports import DealSource
from functions.schema import Schema


def _state(meta: Mapping[str, Any]) -> dict[str, Any]:
    state = meta.get(BITRIX24)
    return state if isinstance(state, dict) else {}


def crm_early(
    crm: DealSource | None,
    meta: Mapping[str, Any],
    flows: frozenset[str],
    idle: bool,
    now: datetime,
) -> tuple[CrmPull | None, bool]:
    """The pull made before reading the sheet (if one can be), and whether the tick may idle."""
    cached = CrmFields.from_json(_state(meta).get("fields"))
    if crm is None or "deal" not in flows or not idle:
        return None, idle or False
    if cached is None:  # the field names are not known yet: read Settings first
        return None, False
    pull = crm.pull(_state(meta).get("cursor") or {}, cached)
    return pull, pull.quiet(meta) and not deletion_check_due(meta, pull, now)


def crm_late(
    crm: DealSource | None,
    pull: CrmPull | None,
    read: BookRead,
    meta: Mapping[str, Any],
    schema: Schema,
    now: datetime,
    flows: frozenset[str],
) -> CrmPull | None:
    """The tick's pull (made now if the early one was not), checked for deleted deals when due;
    None when the tick imports nothing."""
    if crm is None or "deal" not in flows or "deals" not in read.tables:
        return None
    if pull is None:
        settings, _ = read_settings(read.table("settings"), schema, read.locale)
        pull = crm.pull(_state(meta).get("cursor") or {}, crm_fields(settings))
    if deletion_check_due(meta, pull, now):
        pull.checked = ids_to_check(read.table("deals"))
        pull.visible = sorted(crm.visible(pull.checked)) if pull.checked else []
        pull.checked = pull.checked or ["-"]  # an empty check still counts as done
    return pull


def join_crm(pull: CrmPull, read: BookRead, plan: TickPlan, schema: Schema, now: datetime) -> None:
    """Add the import of `pull` to `plan`."""
    meta = plan.meta
    settings, _ = read_settings(read.table("settings"), schema, read.locale)
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
