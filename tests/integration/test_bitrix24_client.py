"""The REST client and deal source against the loopback double: limits, paging, errors.

The double follows ../shared/reference/bitrix24-rest/ (limits.md, huge-data.md, batch.md,
api-reference/crm/universal/crm-item-list.md); these tests also check that it is strict.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from functions.adapters.bitrix24.client import Bitrix24Client, LeakyBucket, parse_webhook
from functions.demo.bitrix24.portal import Portal, stage
from functions.demo.bitrix24.server import bitrix_double, php_parse
from functions.demo.bitrix24.wiring import client, deals
from functions.errors import CrmError
from functions.model import CrmFields


def many(count: int, rate: float = 2.0, burst: int = 50) -> Portal:
    portal = Portal(rate=rate, burst=burst)
    for n in range(count):
        portal.add_deal(f"Deal {n + 1}", 100.0 + n)
    return portal


def post(url: str, method: str, body: Any) -> tuple[int, Any]:
    answer = requests.post(url + method, json=body, timeout=10)
    return answer.status_code, answer.json()


def test_the_client_stays_under_the_leaky_bucket_so_the_portal_never_refuses() -> None:
    with bitrix_double(many(1)) as double:
        bitrix = client(double)
        for _ in range(200):
            bitrix.call("user.current")
        assert double.portal.refused_for_rate == 0
        elapsed = double.portal.clock.now - 1_780_000_000
        # 49 at once (one of headroom), then 2 a second: (200 - 49) / 2 s
        assert elapsed == pytest.approx(75.5, abs=1.0)


def test_enterprise_limits_are_5_a_second_with_a_burst_of_250() -> None:
    with bitrix_double(many(1, rate=5.0, burst=250)) as double:
        bitrix = client(double)
        for _ in range(300):
            bitrix.call("user.current")
        assert double.portal.refused_for_rate == 0
        assert double.portal.clock.now - 1_780_000_000 == pytest.approx(10.2, abs=0.5)


def test_query_limit_exceeded_is_retried_with_a_growing_pause() -> None:
    with bitrix_double(many(1)) as double:
        clock = double.portal.clock
        # A client that believes the portal allows more than it does (another app shares it).
        greedy = Bitrix24Client(
            parse_webhook(double.webhook),
            bucket=LeakyBucket(rate=20, capacity=500, clock=lambda: clock.now, sleep=clock.advance),
        )
        for _ in range(80):
            greedy.call("user.current")
        assert double.portal.refused_for_rate > 0
        assert greedy.retries == double.portal.refused_for_rate


@pytest.mark.parametrize(
    ("status", "code"), [(503, "QUERY_LIMIT_EXCEEDED"), (429, "OPERATION_TIME_LIMIT")]
)
def test_limit_errors_are_retried_then_reported_in_plain_words(status: int, code: str) -> None:
    with bitrix_double(many(1)) as double:
        double.portal.faults = [(status, code, "Too many requests")] * 2
        assert client(double).call("user.current")["result"]
        double.portal.faults = [(status, code, "Too many requests")] * 10
        with pytest.raises(CrmError, match="too frequent") as caught:
            client(double).call("user.current")
        assert caught.value.kind == "limit"


def test_a_portal_that_is_down_is_retried_then_reported() -> None:
    with bitrix_double(many(1)) as double:
        double.portal.down = 2
        assert client(double).call("user.current")["result"]
        double.portal.down = 100
        with pytest.raises(CrmError, match="not working") as caught:
            client(double).call("user.current")
        assert caught.value.kind == "down"


def test_a_wrong_webhook_is_explained_without_showing_its_code() -> None:
    with bitrix_double(many(1)) as double:
        hook = double.webhook
        double.portal.code = "another"
        with pytest.raises(CrmError) as caught:
            client(double, hook).call("user.current")
        assert caught.value.kind == "auth"
        assert "s3cr3tc0de9x7q2l" not in str(caught.value)
        assert "new inbound webhook" in str(caught.value)


def test_webhook_addresses_are_checked_and_shown_without_the_code() -> None:
    hook = parse_webhook("https://co.bitrix24.com/rest/7/abcdef123/profile.json")
    assert hook.base == "https://co.bitrix24.com/rest/7/abcdef123/"
    assert "abcdef123" not in hook.shown
    assert parse_webhook("http://127.0.0.1:8080/rest/1/x/").portal == "127.0.0.1:8080"
    with pytest.raises(CrmError, match="https"):
        parse_webhook("http://co.bitrix24.com/rest/1/abc/")
    with pytest.raises(CrmError, match="does not look like"):
        parse_webhook("https://co.bitrix24.com/crm/deal/")


def test_paging_follows_the_id_cursor_with_start_minus_one_over_thousands_of_deals() -> None:
    with bitrix_double(many(3000)) as double:
        source = deals(double, budget=100)
        pull = source.pull({}, CrmFields(paid="x"))  # a Paid field: no payment calls here
        assert [d.id for d in pull.deals] == [str(n) for n in range(1, 3001)]
        assert pull.complete
        lists = [p for m, p in double.portal.calls if m == "crm.item.list"]
        assert {str(p["start"]) for p in lists} == {"-1"}
        assert all(p["order"] == {"id": "ASC"} for p in lists)
        assert lists[0]["filter"] == {">id": 0}
        assert lists[1]["filter"] == {">id": "50"}  # from the chained reference, as text
        # context (2) + first page + 2 chained batches of 50 pages
        assert double.portal.http_requests == 5
        assert pull.cursor["last_id"] == 0
        assert pull.cursor["since"]


def test_a_budget_cut_leaves_the_cursor_at_the_last_deal_read() -> None:
    with bitrix_double(many(300)) as double:
        source = deals(double, budget=4)
        first = source.pull({}, CrmFields())
        assert not first.complete
        assert first.cursor["last_id"] == int(first.deals[-1].id)
        second = deals(double, budget=100).pull(first.cursor, CrmFields())
        assert second.complete
        assert [d.id for d in first.deals + second.deals] == [str(n) for n in range(1, 301)]


def test_the_double_refuses_what_the_reference_refuses() -> None:
    with bitrix_double(many(3)) as double:
        url = double.webhook
        status, body = post(url, "crm.item.list", {"entityTypeId": 2, "filter": {">nope": 1}})
        assert (status, body["error"]) == (400, "INVALID_ARG_VALUE")
        status, body = post(url, "crm.item.list", {"entityTypeId": 2, "order": {"id": "UP"}})
        assert (status, body["error"]) == (400, "INVALID_ARG_VALUE")
        status, body = post(url, "crm.item.list", {"entityTypeId": 999})
        assert (status, body["error"]) == (400, "NOT_FOUND")
        status, body = post(url, "crm.deal.list", {})  # deprecated: sheetflow never calls it
        assert status == 404
        status, body = post(url, "crm.item.payment.list", {"entityTypeId": 2})
        assert (status, body["error"]) == (400, 100)
        status, body = post(url, "crm.item.list", {"entityTypeId": 2, "start": 0})
        assert body["total"] == 3
        status, body = post(url, "crm.item.list", {"entityTypeId": 2, "start": -1})
        assert body["total"] == 0  # huge-data.md: start=-1 counts nothing
        many_commands = {f"c{n}": "user.current" for n in range(51)}
        status, body = post(url, "batch", {"cmd": many_commands})
        assert body["result"]["result_error"]["c50"]["error"] == "ERROR_BATCH_LENGTH_EXCEEDED"
        status, body = post(url, "batch", {"cmd": {"a": "batch?cmd[b]=user.current"}})
        assert body["result"]["result_error"]["a"]["error"] == "ERROR_BATCH_METHOD_NOT_ALLOWED"
        status, body = post(url, "batch", {"cmd": {"a": "user.current"}, "halt": 0})
        assert body["result"]["result_error"] == []  # PHP's empty array


def test_batch_commands_are_php_query_strings() -> None:
    assert php_parse("filter[>id]=5&select[0]=id&select[1]=title&order[id]=ASC") == {
        "filter": {">id": "5"},
        "select": ["id", "title"],
        "order": {"id": "ASC"},
    }


def test_check_says_what_the_webhook_can_read() -> None:
    portal = many(2)
    portal.add_field("UF_CRM_1700000001", "Order number")
    with bitrix_double(portal) as double:
        lines = deals(double).check()
        assert lines[0].startswith("webhook works: portal 127.0.0.1")
        assert "reads deals: yes, the newest is #2" in lines
        assert any("UF_CRM_1700000001 (Order number)" in line for line in lines)
        portal.scopes.discard("crm")
        lines = deals(double).check()
        assert any(line.startswith("cannot read deals: insufficient_scope") for line in lines)


def test_stage_names_come_from_every_pipeline() -> None:
    portal = many(2)
    portal.categories.append({"id": 9, "name": "Wholesale", "sort": 200, "entityTypeId": 2})
    portal.stages["DEAL_STAGE_9"] = [stage("DEAL_STAGE_9", "C9:WON", "Shipped to wholesaler", 10)]
    portal.update_deal(2, categoryId=9, stageId="C9:WON")
    with bitrix_double(portal) as double:
        pull = deals(double).pull({}, CrmFields())
        assert pull.stages["C9:WON"] == "Shipped to wholesaler"
        assert pull.stages["NEW"] == "New"
        statuses = [p for m, p in double.portal.calls if m == "crm.status.list"]
        assert [p["filter"] for p in statuses] == [
            {"ENTITY_ID": "DEAL_STAGE"},
            {"ENTITY_ID": "DEAL_STAGE_9"},
        ]


def test_the_deletion_check_asks_about_2500_deals_per_request() -> None:
    portal = many(3000)
    for gone in (7, 2999):
        del portal.deals[gone]
    with bitrix_double(portal) as double:
        seen = deals(double).visible([str(n) for n in range(1, 3001)])
        assert len(seen) == 2998
        assert "7" not in seen
        assert double.portal.http_requests == 2
