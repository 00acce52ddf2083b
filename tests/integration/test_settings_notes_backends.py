"""A Settings problem is a Note beside its value on both backends, and goes when fixed.

Through the real adapters: the workbook (openpyxl, as LibreOffice opens it) and a Google Sheet
(the Sheets test double, checked against the discovery document). A book made before the
Settings Note column existed gets the column the first time there is something to say.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl
import pytest

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook.book import create_workbook
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine, TickReport
from tests.fakes import FakeMail
from tests.google_double import GoogleDouble
from tests.google_double.cells import Cell
from tests.google_double.people import SheetEditor, new_google_book
from tests.local_backend import PEOPLE, make_engine

SCHEMA = load_schema()
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
NO_SENDER = {"company": "Northwind", "time_zone": "Europe/Berlin", "currency": "EUR"}


def sender_said(report: TickReport) -> str:
    (said,) = [p for p in report.problems if "Sender" in p]
    return said


def settings_cells(path: Path) -> dict[str, dict[str, object]]:
    """Settings as LibreOffice shows it: per Key, every header → cell value."""
    ws = openpyxl.load_workbook(path)["Settings"]
    rows = list(ws.iter_rows(values_only=True))
    header = [str(h) if h else "" for h in rows[0]]
    return {str(r[0]): dict(zip(header, r, strict=False)) for r in rows[1:] if r[0]}


def set_setting(path: Path, key: str, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb["Settings"]
    row = next(r for r in ws.iter_rows(min_row=2) if r[0].value == key)
    row[1].value = value
    wb.save(path)


def test_a_workbook_gets_the_note_beside_sender_and_loses_it_once_fixed(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings=NO_SENDER)
    assert list(settings_cells(path)["Sender"]) == ["Key", "Value", "Note", "Description"]

    said = sender_said(make_engine(path).tick(NOW))
    assert "sheetflow@localhost" in said
    assert settings_cells(path)["Sender"]["Note"] == said
    assert not settings_cells(path)["Currency"]["Note"]

    set_setting(path, "Sender", "flow@example.com")
    fixed = make_engine(path).tick(NOW + timedelta(minutes=1))
    assert "Settings: Sender is fine now" in fixed.problems
    assert settings_cells(path)["Sender"]["Note"] is None
    assert settings_cells(path)["Sender"]["Value"] == "flow@example.com"


def test_a_workbook_made_before_the_note_column_gets_it_after_description(tmp_path: Path) -> None:
    path = tmp_path / "old.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings=NO_SENDER)
    wb = openpyxl.load_workbook(path)
    wb["Settings"].delete_cols(3)  # Key | Value | Description, as the earlier init made it
    wb.save(path)

    said = sender_said(make_engine(path).tick(NOW))
    sender = settings_cells(path)["Sender"]
    assert list(sender) == ["Key", "Value", "Description", "Note"]
    assert sender["Note"] == said
    assert sender["Description"], "the description a person reads stays where it was"


def google_engine(book: GoogleSheetBook, tmp_path: Path) -> Engine:
    state = SqliteState(tmp_path / "google.state.sqlite")
    return Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_a_google_sheet_gets_the_note_beside_sender_and_loses_it_once_fixed(
    tmp_path: Path, locale: str
) -> None:
    double = GoogleDouble()
    sid, book = new_google_book(double, SCHEMA, locale, PEOPLE, NO_SENDER)  # type: ignore[arg-type]
    editor = SheetEditor(double, sid, SCHEMA, locale)  # type: ignore[arg-type]
    key = SCHEMA.labels.settings_keys["sender"][locale]  # type: ignore[index]
    engine = google_engine(book, tmp_path)

    report = engine.tick(NOW)
    (said,) = [p for p in report.problems if key in p]
    assert editor.row("settings", key)["note"] == said
    if locale == "ru":
        assert said.startswith("Настройки: не заполнен «Отправитель»")

    editor.set("settings", key, {"value": "flow@example.com"})
    fixed = engine.tick(NOW + timedelta(minutes=1))
    assert editor.row("settings", key)["note"] is None
    assert any(key in p for p in fixed.problems), "the output says it is fixed"


def test_a_google_sheet_made_before_the_note_column_is_widened_for_it(tmp_path: Path) -> None:
    double = GoogleDouble()
    sid, book = new_google_book(double, SCHEMA, "en", PEOPLE, NO_SENDER)
    sheet = double.book(sid).sheet_by_title("Settings")
    # Key | Value | Description in a three-column tab, as the earlier init made it.
    sheet.cells = {(r, 2 if c == 3 else c): cell for (r, c), cell in sheet.cells.items() if c != 2}
    sheet.properties["gridProperties"]["columnCount"] = 3
    assert isinstance(sheet.cells[(0, 2)], Cell)

    said = sender_said(google_engine(book, tmp_path).tick(NOW))
    editor = SheetEditor(double, sid, SCHEMA, "en")
    assert editor.grid("settings")[0] == ["Key", "Value", "Description", "Note"]
    assert editor.row("settings", "Sender")["note"] == said
    assert double.book(sid).sheet_by_title("Settings").columns == 4
