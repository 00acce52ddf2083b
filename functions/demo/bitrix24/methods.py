"""The REST methods sheetflow calls, answering and refusing as the reference pages say."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from functions.demo.bitrix24.portal import (
    JSON,
    PAGE,
    STANDARD_DEAL_FIELDS,
    ApiError,
    Portal,
    parse_time,
)

Method = Callable[[Portal, JSON], JSON]
# crm-item-list.md: filter prefixes, longest first so `>=` is not read as `>`.
_PREFIXES = ("!@", "!=", ">=", "<=", "@", ">", "<", "=", "!")
_SCOPE = {"crm": "crm", "user": "user"}


def _need(portal: Portal, scope: str) -> None:
    """batch.md shows `insufficient_scope` for a method outside the webhook's permissions."""
    if scope not in portal.scopes:
        raise ApiError(
            401,
            "insufficient_scope",
            "The request requires higher privileges than provided by the webhook token",
        )


def _entity(params: JSON) -> None:
    value = params.get("entityTypeId")
    if value is None:
        raise ApiError(400, "100", "Required fields are not provided: entityTypeId")
    if str(value) != "2":  # crm-item-list.md: NOT_FOUND for an invalid entityTypeId
        raise ApiError(400, "NOT_FOUND", "SPA not found")


def _int(value: Any, name: str) -> int:
    try:
        return int(value)
    except (TypeError, ValueError) as exc:
        raise ApiError(400, "INVALID_ARG_VALUE", f"Invalid value of '{name}'") from exc


def _deal_fields(portal: Portal) -> set[str]:
    return set(STANDARD_DEAL_FIELDS) | set(portal.userfields)


def _camel(code: str) -> str:
    """crm-item-list.md useOriginalUfNames: UF_CRM_2_1639669411830 ↔ ufCrm2_1639669411830."""
    rest = code.removeprefix("UF_CRM_")
    head, _, tail = rest.partition("_")
    return f"ufCrm{head}_{tail}" if tail else f"ufCrm_{head}"


def _match(value: Any, op: str, wanted: Any, key: str) -> bool:
    if key in ("updatedTime", "createdTime"):
        value, wanted = (
            parse_time(value),
            ([parse_time(w) for w in wanted] if isinstance(wanted, list) else parse_time(wanted)),
        )
    elif key in ("id", "assignedById", "categoryId", "opportunity"):
        number = float if key == "opportunity" else int
        try:
            wanted = [number(w) for w in wanted] if isinstance(wanted, list) else number(wanted)
        except (TypeError, ValueError) as exc:
            raise ApiError(
                400, "INVALID_ARG_VALUE", f"Invalid filter: field '{key}' has invalid value"
            ) from exc
    if op in ("@", "!@"):
        if not isinstance(wanted, list):
            raise ApiError(
                400, "INVALID_ARG_VALUE", f"Invalid filter: field '{key}' has invalid value"
            )
        return bool((value in wanted) == (op == "@"))
    return bool(
        {
            ">": lambda: value > wanted,
            ">=": lambda: value >= wanted,
            "<": lambda: value < wanted,
            "<=": lambda: value <= wanted,
            "=": lambda: value == wanted,
            "!=": lambda: value != wanted,
            "!": lambda: value != wanted,
        }[op]()
    )


def _filter(portal: Portal, where: Any) -> Callable[[JSON], bool]:
    if where in (None, "", []):
        return lambda deal: True
    if not isinstance(where, dict):
        raise ApiError(400, "INVALID_ARG_VALUE", "Invalid filter")
    conditions = []
    allowed = _deal_fields(portal)
    for raw, wanted in where.items():
        op = next((p for p in _PREFIXES if raw.startswith(p)), "=")
        key = raw[len(op) :] if raw.startswith(op) else raw
        if key not in allowed:
            raise ApiError(
                400, "INVALID_ARG_VALUE", f"Invalid filter: field '{key}' is not allowed in filter"
            )
        conditions.append((key, op, wanted))
    return lambda deal: all(_match(deal.get(k), op, w, k) for k, op, w in conditions)


def crm_item_list(portal: Portal, params: JSON) -> JSON:
    """api-reference/crm/universal/crm-item-list.md; paging by huge-data.md (start=-1)."""
    _need(portal, "crm")
    _entity(params)
    allowed = _deal_fields(portal)
    order = params.get("order") or {}
    if not isinstance(order, dict):
        raise ApiError(400, "INVALID_ARG_VALUE", "Invalid order")
    for key, direction in order.items():
        if key not in allowed:
            raise ApiError(
                400, "INVALID_ARG_VALUE", f"Invalid order: field '{key}' is not allowed in order"
            )
        if str(direction).upper() not in ("ASC", "DESC"):
            raise ApiError(
                400,
                "INVALID_ARG_VALUE",
                f"Invalid order: allowed sort directions are ASC, DESC. But got '{direction}'"
                f" for field '{key}'",
            )
    keep = _filter(portal, params.get("filter"))
    found = [d for d in portal.deals.values() if keep(d)] if portal.deal_access else []
    for key, direction in reversed(list(order.items())):
        found.sort(
            key=lambda d: (d.get(key) is None, d.get(key)), reverse=str(direction).upper() == "DESC"
        )
    start = _int(params.get("start", 0), "start")
    original = str(params.get("useOriginalUfNames", "N")).upper() in ("Y", "1", "TRUE")
    select = params.get("select") or ["*"]
    if not isinstance(select, list):
        raise ApiError(400, "INVALID_ARG_VALUE", "Invalid select")
    page = found[max(0, start) : max(0, start) + PAGE]
    items = [_select(deal, select, original) for deal in page]
    answer: JSON = {"result": {"items": items}}
    if start == -1:
        answer = {
            "result": {"items": [_select(d, select, original) for d in found[:PAGE]]},
            "total": 0,
        }
    else:
        answer["total"] = len(found)
        if start + PAGE < len(found):
            answer["next"] = start + PAGE
    return answer


