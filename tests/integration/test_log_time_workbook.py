"""The workbook's Log Time is a date-time cell in the Settings time zone, on both write paths.

The fast path (XML patch) and openpyxl's path must both leave a real date-time with the
book's date-time format; a Log that still holds old text Times keeps them and the monthly
report counts both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl

from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.model import LogEntry, SheetChanges
from tests.local_backend import (
    SCHEMA,
    edit_book,
    make_engine,
    new_book,
    typed_invoice,
)

NOW = datetime(2026, 11, 28, 8, 0, 5, tzinfo=UTC)  # 09:00:05 in Berlin (the book's zone)


def log_times(book: Path) -> list[openpyxl.cell.Cell]:
    ws = openpyxl.load_workbook(book)["Log"]
    return [ws.cell(row, 1) for row in range(2, ws.max_row + 1) if ws.cell(row, 1).value]


def test_a_tick_writes_log_times_as_date_time_cells_in_the_settings_zone(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [("invoices", "new", typed_invoice("A-1"))])

    make_engine(book).tick(NOW)  # openpyxl's path: a row gets its ID
    edit_book(book, [("invoices", "INV-000001", {"decision": "Approve"})])
    make_engine(book).tick(NOW + timedelta(hours=1))  # the fast path: status, Log

    times = log_times(book)
    assert len(times) >= 3
    assert {c.value for c in times} >= {
        datetime(2026, 11, 28, 9, 0, 5),
        datetime(2026, 11, 28, 10, 0, 5),
    }
    assert all(isinstance(c.value, datetime) and c.is_date for c in times)
    assert {c.number_format for c in times} == {"YYYY-MM-DD HH:MM"}
    assert openpyxl.load_workbook(book)["Log"].column_dimensions["A"].width >= 16


def test_a_russian_book_shows_log_times_the_russian_way(tmp_path: Path) -> None:
    book = tmp_path / "ru.xlsx"
    create_workbook(book, SCHEMA, "ru", settings={"time_zone": "Europe/Moscow"})
    stamp = "2026-11-28 11:00:05+03:00"
    wb = WorkbookBook(book, SCHEMA)
    wb.apply(SheetChanges(log=[LogEntry(stamp, "invoice", "INV-1", "created")]), None)

    ws = openpyxl.load_workbook(book)["Журнал"]
    assert ws["A2"].value == datetime(2026, 11, 28, 11, 0, 5)
    assert ws["A2"].number_format == "DD.MM.YYYY HH:MM"


def test_old_text_times_stay_and_the_report_counts_old_and_new_rows(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    old = LogEntry(
        "2026-11-02 10:00:00+01:00",
        "invoice",
        "INV-000009",
        "transition",
        "New",
        "Rework",
        "Maria Lopez",
    )
    wb = openpyxl.load_workbook(book)
    wb["Log"].append(old.as_row())  # as sheetflow wrote Times before: text with the offset
    wb.save(book)
    edit_book(book, [("invoices", "new", typed_invoice("A-1"))])
    engine = make_engine(book)
    engine.tick(NOW)
    edit_book(book, [("invoices", "INV-000001", {"decision": "Rework", "comment": "scan"})])
    make_engine(book).tick(NOW + timedelta(minutes=5))

    times = log_times(book)
    assert times[0].value == "2026-11-02 10:00:00+01:00"
    assert all(isinstance(c.value, datetime) for c in times[1:])
    make_engine(book).monthly_report("2026-11", NOW + timedelta(hours=1))
    ws = openpyxl.load_workbook(book)["Report 2026-11"]
    headers = [c.value for c in ws[1]]
    maria = next(
        dict(zip(headers, [c.value for c in r], strict=True))
        for r in ws.iter_rows(min_row=2)
        if r[0].value == "Maria Lopez"
    )
    assert maria["Invoices submitted"] == 2  # one from an old text Time, one from a new one
    assert maria["Sent to rework"] == 2
