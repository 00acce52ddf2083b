"""Bitrix24 deals → the Deals tab: what to append, update or mark, decided purely.

The adapter (adapters/bitrix24/deals.py) brings a `CrmPull`: the deals changed since the cursor,
the users and stage names, and which deals are no longer visible. This module turns it into
sheet changes of the same tick: new deals appended (by Deal ID, so a replayed tick never
adds a row twice), changed cells written with `expected` (a person's newer edit wins),
deals gone from Bitrix24 marked in Stage (never removed). The cursor moves in the state's
meta with the journal's commit, so a crash mid-import resumes where the last commit left.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from functions.flow_context import FlowContext
from functions.meta import BITRIX24
from functions.model import (
    CellWrite,
    CrmDeal,
    CrmFields,
    CrmPull,
    RowAppend,
    SheetChanges,
    Stored,
    TableRead,
    stored,
)
from functions.text.parsing import parse_decimal, text

FLOW = "bitrix24"
CHECK_EVERY = timedelta(minutes=15)  # how often deals are checked for deletion
# Deals columns the import fills; Note and any other column stay with people and the watcher.
MAPPED = (
    "deal",
    "manager",
    "stage",
    "amount",
    "currency",
    "paid",
    "paid_pct",
    "order_no",
    "invoice_no",
)
SETTING_KEYS = {
    "paid": "bitrix24_paid",
    "paid_pct": "bitrix24_paid_pct",
    "order_no": "bitrix24_order_no",
    "invoice_no": "bitrix24_invoice_no",
}
HUNDRED = Decimal(100)


def crm_fields(settings: Any) -> CrmFields:
    return CrmFields(**{k: getattr(settings, v, "") for k, v in SETTING_KEYS.items()})


def deletion_check_due(meta: Mapping[str, Any], pull: CrmPull, now: datetime) -> bool:
    last = (meta.get(BITRIX24) or {}).get("checked_at")
    if not pull.complete or pull.error:
        return False
    return not isinstance(last, str) or now - datetime.fromisoformat(last) >= CHECK_EVERY


def ids_to_check(table: TableRead) -> list[str]:
    """Deal IDs in the tab that Bitrix24 could know (numbers), not yet marked deleted."""
    return [text(row.get("deal_id")) for row in table.rows if text(row.get("deal_id")).isdigit()]


def _number(value: Any) -> Stored:
    if isinstance(value, Decimal):
        value = str(value)
    number = parse_decimal(value) if value not in (None, "") else None
    if number is None:
        return None
    return stored(float(number)) if number != number.to_integral() else int(number)


def deal_values(
    deal: CrmDeal, pull: CrmPull, people_by_email: Mapping[str, str]
) -> dict[str, Stored]:
    """One deal as a Deals row (column key → value), names instead of codes."""
    name, email = (pull.users.get(deal.assigned) or ["", ""])[:2]
    amount = _number(deal.amount)
    values: dict[str, Stored] = {
        "deal_id": deal.id,
        "deal": deal.title or None,
        "manager": people_by_email.get(email.casefold(), name) or None,
        "stage": pull.stages.get(deal.stage, deal.stage) or None,
        "amount": amount,
        "currency": deal.currency or None,
    }
    paid: Stored = None
    if "paid" in deal.custom:
        paid = _number(_first(deal.custom["paid"]))
    elif deal.payments_paid is not None:
        paid = _number(deal.payments_paid)
    if "paid" not in pull.missing:
        values["paid"] = paid
    if "paid_pct" in deal.custom:
        values["paid_pct"] = _number(_first(deal.custom["paid_pct"]))
    elif "paid_pct" not in pull.missing and paid is not None and amount:
        pct = Decimal(str(paid)) / Decimal(str(amount)) * HUNDRED
        values["paid_pct"] = _number(pct.quantize(Decimal("0.01")))
    for column in ("order_no", "invoice_no"):
        if column in deal.custom:
            values[column] = stored(text(_first(deal.custom[column]))) or None
    return values


def _first(value: Any) -> Any:
    """Money fields come as `1200|USD`; multiple fields as lists: the first value counts."""
    if isinstance(value, list):
        value = value[0] if value else None
    if isinstance(value, str) and "|" in value:
        value = value.split("|", 1)[0]
    return value


def _same(old: Stored, new: Stored) -> bool:
    if old == new:
        return True
    if isinstance(new, int | float) and old is not None:
        return parse_decimal(old) == Decimal(str(new))
    return False


@dataclass
class ImportOutcome:
    changes: SheetChanges = field(default_factory=SheetChanges)
    meta: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    silent_next: bool = False  # the deal watcher records the next tick silently (first import)


def plan_import(
    pull: CrmPull,
    deals: TableRead,
    settings_tab: TableRead,
    ctx: FlowContext,
    meta: Mapping[str, Any],
) -> ImportOutcome:
    """The sheet changes and the new import state for one pull."""
    state = dict(meta.get(BITRIX24) or {})
    out = ImportOutcome()
    label = ctx.schema.labels.settings_keys
    wanted = crm_fields(ctx.settings)
    if pull.fields != wanted:
        # Settings changed since the pull was asked for: read every deal again, with them.
        state.update(cursor={}, fields=asdict(wanted), done=False)
        out.meta = state
        return out
    state["fields"] = asdict(wanted)
    status = _errors(pull, state, ctx, out, label)
    if pull.error is None:
        _renames(pull, state, ctx, out)
        _rows(pull, deals, ctx, out)
        _deleted(pull, deals, ctx, out)
        state["imported"] = int(state.get("imported", 0)) + len(pull.deals)
        if pull.checked:
            state["checked_at"] = ctx.now.isoformat()
        first = not state.get("done")
        state["done"] = bool(state.get("done")) or pull.complete
        out.silent_next = first and bool(pull.deals)
        if pull.deals or "last_import" not in state:  # the status changes only with news
            state["last_import"] = ctx.local_now.isoformat(sep=" ", timespec="minutes")
        key = "bitrix_ok" if state["done"] else "bitrix_importing"
        status = status or ctx.say(
            key, portal=pull.portal, deals=state["imported"], time=state["last_import"]
        )
        state.update(cursor=pull.cursor, stages=pull.stages, users=pull.users)
    _status(status, settings_tab, ctx, out)
    out.meta = state
    return out


def _errors(
    pull: CrmPull, state: dict[str, Any], ctx: FlowContext, out: ImportOutcome, label: Any
) -> str:
    """One Log line per new problem (not one per tick); the sentence for Settings."""
    sentences = []
    if pull.error:
        what = pull.error_detail or "crm.item.list"
        sentences.append(
            ctx.say(f"bitrix_{pull.error}", portal=pull.portal, what=what, detail=what)
        )
    for column in pull.missing:
        key = SETTING_KEYS[column]
        sentences.append(
            ctx.say(
                "bitrix_missing_field",
                setting=label[key][ctx.locale],
                field=getattr(pull.fields, column),
            )
        )
    news = [s for s in sentences if s not in state.get("problems", [])]
    for sentence in news:
        out.changes.log.append(ctx.log("*", "problem", flow=FLOW, details=sentence))
    out.problems += [f"Bitrix24: {s}" for s in news]
    state.update(error=pull.error, missing=pull.missing, problems=sentences)
    return ". ".join(s.rstrip(".") for s in sentences)


def _renames(pull: CrmPull, state: dict[str, Any], ctx: FlowContext, out: ImportOutcome) -> None:
    """A renamed stage or user changes no deal's update time: read every deal again."""
    renamed = [
        (what, old, new)
        for what, before, now in (
            ("Stage" if ctx.locale == "en" else "Стадия", state.get("stages", {}), pull.stages),
            ("User" if ctx.locale == "en" else "Пользователь", state.get("users", {}), pull.users),
        )
        for key, old in before.items()
        if key in now and now[key] != old
        for old, new in [(_name(old), _name(now[key]))]
        if old != new
    ]
    for what, old, new in renamed:
        out.changes.log.append(
            ctx.log(
                "*",
                "renamed",
                flow=FLOW,
                from_=old,
                to=new,
                details=ctx.say("bitrix_renamed", what=what, old=old, new=new),
            )
        )
    if renamed:
        pull.cursor = {}  # the next pulls read every deal again, with the new names


