"""On a Google Sheet an accepted typed date becomes the day number Google reads back."""

from __future__ import annotations

from dataclasses import replace

from functions.typed_values import settle_typed_values
from tests.builders import context, invoice


def test_a_typed_date_becomes_a_serial_day_number_when_the_book_keeps_dates_as_serials() -> None:
    ctx = replace(context(), date_serials=True)
    values = invoice(invoice_date="20.11.2026", paid_on="1.12.2026", amount="1 234,50")
    writes, log = settle_typed_values("INV-000001", values, "awaiting_decision", ctx)
    assert writes == {"invoice_date": 46346, "paid_on": 46357, "amount": 1234.5}
    assert [(e.from_, e.to) for e in log] == [
        ("20.11.2026", "Nov 20, 2026"),
        ("1 234,50", "€1,234.50"),
        ("1.12.2026", "Dec 1, 2026"),
    ]


def test_a_book_without_date_cells_or_serials_keeps_typed_dates_as_text() -> None:
    values = invoice(invoice_date="20.11.2026", amount="980.00")
    writes, _log = settle_typed_values("INV-000001", values, "awaiting_decision", context())
    assert writes == {"amount": 980}


def test_workbook_date_cells_get_iso_midnight_not_a_serial() -> None:
    ctx = replace(context(), date_cells=True)
    writes, _log = settle_typed_values("INV-000001", invoice(), "awaiting_decision", ctx)
    assert writes["invoice_date"] == "2026-11-20T00:00:00"
