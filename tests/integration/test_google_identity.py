"""`sheetflow init --book gsheet:…` run by a person protects the columns for the runtime account."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.entry.cli import app
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from functions.wiring import google as google_wiring
from tests.fakes import FakeMail
from tests.google_double import OWNER, GoogleDouble
from tests.google_double.people import SheetEditor, no_sleep

RUNTIME = "sheetflow-runtime@acme-books.iam.gserviceaccount.com"
SCHEMA = load_schema()


@pytest.fixture
def person_init(monkeypatch: pytest.MonkeyPatch) -> tuple[GoogleDouble, str]:
    """A sheet the owner shared with the runtime account; init runs with the owner's ADC."""
    double = GoogleDouble(RUNTIME)
    sid = double.create_spreadsheet("books", editors=(RUNTIME,), spreadsheet_id="1" + "a" * 20)
    monkeypatch.setattr(google_wiring, "credentials", lambda: (object(), ""))
    monkeypatch.setattr(google_wiring, "gspread_client", lambda _c: double.client(OWNER))
    monkeypatch.delenv("SHEETFLOW_SERVICE_ACCOUNT", raising=False)
    return double, sid


def test_init_with_a_person_s_credentials_names_the_runtime_account_as_editor(
    person_init: tuple[GoogleDouble, str], tmp_path: Path
) -> None:
    double, sid = person_init
    result = CliRunner().invoke(
        app, ["init", "--book", f"gsheet:{sid}", "--runtime-account", RUNTIME]
    )
    assert result.exit_code == 0, result.output
    protections = [p for s in double.book(sid).sheets for p in s.protected_ranges]
    assert protections
    assert all(RUNTIME in p["editors"]["users"] for p in protections)
    # ... so the runtime account's first tick may write the automation columns.
    editor = SheetEditor(double, sid, SCHEMA)
    editor.add_row("invoices", {"manager": "Ann", "supplier": "Acme", "amount": 10})
    book = GoogleSheetBook(sid, double.client(RUNTIME), SCHEMA, RUNTIME, sleep=no_sleep)
    state = SqliteState(tmp_path / "state.sqlite")
    Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA).tick()
    assert editor.rows("invoices")[0]["id"] == "INV-000001"


def test_init_with_a_person_s_credentials_and_no_runtime_account_is_refused(
    person_init: tuple[GoogleDouble, str],
) -> None:
    double, sid = person_init
    result = CliRunner().invoke(app, ["init", "--book", f"gsheet:{sid}"])
    assert result.exit_code != 0
    message = " ".join(str(result.exception or "").split()) + result.output
    assert "--runtime-account" in message
    assert "impersonate-service-account" in message
    assert [s.title for s in double.book(sid).sheets] == ["Sheet1"]  # nothing was set up


def test_init_refuses_a_runtime_account_that_is_a_person(
    person_init: tuple[GoogleDouble, str],
) -> None:
    _double, sid = person_init
    result = CliRunner().invoke(
        app, ["init", "--book", f"gsheet:{sid}", "--runtime-account", "boss@acme.example"]
    )
    assert result.exit_code != 0
    assert "not a service account" in str(result.exception) + result.output
