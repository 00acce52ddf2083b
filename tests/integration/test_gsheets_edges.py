"""Paths no story reaches: tab titles that need quoting, and boolean (checkbox) cells.

Production addresses tabs by title in A1 ranges (`quote`), so a title with an apostrophe, an
exclamation mark or a colon must survive the round trip through Google's range parser (the
double's, which follows the documented quoting: single quotes around, a quote doubled).
Checkbox cells hold booleans: Google answers `true`/`false`, and the adapter writes
`boolValue`; the People tab's Active column is read from them.
"""

from __future__ import annotations

from typing import Any

import gspread
import pytest

from functions.adapters.gsheets.api import SheetsApi
from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.gsheets.grid import quote
from functions.directory import read_directory
from functions.model import CellWrite, SheetChanges
from functions.schema import load_schema
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.a1 import column_letter
from tests.google_double.people import SheetEditor, new_google_book, no_sleep

SCHEMA = load_schema()
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Sean O'Brien", "sean@example.com", "accountant", True),
]
TITLES = [
    "Mia's notes",
    "'",
    "''",
    "O'Brien's 'Q1'",
    "A!B:C",
    "Sheet 1",
    "Счета 2026",
    "1st",
    "R1C1",
    "A1",
]


def add_tab(double: GoogleDouble, sid: str, title: str) -> None:
    request = {"addSheet": {"properties": {"title": title}}}
    double.client(OWNER).http_client.batch_update(sid, {"requests": [request]})


@pytest.mark.parametrize("title", TITLES)
def test_a_tab_title_needing_quotes_is_read_back_through_the_range_production_quotes(
    title: str,
) -> None:
    double = GoogleDouble()
    sid = double.create_spreadsheet("t")
    add_tab(double, sid, title)
    owner = double.client(OWNER).http_client
    owner.values_update(
        sid, f"{quote(title)}!A1", {"valueInputOption": "RAW"}, {"values": [[title, 42]]}
    )
    api = SheetsApi(double.client(SERVICE_ACCOUNT), sid, sleep=no_sleep)
    (grid,) = api.batch_get([quote(title)])
    assert grid == [[title, 42]]
    (row,) = api.batch_get([f"{quote(title)}!B1:B1"])
    assert row == [[42]]


@pytest.mark.parametrize(
    "written", ["'Mia's notes'!A1", "'Mia''s notes!A1", "'Mia''s notes'A1", "'Mia''s note'!A1"]
)
def test_a_range_with_a_title_quoted_wrongly_is_refused_like_google(written: str) -> None:
    double = GoogleDouble()
    sid = double.create_spreadsheet("t")
    add_tab(double, sid, "Mia's notes")
    with pytest.raises(gspread.exceptions.APIError, match="Unable to parse range") as caught:
        double.client(OWNER).http_client.values_get(sid, written)
    assert caught.value.response.status_code == 400


@pytest.fixture
def made() -> tuple[GoogleDouble, str, GoogleSheetBook, SheetEditor]:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, book = new_google_book(double, SCHEMA, "en", PEOPLE, {"company": "N"}, writers=writers)
    return double, sid, book, SheetEditor(double, sid, SCHEMA)


def put_raw(editor: SheetEditor, tab: str, cell: str, value: Any) -> None:
    """A value as the API (or a checkbox) stores it: RAW, so True stays a boolean."""
    title = quote(SCHEMA.tab(tab).title["en"])
    editor.client.http_client.values_update(
        editor.sid, f"{title}!{cell}", {"valueInputOption": "RAW"}, {"values": [[value]]}
    )


def test_checkbox_cells_in_the_active_column_read_as_yes_and_no(
    made: tuple[GoogleDouble, str, GoogleSheetBook, SheetEditor],
) -> None:
    double, _sid, book, editor = made
    active = editor.columns("people", editor.grid("people")[0])["active"]
    letter = column_letter(active)
    put_raw(editor, "people", f"{letter}2", True)  # Dana
    put_raw(editor, "people", f"{letter}3", False)  # Axel
    read = book.read()
    cells = [row.values.get("active") for row in read.table("people").rows]
    assert cells[:2] == [True, False]  # booleans, as Google answers a checkbox
    directory = read_directory(read.table("people"), SCHEMA)
    assert directory.problems == ()
    assert {p.name: p.active for p in directory.people} == {
        "Dana Director": True,
        "Axel Accountant": False,
        "Sean O'Brien": True,
    }
    assert [p.name for p in directory.active("accountant")] == ["Sean O'Brien"]


def test_a_boolean_the_adapter_writes_is_stored_as_a_boolean_not_as_text(
    made: tuple[GoogleDouble, str, GoogleSheetBook, SheetEditor],
) -> None:
    double, sid, book, editor = made
    row = editor.add_row("invoices", {"id": "INV-000001", "manager": "Mia"})
    write = CellWrite("invoices", "INV-000001", row, "comment", True, None)
    book.apply(SheetChanges(writes=[write]), book.read().fingerprint)
    assert editor.row("invoices", "INV-000001")["comment"] is True
    tab = double.book(sid).sheet_by_title("Invoices")
    col = editor.columns("invoices", editor.grid("invoices")[0])["comment"]
    assert tab.cell(row - 1, col).entered == {"boolValue": True}
    formatted = editor.client.http_client.values_get(sid, f"'Invoices'!{column_letter(col)}{row}")
    assert formatted["values"] == [["TRUE"]]
