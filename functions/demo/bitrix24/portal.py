"""A Bitrix24 portal's data and rules, as ../shared/reference/bitrix24-rest/ describes them.

Each rule names the page it comes from. The clock is virtual: the leaky bucket drains as the
test (or the client's pauses) move it, so no test sleeps.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

JSON = dict[str, Any]
PAGE = 50  # settings/how-to-call-rest-api/list-methods-pecularities.md: "no more than 50"
STANDARD_DEAL_FIELDS = {
    # api-reference/crm/universal/object-fields.md (common fields and Deal)
    "id": ("integer", "ID"),
    "title": ("string", "Name"),
    "assignedById": ("user", "Responsible person"),
    "stageId": ("crm_status", "Stage"),
    "categoryId": ("crm_category", "Funnel"),
    "opportunity": ("double", "Amount"),
    "currencyId": ("crm_currency", "Currency"),
    "createdTime": ("datetime", "Created on"),
    "updatedTime": ("datetime", "Modified on"),
    "closed": ("boolean", "Closed"),
}


class ApiError(Exception):
    def __init__(self, status: int, code: str | int, description: str) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description

    def body(self) -> JSON:
        return {"error": self.code, "error_description": self.description}


@dataclass
class Clock:
    now: float = 1_780_000_000.0

    def advance(self, seconds: float) -> None:
        self.now += max(0.0, seconds)

    def iso(self, offset: float = 0.0) -> str:
        moment = datetime.fromtimestamp(self.now + offset, UTC).astimezone()
        return moment.replace(microsecond=0).isoformat()


@dataclass
class Portal:
    """One portal: deals, users, pipelines, stages, payments, custom fields, one webhook."""

    domain: str = "demo.bitrix24.com"
    user_id: str = "1"
    code: str = "s3cr3tc0de9x7q2l"
    scopes: set[str] = field(default_factory=lambda: {"crm", "user"})
    deal_access: bool = True  # the webhook's user may read deals
    rate: float = 2.0  # limits.md: 2 per second (Enterprise 5), burst 50 (Enterprise 250)
    burst: int = 50
    clock: Clock = field(default_factory=Clock)
    deals: dict[int, JSON] = field(default_factory=dict)
    payments: dict[int, list[JSON]] = field(default_factory=dict)
    users: dict[int, JSON] = field(default_factory=dict)
    categories: list[JSON] = field(default_factory=list)
    stages: dict[str, list[JSON]] = field(default_factory=dict)
    userfields: dict[str, str] = field(default_factory=dict)  # UF_CRM_… → title
    down: int = 0  # the next N requests answer 502 (the portal is not working)
    faults: list[tuple[int, str, str]] = field(default_factory=list)  # next answers, in order
    # Test hooks: run after every HTTP request (e.g. change a deal in the middle of an import).
    after_request: list[Any] = field(default_factory=list)
    calls: list[tuple[str, JSON]] = field(default_factory=list)  # every method, batch inner too
    http_requests: int = 0
    refused_for_rate: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    _level: float = 0.0
    _last: float | None = None
    _next_deal: int = 1

    def __post_init__(self) -> None:
        if not self.stages:
            self.stages = {
                "DEAL_STAGE": [
                    _stage("DEAL_STAGE", "NEW", "New", 10),
                    _stage("DEAL_STAGE", "PREPARATION", "Document preparation", 20),
                    _stage("DEAL_STAGE", "EXECUTING", "In progress", 30),
                    _stage("DEAL_STAGE", "WON", "Deal won", 60),
                    _stage("DEAL_STAGE", "LOSE", "Deal lost", 70),
                ]
            }
        if not self.categories:
            self.categories = [
                {"id": 0, "name": "General", "sort": 100, "entityTypeId": 2, "isDefault": "Y"}
            ]
        if not self.users:
            self.add_user("Anna", "Manager", "anna@example.com")

    # -- data the tests set up --------------------------------------------------------------

    def add_user(self, name: str, last: str, email: str) -> int:
        uid = len(self.users) + 1
        self.users[uid] = {
            "ID": str(uid),
            "ACTIVE": True,
            "NAME": name,
            "LAST_NAME": last,
            "EMAIL": email,
        }
        return uid

    def add_deal(self, title: str, amount: float, **fields: Any) -> int:
        deal_id = self._next_deal
        self._next_deal += 1
        now = self.clock.iso()
        self.deals[deal_id] = {
            "id": deal_id,
            "title": title,
            "assignedById": 1,
            "stageId": "NEW",
            "categoryId": 0,
            "opportunity": amount,
            "currencyId": "EUR",
            "createdTime": now,
            "updatedTime": now,
            "closed": "N",
            **{k: None for k in self.userfields},
            **fields,
        }
        return deal_id

    def update_deal(self, deal_id: int, **fields: Any) -> None:
        self.deals[deal_id].update(fields, updatedTime=self.clock.iso())

    def pay(self, deal_id: int, amount: float, paid: bool = True) -> None:
        """A payment of the deal (crm-item-payment-list.md); changes the deal's update time."""
        rows = self.payments.setdefault(deal_id, [])
        rows.append(
            {
                "id": 1000 + sum(len(p) for p in self.payments.values()),
                "accountNumber": f"{deal_id}/{len(rows) + 1}",
                "paid": "Y" if paid else "N",
                "datePaid": self.clock.iso() if paid else None,
                "sum": amount,
                "currency": self.deals[deal_id]["currencyId"],
            }
        )
        self.deals[deal_id]["updatedTime"] = self.clock.iso()

    def add_field(self, code: str, title: str) -> None:
        self.userfields[code] = title
        for deal in self.deals.values():
            deal.setdefault(code, None)

    # -- the rules --------------------------------------------------------------------------

    def admit(self) -> None:
        """limits.md: +1 per HTTP request, −rate per second; over the burst → 503."""
        now = self.clock.now
        if self._last is not None:
            self._level = max(0.0, self._level - (now - self._last) * self.rate)
        self._last = now
        if self._level + 1 > self.burst:
            self.refused_for_rate += 1
            raise ApiError(503, "QUERY_LIMIT_EXCEEDED", "Too many requests")
        self._level += 1

    def time(self) -> JSON:
        """The `time` object of every answer (api-reference/data-types.md#time)."""
        return {
            "start": self.clock.now,
            "finish": self.clock.now + 0.05,
            "duration": 0.05,
            "processing": 0.04,
            "date_start": self.clock.iso(),
            "date_finish": self.clock.iso(0.05),
            "operating": 0,
        }


def _stage(entity: str, code: str, name: str, sort: int) -> JSON:
    return {
        "ID": str(sort),
        "ENTITY_ID": entity,
        "STATUS_ID": code,
        "NAME": name,
        "NAME_INIT": name,
        "SORT": str(sort),
        "SYSTEM": "N",
        "CATEGORY_ID": None,
    }


def stage(entity: str, code: str, name: str, sort: int) -> JSON:
    return _stage(entity, code, name, sort)


def parse_time(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value))
    except ValueError as exc:
        raise ApiError(
            400, "INVALID_ARG_VALUE", "Invalid filter: field 'updatedTime' has invalid value"
        ) from exc


def later(moment: str, seconds: float) -> str:
    return (datetime.fromisoformat(moment) + timedelta(seconds=seconds)).isoformat()