def _name(value: Any) -> str:
    return str(value[0]) if isinstance(value, list) else str(value)


def _rows(pull: CrmPull, deals: TableRead, ctx: FlowContext, out: ImportOutcome) -> None:
    rows = {text(r.get("deal_id")): r for r in deals.rows if text(r.get("deal_id"))}
    people = {p.email.casefold(): p.name for p in ctx.people.people}
    latest = {deal.id: deal for deal in pull.deals}  # a deal met twice: its newest state
    for record, deal in latest.items():
        values = deal_values(deal, pull, people)
        row = rows.get(record)
        if row is None:
            out.changes.appends.append(RowAppend("deals", record, values))
            continue
        for column in MAPPED:
            if column not in values or column not in deals.columns:
                continue
            old = stored(row.get(column))
            if not _same(old, values[column]):
                out.changes.writes.append(
                    CellWrite("deals", record, row.number, column, values[column], old)
                )


def _deleted(pull: CrmPull, deals: TableRead, ctx: FlowContext, out: ImportOutcome) -> None:
    gone = set(pull.checked) - set(pull.visible) - {"-"}
    if len(gone) > 3 and not pull.visible:
        return  # every deal gone at once is a lost permission, not a mass deletion: wait
    mark = ctx.say("bitrix_deleted")
    for row in deals.rows:
        record = text(row.get("deal_id"))
        if record in gone and text(row.get("stage")) != mark:
            old = stored(row.get("stage"))
            out.changes.writes.append(CellWrite("deals", record, row.number, "stage", mark, old))
            out.changes.log.append(
                ctx.log(record, "deleted", flow=FLOW, from_=text(old), to=mark, details=mark)
            )


def _status(sentence: str, settings_tab: TableRead, ctx: FlowContext, out: ImportOutcome) -> None:
    """The Settings row `Bitrix24 status` says how the import went (added when missing)."""
    labels = ctx.schema.labels.settings_keys["bitrix24_status"]
    names = {name.casefold() for name in labels.values()}
    row = next((r for r in settings_tab.rows if text(r.get("key")).casefold() in names), None)
    if row is None:
        key = labels[ctx.locale]
        out.changes.appends.append(RowAppend("settings", key, {"key": key, "value": sentence}))
    elif text(row.get("value")) != sentence:
        out.changes.writes.append(
            CellWrite(
                "settings",
                text(row.get("key")),
                row.number,
                "value",
                sentence,
                stored(row.get("value")),
            )
        )
