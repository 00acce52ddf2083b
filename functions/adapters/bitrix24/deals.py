"""The Bitrix24 deal source: what changed since the cursor, in as few requests as the docs allow.

Pages of ../shared/reference/bitrix24-rest/ each step follows:
- api-reference/crm/deals/crm-deal-list.md — deprecated: deals are read with crm.item.list,
  entityTypeId=2 (api-reference/crm/universal/crm-item-list.md);
- settings/performance/huge-data.md — order by id, filter `>id` = the last ID seen, `start=-1`
  (no total counted), until a page has fewer than 50 items;
- settings/how-to-call-rest-api/batch.md — up to 50 pages chained in one request, each page's
  `>id` read from the previous one (`$result[p0][items][49][id]`, halt=1), as the official SDK
  does (b24pysdk call_list_fast); payments and deletion checks 50 deals per request;
- api-reference/crm/universal/payment/crm-item-payment-list.md — a deal's payments (paid: Y/N);
- api-reference/crm/universal/crm-item-fields.md — custom fields (useOriginalUfNames=Y);
- api-reference/crm/universal/category/crm-category-list.md, crm/status/crm-status-list.md —
  pipelines and stage names (ENTITY_ID DEAL_STAGE, DEAL_STAGE_{categoryId});
- api-reference/user/user-get.md, user-current.md — names and emails of responsible users.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.adapters.bitrix24.client import BATCH_SIZE, BatchAnswer, Bitrix24Client
from functions.errors import CrmError
from functions.model import CrmDeal, CrmFields, CrmPull

DEAL = 2  # entityTypeId of deals (api-reference/crm/data-types.md)
PAGE = 50
SELECT = [
    "id",
    "title",
    "assignedById",
    "stageId",
    "categoryId",
    "opportunity",
    "currencyId",
    "updatedTime",
]
_DENIED = {"insufficient_scope", "ACCESS_DENIED", "allowed_only_intranet_user", "0"}
JSON = dict[str, Any]


class Bitrix24Deals:
    """Implements ports.DealSource over one webhook; `budget` caps HTTP requests per pull."""

    def __init__(self, client: Bitrix24Client, budget: int = 100) -> None:
        self.client, self.budget = client, budget

    @property
    def portal(self) -> str:
        return self.client.webhook.portal

    def pull(self, cursor: Mapping[str, Any], fields: CrmFields) -> CrmPull:
        pull = CrmPull(portal=self.portal, fields=fields, cursor=dict(cursor))
        first = self._first = self.client.requests
        try:
            select = self._context(pull)
            self._deals(pull, select)
        except CrmError as exc:  # nothing half-read is kept: the cursor stays where it was
            pull.deals, pull.cursor, pull.complete = [], dict(cursor), False
            pull.error, pull.error_detail = exc.kind, exc.record or ""
        pull.requests = self.client.requests - first
        return pull

    def visible(self, ids: list[str]) -> set[str]:
        """Which of these deals the webhook still sees (2,500 IDs per request)."""
        seen: set[str] = set()
        chunks = [ids[i : i + PAGE] for i in range(0, len(ids), PAGE)]
        for start in range(0, len(chunks), BATCH_SIZE):
            commands = {
                f"v{n}": (
                    "crm.item.list",
                    {"entityTypeId": DEAL, "filter": {"@id": chunk}, "select": ["id"], "start": -1},
                )
                for n, chunk in enumerate(chunks[start : start + BATCH_SIZE])
            }
            answer = self.client.batch(commands, halt=False)
            _raise_first(answer, "crm.item.list")
            for value in answer.result.values():
                seen |= {str(item["id"]) for item in _items(value)}
        return seen

    def check(self) -> list[str]:
        """What `sheetflow bitrix24 check` prints: who the webhook is and what it may read."""
        me = self.client.call("user.current")["result"]
        answer = self.client.batch(
            {
                "deals": (
                    "crm.item.list",
                    {"entityTypeId": DEAL, "select": ["id"], "start": -1, "order": {"id": "DESC"}},
                ),
                "fields": ("crm.item.fields", {"entityTypeId": DEAL, "useOriginalUfNames": "Y"}),
                "users": ("user.get", {}),
                "categories": ("crm.category.list", {"entityTypeId": DEAL}),
            },
            halt=False,
        )
        name = " ".join(filter(None, [me.get("NAME"), me.get("LAST_NAME")])) or me.get("ID")
        lines = [f"webhook works: portal {self.portal}, user {name} (ID {me.get('ID')})"]
        for key, what in (
            ("deals", "deals"),
            ("users", "users"),
            ("categories", "pipelines"),
            ("fields", "deal fields"),
        ):
            if key in answer.errors:
                error = answer.errors[key]
                lines.append(
                    f"cannot read {what}: {error.get('error')} {error.get('error_description', '')}"
                )
        if "deals" in answer.result:
            items = _items(answer.result["deals"])
            newest = f", the newest is #{items[0]['id']}" if items else ""
            lines.append(f"reads deals: yes{newest}")
        if "users" in answer.result:
            lines.append(f"reads users: yes ({len(answer.result['users'])} on the first page)")
        if "categories" in answer.result:
            cats = answer.result["categories"].get("categories", [])
            lines.append(
                f"pipelines: {', '.join(str(c.get('name')) for c in cats) or 'the general one'}"
            )
        if "fields" in answer.result:
            custom = [
                f"{key} ({info.get('title')})"
                for key, info in answer.result["fields"].get("fields", {}).items()
                if key.upper().startswith("UF_")
            ]
            lines.append(
                "custom deal fields (for Settings): " + (", ".join(custom) if custom else "none")
            )
        lines.append(f"{self.client.requests} requests")
        return lines

    # -- one pull ---------------------------------------------------------------------------

    def _context(self, pull: CrmPull) -> dict[str, str]:
        """Fields, pipelines, users, then stage names: two requests. Returns column → field."""
        answer = self.client.batch(
            {
                "fields": ("crm.item.fields", {"entityTypeId": DEAL, "useOriginalUfNames": "Y"}),
                "categories": ("crm.category.list", {"entityTypeId": DEAL}),
                "users": ("user.get", {"sort": "ID", "order": "ASC"}),
            },
            halt=False,
        )
        _raise_first(answer, "crm.item.fields, crm.category.list, user.get")
        users = list(answer.result["users"])
        while len(users) % PAGE == 0 and users and self._left(pull) > 0:  # > 50 users
            more = self.client.call("user.get", {"sort": "ID", "order": "ASC", "start": len(users)})
            users += more["result"]
            if not more["result"]:
                break
        pull.users = {
            str(u["ID"]): [
                " ".join(filter(None, [u.get("NAME"), u.get("LAST_NAME")]))
                or str(u.get("EMAIL") or u["ID"]),
                str(u.get("EMAIL") or ""),
            ]
            for u in users
        }
        categories = [int(c["id"]) for c in answer.result["categories"].get("categories", [])]
        entities = ["DEAL_STAGE"] + [f"DEAL_STAGE_{c}" for c in categories if c != 0]
        stages = self.client.batch(
            {
                f"s{n}": ("crm.status.list", {"filter": {"ENTITY_ID": e}, "order": {"SORT": "ASC"}})
                for n, e in enumerate(entities[:BATCH_SIZE])
            },
            halt=False,
        )
        _raise_first(stages, "crm.status.list")
        pull.stages = {
            str(s["STATUS_ID"]): str(s["NAME"]) for value in stages.result.values() for s in value
        }
        return self._resolve(pull, answer.result["fields"].get("fields", {}))

    def _resolve(self, pull: CrmPull, fields: Mapping[str, JSON]) -> dict[str, str]:
        """Settings may name a field by code (UF_CRM_…, ufCrm…) or by its title."""
        found: dict[str, str] = {}
        for column, wanted in pull.fields.named().items():
            key = wanted.strip().casefold()
            match = next(
                (
                    code
                    for code, info in fields.items()
                    if key
                    in (
                        code.casefold(),
                        str(info.get("upperName", "")).casefold(),
                        str(info.get("title", "")).casefold(),
                    )
                ),
                None,
            )
            if match is None:
                pull.missing.append(column)
            else:
                found[column] = match
        return found

    def _left(self, pull: CrmPull) -> int:
        return self.budget - (self.client.requests - self._first)

    def _deals(self, pull: CrmPull, select: dict[str, str]) -> None:
        cursor = pull.cursor
        since, last = cursor.get("since"), int(cursor.get("last_id", 0))
        base: JSON = {
            "entityTypeId": DEAL,
            "select": SELECT + sorted(set(select.values())),
            "order": {"id": "ASC"},
            "start": -1,
            "useOriginalUfNames": "Y",
        }
        payments = not pull.fields.paid  # a Paid field named in Settings replaces them
        chain = 1  # one page first: a quiet minute costs one request, a busy one chains 50
        while self._left(pull) > 0:
            pages, started = self._pages(base, since, last, chain)
            cursor.setdefault("pass_start", started)
            items: list[JSON] = []
            complete = False
            for page in pages:
                items += page
                if len(page) < PAGE:
                    complete = True
                    break
            if payments and items:
                room = max(0, self._left(pull)) * BATCH_SIZE
                if len(items) > room:
                    items, complete = items[:room], False
                paid = self._payments([str(i["id"]) for i in items])
            else:
                paid = {}
            pull.deals += [_deal(i, select, paid.get(str(i["id"])), payments) for i in items]
            if items:
                last = int(items[-1]["id"])
                cursor["last_id"] = last
            if complete:
                pull.complete = True
                pull.cursor = {"since": cursor.get("pass_start"), "last_id": 0}
                return
            if not items:
                return
            chain = BATCH_SIZE
        pull.cursor = cursor

    def _pages(
        self, base: JSON, since: str | None, last: int, chain: int
    ) -> tuple[list[list[JSON]], str]:
        def params(after: int | str) -> JSON:
            where: JSON = {">id": after}
            if since:
                where[">=updatedTime"] = since
            return {**base, "filter": where}

        if chain == 1:
            answer = self.client.call("crm.item.list", params(last))
            return [_items(answer["result"])], str(answer.get("time", {}).get("date_start", ""))
        commands = {"p0": ("crm.item.list", params(last))}
        for n in range(1, chain):
            commands[f"p{n}"] = (
                "crm.item.list",
                params(f"$result[p{n - 1}][items][{PAGE - 1}][id]"),
            )
        chained = self.client.batch(commands, halt=True)
        pages = []
        for n in range(chain):  # stop at the first page missing (halted) or short
            if f"p{n}" not in chained.result:
                break
            pages.append(_items(chained.result[f"p{n}"]))
        if not pages:
            _raise_first(chained, "crm.item.list")
        return pages, str(chained.time.get("date_start", ""))

    def _payments(self, ids: list[str]) -> dict[str, float]:
        paid: dict[str, float] = {}
        for start in range(0, len(ids), BATCH_SIZE):
            chunk = ids[start : start + BATCH_SIZE]
            answer = self.client.batch(
                {
                    f"d{deal}": ("crm.item.payment.list", {"entityTypeId": DEAL, "entityId": deal})
                    for deal in chunk
                },
                halt=False,
            )
            _raise_first(answer, "crm.item.payment.list")
            for key, payments in answer.result.items():
                paid[key[1:]] = sum(
                    float(p.get("sum") or 0) for p in payments if p.get("paid") == "Y"
                )
        return paid


def _items(result: Any) -> list[JSON]:
    return list(result.get("items", [])) if isinstance(result, dict) else []


def _deal(item: JSON, select: Mapping[str, str], paid: float | None, payments: bool) -> CrmDeal:
    amount = item.get("opportunity")
    return CrmDeal(
        id=str(item["id"]),
        title=str(item.get("title") or ""),
        assigned=str(item.get("assignedById") or ""),
        stage=str(item.get("stageId") or ""),
        amount=float(amount) if amount not in (None, "") else None,
        currency=str(item.get("currencyId") or ""),
        custom={column: item.get(code) for column, code in select.items()},
        payments_paid=(paid or 0.0) if payments else None,
    )


def _raise_first(answer: BatchAnswer, what: str) -> None:
    """A command's error as the client would raise it for a single call."""
    for error in answer.errors.values():
        code = str(error.get("error", ""))
        if code in _DENIED:
            raise CrmError(f"the webhook may not call {what}", kind="permission", record=what)
        raise CrmError(
            f"Bitrix24 refused {what}: {code} {error.get('error_description', '')}".strip(),
            kind="refused",
            record=f"{what}: {code}",
        )


class UnusableWebhook:
    """A webhook address that cannot be used: every pull says why, nothing is asked."""

    def __init__(self, why: str) -> None:
        self.why = why

    def pull(self, cursor: Mapping[str, Any], fields: CrmFields) -> CrmPull:
        return CrmPull(
            portal="Bitrix24",
            fields=fields,
            cursor=dict(cursor),
            error="config",
            error_detail=self.why,
        )

    def visible(self, ids: list[str]) -> set[str]:
        return set(ids)
