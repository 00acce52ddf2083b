"""Ticks on real .xlsx files: what people do to a workbook in LibreOffice or Excel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import Locale, load_schema
from functions.tick.engine import Engine
from functions.wiring.bootstrap import Config, build_engine
from tests.builders import typed_invoice

SCHEMA = load_schema()
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
]


def invoice(number: str, **extra: object) -> dict[str, object]:
    return {**typed_invoice(number, supplier_email="b@acme.example"), **extra}


def make(tmp_path: Path, locale: Locale = "en") -> tuple[Path, WorkbookEditor, Engine]:
    path = tmp_path / "book.xlsx"
    create_workbook(path, SCHEMA, locale, people=PEOPLE, settings={"time_zone": "Europe/Berlin"})
    return path, WorkbookEditor(path, SCHEMA, locale), build_engine(Config(str(path)))


def test_sorting_rows_and_moving_columns_changes_nothing(tmp_path: Path) -> None:
    path, edit, engine = make(tmp_path)
    for number in ("A-1", "A-2", "A-3"):
        edit.add_row("invoices", invoice(number))
    engine.tick(NOW)
    wb = openpyxl.load_workbook(path)
    ws = wb["Invoices"]
    rows = [[c.value for c in row] for row in ws.iter_rows(min_row=2, max_row=4)]
    for r, values in enumerate(reversed(rows), start=2):  # sort descending by ID
        for c, value in enumerate(values, start=1):
            ws.cell(r, c).value = value
    ws.move_range("B1:B4", cols=ws.max_column)  # Manager column moved to the far right
    ws.insert_cols(1)  # and a new empty column in front
    wb.save(path)
    before = path.read_bytes()
    report = engine.tick(NOW + timedelta(minutes=1))
    assert report.outcome == "idle", report
    assert path.read_bytes() == before
    assert [r["id"] for r in edit.rows("invoices")] == ["INV-000003", "INV-000002", "INV-000001"]


def test_the_tick_after_its_own_save_reads_nothing_until_a_person_saves(tmp_path: Path) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("A-1"))
    assert engine.tick(NOW).outcome == "done"
    reads: list[int] = []
    read = engine.book.read
    engine.book.read = lambda tabs=None: reads.append(1) or read(tabs)  # type: ignore[method-assign,func-returns-value]
    assert engine.tick(NOW + timedelta(minutes=1)).outcome == "idle"
    assert reads == []  # the file is the one its own save left
    row = next(r for r in edit.rows("invoices") if r["invoice_no"] == "A-1")
    edit.set("invoices", row["id"], {"decision": "Approve"})
    assert engine.tick(NOW + timedelta(minutes=2)).outcome == "done"
    assert reads == [1]
    assert edit.rows("invoices")[0]["status"] == "Awaiting accountant"


def test_dates_as_excel_serials_or_date_cells_and_hidden_or_gapped_rows_work(
    tmp_path: Path,
) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("S-1", invoice_date=46354))
    edit.add_row("invoices", invoice("D-1", invoice_date=datetime(2026, 11, 20)))
    wb = openpyxl.load_workbook(path)
    ws = wb["Invoices"]
    ws.insert_rows(3)  # a blank row in the middle
    ws.row_dimensions[2].hidden = True  # and a hidden row
    wb.save(path)
    engine.tick(NOW)
    statuses = {r["invoice_no"]: r["status"] for r in edit.rows("invoices")}
    assert statuses == {"S-1": "Awaiting decision", "D-1": "Awaiting decision"}


def test_a_book_open_in_libreoffice_is_left_alone_until_it_is_closed(tmp_path: Path) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("L-1"))
    lock = tmp_path / ".~lock.book.xlsx#"
    lock.write_text("someone,host,user,28.11.2026 09:00,file:///home/user/.config/libreoffice;")
    before = path.read_bytes()
    report = engine.tick(NOW)
    assert report.outcome == "busy"
    assert "open in LibreOffice" in report.message
    assert path.read_bytes() == before
    assert not list((tmp_path / "outbox").glob("*.eml")) if (tmp_path / "outbox").exists() else True
    lock.unlink()
    assert engine.tick(NOW + timedelta(minutes=1)).outcome == "done"
    assert edit.row("invoices", "INV-000001")["status"] == "Awaiting decision"
    assert len(list((tmp_path / "outbox").glob("*.eml"))) == 1


def test_a_russian_book_gets_russian_statuses_and_reads_russian_words(tmp_path: Path) -> None:
    path, edit, engine = make(tmp_path, "ru")
    edit.add_row("invoices", invoice("R-1"))
    engine.tick(NOW)
    edit.set("invoices", "INV-000001", {"decision": "Согласовать"})
    engine.tick(NOW + timedelta(minutes=1))
    row = edit.row("invoices", "INV-000001")
    assert row["status"] == "Ожидает бухгалтера"
    log = edit.rows("log")
    assert [r["to"] for r in log if r["event"] == "Смена статуса"][-1] == "Ожидает бухгалтера"
    assert {r["flow"] for r in log} == {"Счёт", "Сделка"}  # the Log in the book's language


def test_deleting_a_row_is_logged_with_its_last_values(tmp_path: Path) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("X-1"))
    edit.add_row("invoices", invoice("X-2"))
    engine.tick(NOW)
    wb = openpyxl.load_workbook(path)
    wb["Invoices"].delete_rows(2)
    wb.save(path)
    report = engine.tick(NOW + timedelta(minutes=1))
    assert any("INV-000001: row deleted" in p for p in report.problems)
    removed = [r for r in edit.rows("log") if r["event"] == "Row deleted"]
    assert len(removed) == 1
    assert "X-1" in removed[0]["details"]


@pytest.mark.parametrize("typed", ["=1+1", "+7 (999) 123", "-5", "@SUM(A1)"])
def test_formula_like_text_written_back_is_text(tmp_path: Path, typed: str) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("F-1", signer="Dmitry Volkov"))
    engine.tick(NOW)
    edit.set("invoices", "INV-000001", {"decision": "Approve"})
    engine.tick(NOW + timedelta(seconds=30))
    edit.set("invoices", "INV-000001", {"accountant": "Irina K"})
    engine.tick(NOW + timedelta(minutes=1))
    wb = openpyxl.load_workbook(path)  # typed into a text cell, as LibreOffice keeps it
    ws = wb["Invoices"]
    accountant = next(c for c in ws[1] if c.value == "Accountant").column
    ws.cell(2, accountant).value = typed
    ws.cell(2, accountant).data_type = "s"
    wb.save(path)
    engine.tick(NOW + timedelta(minutes=2))
    assert edit.row("invoices", "INV-000001")["accountant"] == "Irina K"
    wb = openpyxl.load_workbook(path)
    ws = wb["Invoices"]
    note = next(c for c in ws[1] if c.value == "Note").column
    cell = ws.cell(2, note)
    assert cell.data_type == "s"
    assert typed in str(cell.value)


def test_an_amount_formula_saved_by_openpyxl_is_read_as_uncomputed_and_explained(
    tmp_path: Path,
) -> None:
    path, edit, engine = make(tmp_path)
    edit.add_row("invoices", invoice("Q-1", amount=None))
    wb = openpyxl.load_workbook(path)
    ws = wb["Invoices"]
    amount = next(c for c in ws[1] if c.value == "Amount").column
    ws.cell(2, amount).value = "=600*2"  # saved by openpyxl: a formula with no computed value
    wb.save(path)
    engine.tick(NOW)
    note = edit.row("invoices", "INV-000001")["note"]
    assert "Amount holds the formula =600*2, which no office program has computed yet" in note
