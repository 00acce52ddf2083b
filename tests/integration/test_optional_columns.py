"""A column added to the schema after books were made (Deals' Currency) is optional: a book
without it ticks as before, and a new book has it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import openpyxl

from functions.adapters.workbook.book import WorkbookBook
from tests.builders import NOW
from tests.local_backend import SCHEMA, edit_book, make_engine, new_book, outbox_messages


def _tick(book: Path, minutes: int) -> None:
    engine = make_engine(book)
    try:
        report = engine.tick(NOW + timedelta(minutes=minutes))
        assert report.outcome in ("done", "idle"), report
    finally:
        engine.state.close()


def test_a_book_without_the_deals_currency_column_still_alerts(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    wb = openpyxl.load_workbook(book)
    ws = wb["Deals"]
    currency = next(c.column for c in ws[1] if c.value == "Currency")
    ws.delete_cols(currency)
    wb.save(book)
    assert "currency" not in WorkbookBook(book, SCHEMA).read().table("deals").columns
    deal = {"deal_id": "D-1", "deal": "Steel", "amount": 1000, "paid": 0, "paid_pct": 0}
    edit_book(book, [("deals", "new", deal)])
    _tick(book, 0)
    edit_book(book, [("deals", "D-1", {"paid": 500, "paid_pct": 50})])
    _tick(book, 1)
    [alert] = outbox_messages(book.parent / "outbox")
    assert "50" in str(alert["Subject"])


def test_a_new_book_has_the_deals_currency_column(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    assert "currency" in WorkbookBook(book, SCHEMA).read().table("deals").columns
