"""Typed amounts and dates become values once an invoice is accepted; the Log keeps the text."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.model import LogEntry, Stored
from functions.typed_values import settle_typed_values
from tests.builders import context, invoice, step


def settle(
    status: str = "awaiting_decision", locale: str = "en", date_cells: bool = True, **values: Any
) -> tuple[dict[str, Stored], list[LogEntry]]:
    ctx = replace(context(locale=locale), date_cells=date_cells)
    row = invoice(**{"invoice_date": 46346, **values})  # a date cell unless a test types one
    return settle_typed_values("INV-000001", row, status, ctx)


def test_a_typed_amount_becomes_a_number_and_the_log_keeps_the_text() -> None:
    writes, log = settle(amount="1 234,50")
    assert writes == {"amount": 1234.5}
    [entry] = log
    assert entry.as_row() == [
        "2026-11-28 10:00:00+01:00",
        "Invoice",
        "INV-000001",
        "Typed text made a value",
        "1 234,50",
        "€1,234.50",
        "",
        "Amount",
    ]
    assert (entry.flow, entry.event) == ("invoice", "typed")


def test_nothing_is_rewritten_while_the_invoice_is_new() -> None:
    assert settle("new", amount="1 234,50", invoice_date="20.11.2026") == ({}, [])


def test_a_whole_amount_is_written_as_a_whole_number() -> None:
    writes, _ = settle(amount="1 500")
    assert writes["amount"] == 1500
    assert isinstance(writes["amount"], int)


def test_the_amount_is_read_and_shown_in_the_books_language_and_currency() -> None:
    writes, log = settle(locale="ru", amount="1,234", currency="USD")
    assert writes == {"amount": 1.234}
    assert log[0].to == "1,23\u00a0$"
    assert log[0].details == "Сумма"
    assert settle(amount="1,234")[0] == {"amount": 1234}


def test_a_row_without_currency_is_shown_in_the_settings_currency() -> None:
    assert settle(amount="99", currency="  ")[1][0].to == "€99.00"
    assert settle(amount="99", currency=None)[1][0].to == "€99.00"
    assert settle(amount="99", currency=" usd ")[1][0].to == "$99.00"


def test_typed_dates_become_date_cells_only_in_a_book_that_keeps_dates() -> None:
    writes, log = settle(invoice_date="20.11.2026", paid_on="28.11.2026")
    assert writes == {"invoice_date": "2026-11-20T00:00:00", "paid_on": "2026-11-28T00:00:00"}
    assert [(e.from_, e.to, e.details) for e in log] == [
        ("20.11.2026", "Nov 20, 2026", "Invoice date"),
        ("28.11.2026", "Nov 28, 2026", "Paid on"),
    ]
    assert settle(date_cells=False, invoice_date="20.11.2026") == ({}, [])


def test_text_that_does_not_read_cleanly_and_values_already_values_are_left_alone() -> None:
    assert settle(amount="three hundred", paid_on="someday") == ({}, [])
    assert settle(amount="-5", invoice_date="31.02.2026") == ({}, [])
    assert settle(amount=1234.5, paid_on="   ") == ({}, [])


def test_the_flow_writes_the_settled_values_once_the_row_is_accepted() -> None:
    out = step(invoice(amount="1 234,50"))
    assert out.state.status == "awaiting_decision"
    assert out.writes["amount"] == 1234.5
    assert [e.from_ for e in out.log if e.event == "typed"] == ["1 234,50"]


def test_a_typed_date_is_logged_the_russian_way_in_a_russian_book() -> None:
    writes, log = settle(locale="ru", invoice_date="2026-11-20")
    assert writes == {"invoice_date": "2026-11-20T00:00:00"}
    assert [(e.from_, e.to, e.details) for e in log] == [("2026-11-20", "20.11.2026", "Дата счёта")]
