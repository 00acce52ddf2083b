"""Values as values: an accepted invoice's typed amount and dates become a number and dates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl

from tests.local_backend import edit_book, make_engine, new_book, rows_by_header, typed_invoice

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def cells(book: Path, record: str) -> dict[str, openpyxl.cell.Cell]:
    ws = openpyxl.load_workbook(book)["Invoices"]
    headers = {c.value: c.column for c in ws[1]}
    row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, 1).value == record)
    return {str(h): ws.cell(row, col) for h, col in headers.items()}


def test_an_accepted_row_gets_a_number_and_a_date_and_the_log_keeps_the_typed_text(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [("invoices", "new", typed_invoice("A-1", amount="1 234,50"))])

    report = make_engine(book).tick(NOW)

    row = cells(book, "INV-000001")
    assert row["Status"].value == "Awaiting decision"
    assert row["Amount"].value == 1234.5
    assert row["Amount"].number_format == "#,##0.00"
    assert row["Invoice date"].value == datetime(2026, 11, 20)
    assert row["Invoice date"].is_date
    typed = [r for r in rows_by_header(book, "Log") if r["Event"] == "Typed text made a value"]
    assert [(r["From"], r["Details"]) for r in typed] == [
        ("20.11.2026", "Invoice date"),
        ("1 234,50", "Amount"),
    ]
    assert [r["To"] for r in typed] == ["Nov 20, 2026", "€1,234.50"]
    assert report.outcome == "done"

    again = make_engine(book).tick(NOW)
    assert again.outcome == "idle", "the rewritten cells must not read as a person's edit"


def test_a_row_still_new_keeps_its_text_as_typed(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [("invoices", "new", typed_invoice("A-2", amount="980.00", signer=""))])

    make_engine(book).tick(NOW)

    row = cells(book, "INV-000001")
    assert row["Status"].value == "New"
    assert row["Amount"].value == "980.00"
    assert row["Invoice date"].value == "20.11.2026"


def test_text_that_does_not_read_as_a_date_is_left_for_the_note(tmp_path: Path) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [("invoices", "new", typed_invoice("A-3", amount="50"))])
    make_engine(book).tick(NOW)
    edit_book(book, [("invoices", "INV-000001", {"decision": "Approve"})])
    make_engine(book).tick(NOW + timedelta(minutes=1))
    paid = {"accountant": "Irina K", "paid_on": "soon"}  # typed once the invoice was approved
    edit_book(book, [("invoices", "INV-000001", paid)])
    make_engine(book).tick(NOW + timedelta(minutes=2))

    row = cells(book, "INV-000001")
    assert row["Paid on"].value == "soon"
    assert row["Amount"].value == 50
