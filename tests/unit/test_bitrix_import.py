"""The pure half of the Bitrix24 import: mapping deals to rows and deciding what to write."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.bitrix_import import plan_import
from functions.model import CellWrite, CrmDeal, CrmFields, CrmPull, RowAppend, SheetRow, TableRead
from tests.builders import SETTINGS, context

DEAL_COLUMNS = (
    "deal_id",
    "deal",
    "manager",
    "stage",
    "amount",
    "paid",
    "paid_pct",
    "order_no",
    "invoice_no",
    "note",
)


def deals_tab(*rows: dict[str, Any]) -> TableRead:
    return TableRead(
        "deals",
        "Deals",
        DEAL_COLUMNS,
        tuple(SheetRow(n + 2, {k: row.get(k) for k in DEAL_COLUMNS}) for n, row in enumerate(rows)),
    )


def settings_tab(status: str | None = None) -> TableRead:
    rows = (SheetRow(2, {"key": "Bitrix24 status", "value": status}),) if status else ()
    return TableRead("settings", "Settings", ("key", "value"), rows)


def pull(*deals: CrmDeal, **extra: object) -> CrmPull:
    values: dict[str, object] = {
        "portal": "co.bitrix24.com",
        "fields": CrmFields(),
        "deals": list(deals),
        "users": {"7": ["Maria L.", "maria@example.com"], "8": ["Ivan Petrov", "ivan@example.com"]},
        "stages": {"NEW": "New", "C1:WON": "Won (wholesale)"},
        "cursor": {"since": "2026-11-28T09:00:00+00:00", "last_id": 0},
        "complete": True,
    }
    values.update(extra)
    return CrmPull(**values)  # type: ignore[arg-type]


def deal(deal_id: str = "12", **extra: object) -> CrmDeal:
    values: dict[str, object] = {
        "id": deal_id,
        "title": "Steel for Acme",
        "assigned": "7",
        "stage": "C1:WON",
        "amount": 2000.0,
        "currency": "EUR",
        "payments_paid": 500.0,
    }
    values.update(extra)
    return CrmDeal(**values)  # type: ignore[arg-type]


def test_a_new_deal_is_appended_with_names_not_codes() -> None:
    out = plan_import(pull(deal()), deals_tab(), settings_tab(), context(), {})
    assert out.changes.appends[0] == RowAppend(
        "deals",
        "12",
        {
            "deal_id": "12",
            "deal": "Steel for Acme",
            "manager": "Maria Lopez",  # the People name of the user's email
            "stage": "Won (wholesale)",
            "amount": 2000,
            "currency": "EUR",  # the deal's own currency, in the Currency column
            "paid": 500,
            "paid_pct": 25,
        },
    )
    assert out.silent_next  # the first import is recorded silently by the deal watcher


def test_a_changed_deal_writes_only_the_cells_that_differ_with_what_was_read() -> None:
    row = {
        "deal_id": "12",
        "deal": "Steel for Acme",
        "manager": "Maria Lopez",
        "stage": "New",
        "amount": "2 000,00",
        "paid": 500,
        "paid_pct": 25,
        "note": "typed by a person",
    }
    out = plan_import(pull(deal()), deals_tab(row), settings_tab(), context(), {})
    assert [a for a in out.changes.appends if a.tab == "deals"] == []
    assert out.changes.writes[0] == CellWrite("deals", "12", 2, "stage", "Won (wholesale)", "New")
    assert [w.column for w in out.changes.writes if w.tab == "deals"] == ["stage"]


def test_a_user_not_in_people_keeps_the_name_bitrix24_gives() -> None:
    out = plan_import(pull(deal(assigned="8")), deals_tab(), settings_tab(), context(), {})
    assert out.changes.appends[0].values["manager"] == "Ivan Petrov"


def test_custom_fields_named_in_settings_fill_paid_and_numbers() -> None:
    fields = CrmFields(paid="UF_CRM_PAID", order_no="UF_CRM_ORDER")
    settings = replace(SETTINGS, bitrix24_paid="UF_CRM_PAID", bitrix24_order_no="UF_CRM_ORDER")
    ctx = replace(context(), settings=settings)
    item = deal(custom={"paid": "1500|EUR", "order_no": ["ORD-9"]}, payments_paid=None)
    out = plan_import(pull(item, fields=fields), deals_tab(), settings_tab(), ctx, {})
    values = out.changes.appends[0].values
    assert (values["paid"], values["paid_pct"], values["order_no"]) == (1500, 75, "ORD-9")


def test_settings_changed_since_the_pull_discards_it_and_reads_everything_again() -> None:
    settings = replace(SETTINGS, bitrix24_paid="UF_CRM_PAID")
    ctx = replace(context(), settings=settings)
    out = plan_import(pull(deal()), deals_tab(), settings_tab(), ctx, {})
    assert out.changes.is_empty()
    assert out.meta["cursor"] == {}
    assert out.meta["fields"]["paid"] == "UF_CRM_PAID"


def test_an_error_is_logged_once_and_written_to_settings_while_deals_stay() -> None:
    broken = pull(error="auth", deals=[], cursor={})
    first = plan_import(broken, deals_tab({"deal_id": "12"}), settings_tab("ok"), context(), {})
    assert [e.event for e in first.changes.log] == ["problem"]
    assert first.changes.writes[0].tab == "settings"
    assert "does not accept the webhook" in str(first.changes.writes[0].value)
    assert not [w for w in first.changes.writes if w.tab == "deals"]
    again = plan_import(
        broken,
        deals_tab(),
        settings_tab(str(first.changes.writes[0].value)),
        context(),
        {"bitrix24": first.meta},
    )
    assert again.changes.is_empty()


def test_the_status_row_is_added_to_settings_when_missing() -> None:
    out = plan_import(pull(), deals_tab(), settings_tab(), context(), {})
    assert out.changes.appends[0].tab == "settings"
    assert out.changes.appends[0].record == "Bitrix24 status"


def test_a_russian_book_gets_russian_words() -> None:
    out = plan_import(
        pull(error="down", deals=[]), deals_tab(), settings_tab(), context(locale="ru"), {}
    )
    assert "не отвечает" in str(out.changes.appends[0].values["value"])
    assert out.changes.appends[0].record == "Статус Битрикс24"


def test_deleted_deals_are_marked_in_stage_and_logged() -> None:
    rows = [{"deal_id": str(n), "stage": "New"} for n in (1, 2, 3)]
    gone = pull(checked=["1", "2", "3"], visible=["1", "3"])
    out = plan_import(gone, deals_tab(*rows), settings_tab(), context(), {})
    assert [w for w in out.changes.writes if w.tab == "deals"] == [
        CellWrite("deals", "2", 3, "stage", "Deleted in Bitrix24", "New")
    ]
    assert [e.record for e in out.changes.log if e.event == "deleted"] == ["2"]


def test_every_deal_invisible_at_once_is_not_taken_for_a_mass_deletion() -> None:
    rows = [{"deal_id": str(n), "stage": "New"} for n in range(1, 10)]
    blind = pull(checked=[str(n) for n in range(1, 10)], visible=[])
    out = plan_import(blind, deals_tab(*rows), settings_tab(), context(), {})
    assert not [w for w in out.changes.writes if w.tab == "deals"]


def test_the_status_row_changing_does_not_re_plan_every_invoice() -> None:
    from functions.schema import load_schema
    from functions.tick.planner import plan_tick
    from tests.builders import NOW
    from tests.fakes import FakeBook

    contexts = []
    for key, value in (
        ("Bitrix24 status", "importing"),
        ("Bitrix24 status", "done"),
        ("Company", "Other"),
    ):
        book = FakeBook()
        book.tabs["settings"] = [{"key": key, "value": value}]
        contexts.append(plan_tick(book.read(), {}, {}, load_schema(), NOW).meta["context"])
    assert contexts[0] == contexts[1]
    assert contexts[0] != contexts[2]
