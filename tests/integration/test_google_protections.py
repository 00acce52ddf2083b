"""What people can do on a sheet `init` protected: editors keep their rows, not our columns.

The automation's columns are protected as column ranges (not a whole tab), so an editor who
is not listed may still sort, insert and delete rows and type in people's columns, but not in
ID or Status; the owner may edit anything (Google's rule) and the tick restores it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from gspread.exceptions import APIError

from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book
from tests.local_backend import PEOPLE, SETTINGS, typed_invoice

SCHEMA = load_schema()
MARIA = "maria@example.com"


@pytest.fixture
def sheet() -> tuple[GoogleDouble, str, SheetEditor]:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
    maria = SheetEditor(double, sid, SCHEMA, user=MARIA)
    maria.add_row("invoices", typed_invoice("A-1", supplier="Zeta"))
    maria.add_row("invoices", typed_invoice("B-2", supplier="Alpha"))
    return double, sid, maria


def _batch(editor: SheetEditor, request: dict[str, Any]) -> None:
    editor.client.http_client.batch_update(editor.sid, {"requests": [request]})


def _invoices(double: GoogleDouble, sid: str) -> int:
    return double.book(sid).sheet_by_title("Invoices").id


def test_an_editor_not_listed_may_sort_insert_and_delete_rows(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    double, sid, maria = sheet
    tab = _invoices(double, sid)
    _batch(
        maria,
        {
            "sortRange": {
                "range": {"sheetId": tab, "startRowIndex": 1},
                "sortSpecs": [{"dimensionIndex": 2}],
            }
        },
    )
    assert [r["supplier"] for r in maria.rows("invoices")] == ["Alpha", "Zeta"]
    rows = {"sheetId": tab, "dimension": "ROWS", "startIndex": 1, "endIndex": 2}
    _batch(maria, {"insertDimension": {"range": rows}})
    maria.put("invoices", 2, typed_invoice("C-3", supplier="Newco"))  # a whole row pasted
    _batch(maria, {"deleteDimension": {"range": {**rows, "startIndex": 2, "endIndex": 3}}})
    assert [r["supplier"] for r in maria.rows("invoices")] == ["Newco", "Zeta"]


def test_an_editor_not_listed_may_not_type_in_the_automation_s_columns(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    _double, _sid, maria = sheet
    with pytest.raises(APIError) as refused:
        maria.put("invoices", 2, {"status": "Closed"})
    assert refused.value.response.status_code == 403
    with pytest.raises(APIError):
        maria.put("invoices", 1, {"supplier": "Renamed header"})  # the header row
    maria.put("invoices", 2, {"amount": 120})  # people's columns stay open
    assert maria.rows("invoices")[0]["amount"] == 120


def test_the_owner_may_edit_a_protected_column_and_the_service_account_too(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    _double, _sid, maria = sheet
    maria.as_user(OWNER).put("invoices", 2, {"status": "Closed"})
    maria.as_user(SERVICE_ACCOUNT).put("invoices", 3, {"status": "New"})
    statuses = [r["status"] for r in maria.rows("invoices")]
    assert statuses == ["Closed", "New"]


def test_a_whole_tab_protection_stops_a_non_editor_s_sort(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    double, sid, maria = sheet
    log = double.book(sid).sheet_by_title("Log").id  # the Log is protected whole
    with pytest.raises(APIError) as refused:
        _batch(
            maria,
            {
                "sortRange": {
                    "range": {"sheetId": log, "startRowIndex": 1},
                    "sortSpecs": [{"dimensionIndex": 0}],
                }
            },
        )
    assert refused.value.response.status_code == 403


def test_a_protection_whose_editor_is_no_email_address_is_refused(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    double, sid, maria = sheet
    robot = maria.as_user(SERVICE_ACCOUNT)
    target = {"sheetId": _invoices(double, sid), "startRowIndex": 1, "endRowIndex": 2}
    request = {
        "addProtectedRange": {
            "protectedRange": {"range": target, "editors": {"users": ["default"]}}
        }
    }
    with pytest.raises(APIError) as refused:
        _batch(robot, request)
    assert refused.value.response.status_code == 400
    assert "Invalid email address" in refused.value.response.text


def test_domain_users_can_edit_lets_the_owner_s_domain_in_only_when_set(
    sheet: tuple[GoogleDouble, str, SheetEditor],
) -> None:
    double, sid, _maria = sheet
    book = double.book(sid)
    invoices = book.sheet_by_title("Invoices")
    colleague = "anna@" + OWNER.partition("@")[2]
    status_column = next(
        p for p in invoices.protected_ranges if p["range"].get("startRowIndex") == 1
    )
    col = status_column["range"]["startColumnIndex"]
    assert not book.may_edit(colleague, invoices, 1, col)
    status_column["editors"]["domainUsersCanEdit"] = True
    assert book.may_edit(colleague, invoices, 1, col)


def test_what_the_owner_types_in_a_protected_column_is_restored_and_logged(tmp_path: Path) -> None:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
    owner = SheetEditor(double, sid, SCHEMA)
    owner.add_row("invoices", typed_invoice("A-1"))
    state, now = SqliteState(tmp_path / "s.sqlite"), datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA).tick(now)
    owner.set("invoices", "INV-000001", {"status": "Closed"})  # the owner may: Google's rule
    report = Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA).tick(
        now + timedelta(minutes=1)
    )
    assert owner.row("invoices", "INV-000001")["status"] == "Awaiting decision"
    assert report.conflicts
    conflicts = [r for r in owner.log() if r[3] == "Restored"]
    assert conflicts[-1][2] == "INV-000001"
    assert conflicts[-1][4] == "Closed"  # the overwritten value, kept in the Log