def _select(deal: JSON, select: list[Any], original: bool) -> JSON:
    every = "*" in select
    out = {}
    for key, value in deal.items():
        name = key if original or not key.startswith("UF_") else _camel(key)
        if every or key in select or name in select:
            out[name] = value
    return out


def crm_item_fields(portal: Portal, params: JSON) -> JSON:
    """api-reference/crm/universal/crm-item-fields.md (400 ACCESS_DENIED without read access)."""
    _need(portal, "crm")
    _entity(params)
    if not portal.deal_access:
        raise ApiError(400, "ACCESS_DENIED", "You do not have permission to view this item")
    original = str(params.get("useOriginalUfNames", "N")).upper() in ("Y", "1", "TRUE")
    fields = {
        key: _field(kind, title, key.upper()) for key, (kind, title) in STANDARD_DEAL_FIELDS.items()
    }
    for code, title in portal.userfields.items():
        fields[code if original else _camel(code)] = _field("string", title, code)
    return {"result": {"fields": fields}}


def _field(kind: str, title: str, upper: str) -> JSON:
    return {
        "type": kind,
        "isRequired": False,
        "isReadOnly": False,
        "isImmutable": False,
        "isMultiple": False,
        "isDynamic": upper.startswith("UF_"),
        "title": title,
        "upperName": upper,
    }


def crm_category_list(portal: Portal, params: JSON) -> JSON:
    """api-reference/crm/universal/category/crm-category-list.md."""
    _need(portal, "crm")
    _entity(params)
    return {"result": {"categories": list(portal.categories)}, "total": len(portal.categories)}


def crm_status_list(portal: Portal, params: JSON) -> JSON:
    """api-reference/crm/status/crm-status-list.md: filter ENTITY_ID (DEAL_STAGE[_N])."""
    _need(portal, "crm")
    where = params.get("filter") or {}
    if not isinstance(where, dict) or set(where) - {"ENTITY_ID"}:
        raise ApiError(400, "Invalid parameters.", "Invalid parameters were provided")
    rows = [
        s
        for entity, stages in portal.stages.items()
        for s in stages
        if "ENTITY_ID" not in where or where["ENTITY_ID"] == entity
    ]
    return {"result": rows, "total": len(rows)}


def user_get(portal: Portal, params: JSON) -> JSON:
    """api-reference/user/user-get.md: sorted by ID ascending, 50 per page."""
    _need(portal, "user")
    if str(params.get("order", "ASC")).upper() not in ("ASC", "DESC"):
        raise ApiError(400, "INVALID_ARG_VALUE", "Invalid order")
    users = sorted(portal.users.values(), key=lambda u: int(u["ID"]))
    start = _int(params.get("start", 0), "start")
    answer: JSON = {"result": users[start : start + PAGE], "total": len(users)}
    if start + PAGE < len(users):
        answer["next"] = start + PAGE
    return answer


def user_current(portal: Portal, params: JSON) -> JSON:
    """api-reference/user/user-current.md."""
    return {"result": portal.users.get(int(portal.user_id), {"ID": portal.user_id})}


def crm_item_payment_list(portal: Portal, params: JSON) -> JSON:
    """api-reference/crm/universal/payment/crm-item-payment-list.md (entityId, entityTypeId)."""
    _need(portal, "crm")
    if params.get("entityId") in (None, "") or params.get("entityTypeId") in (None, ""):
        raise ApiError(400, 100, "Required fields are not provided")
    _entity(params)
    deal = _int(params["entityId"], "entityId")
    if deal not in portal.deals or not portal.deal_access:
        raise ApiError(400, 0, "Insufficient permissions")
    return {"result": list(portal.payments.get(deal, []))}


METHODS: dict[str, Method] = {
    "crm.item.list": crm_item_list,
    "crm.item.fields": crm_item_fields,
    "crm.category.list": crm_category_list,
    "crm.status.list": crm_status_list,
    "crm.item.payment.list": crm_item_payment_list,
    "user.get": user_get,
    "user.current": user_current,
}
# crm-deal-list.md: deprecated, "use crm.item.list" — a test fails if sheetflow calls it.
DEPRECATED = {"crm.deal.list", "crm.deal.get"}
REFERENCE = re.compile(r"\$result\[([^\]]+)\]((?:\[[^\]]*\])*)")
