"""Numbers in the Log are formatted by Babel for the book's locale; typed text stays as typed.

And the monthly report sums payments logged the old way (`3000`, `Paid % 0 → 30`) and the
new one (`3,000.00` / `3 000,00`, `Paid % 0% → 30%` / `0 % → 30 %`) alike.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

import pytest

from functions.deal_watch import plan_deal
from functions.model import BookRead, SheetRow, TableRead
from functions.report import compute_report, log_frame
from functions.text.formats import log_value
from functions.tick.plan_deals import _deal_edits
from tests.builders import context
from tests.unit.test_deal_watch import deal
from tests.unit.test_report import PEOPLE, SCHEMA

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "column_type", "locale", "shown"),
    [
        (1234.5, "money", "en", "1,234.50"),
        (1234.5, "money", "ru", f"1{NBSP}234,50"),
        (1234.5, "text", "ru", f"1{NBSP}234,5"),
        (7, "percent", "en", "7"),
        ("2026-11-20T00:00:00", "date", "ru", "20.11.2026"),
        ("2026-11-20", "date", "en", "Nov 20, 2026"),
        ("1 234,50", "money", "en", "1 234,50"),  # a person's text: exactly as typed
        ("20.11.2026", "date", "en", "20.11.2026"),
        (None, "money", "en", ""),
        (True, "text", "en", "True"),
    ],
)
def test_a_cell_value_is_shown_in_the_log_the_books_way(
    value: object, column_type: str, locale: str, shown: str
) -> None:
    assert log_value(value, column_type, locale) == shown


def test_a_russian_deal_edit_and_payment_are_logged_with_russian_numbers() -> None:
    ctx = context(locale="ru")
    (edit,) = _deal_edits("D-1", {"amount": (10000, 12500.5)}, ctx)
    assert (edit.from_, edit.to) == (f"10{NBSP}000,00", f"12{NBSP}500,50")

    out = plan_deal(
        "D-1",
        SheetRow(2, deal(paid=4550, paid_pct=45.5)),
        {"values": {}, "state": {"pct": "0", "paid": "0"}},
        ctx,
        silent=False,
    )
    payment = next(e for e in out.log if e.event == "payment")
    assert (payment.from_, payment.to) == ("0,00", f"4{NBSP}550,00")
    assert payment.details.endswith(f"0{NBSP}% → 45,5{NBSP}%")


def _book() -> BookRead:
    empty = {
        key: TableRead(key, key, (), ()) for key in ("invoices", "deals", "people", "settings")
    }
    return BookRead("en", empty)


def _pay(time: str, before: str, after: str, details: str) -> list[Any]:
    return [time, "deal", "D-1", "payment", before, after, "Maria Lopez", details]


def test_the_report_sums_payments_logged_the_old_way_and_the_babel_way() -> None:
    zone = ZoneInfo("Europe/Berlin")
    log = [
        _pay("2026-11-02 10:00:00+01:00", "0", "3000", "Paid % 0 → 30"),  # older Logs
        _pay("2026-11-03 10:00:00+01:00", "3,000.00", "5,000.00", "Paid % 30% → 50%"),
        _pay("2026-11-04 10:00:00+01:00", f"5{NBSP}000,00", f"10{NBSP}000,00", "0 % → 100 %"),
        _pay("2026-11-05 10:00:00+01:00", f"10{NBSP}000,00", "9,000.50", "100% → 90%"),
    ]
    table = compute_report(log_frame(log, zone), _book(), PEOPLE, SCHEMA, zone, "2026-11")
    maria = table.loc["Maria Lopez"]
    assert maria["deal_received"] == 10000.0
    assert maria["deal_refunds"] == pytest.approx(999.5)
    assert maria["deals_fully_paid"] == 1  # 0 % → 100 %, read from Babel's Russian percent
