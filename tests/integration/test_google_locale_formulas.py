"""The formulas sheetflow writes work in a spreadsheet whose locale separates arguments by `;`."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.cells import evaluate
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import PEOPLE, SETTINGS, typed_invoice

SCHEMA = load_schema()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_the_double_parses_formulas_as_the_spreadsheet_s_locale_does() -> None:
    def cells(_r: int, _c: int) -> str:
        return "INV-000001"

    assert evaluate('=REGEXMATCH(A1,"^INV")', cells) is True
    assert evaluate('=REGEXMATCH(A1;"^INV")', cells, locale="ru_RU") is True
    assert evaluate('=REGEXMATCH(A1,"^INV")', cells, locale="de_DE") is not True  # #ERROR!
    assert evaluate('=REGEXMATCH(A1;"^INV")', cells) is not True


@pytest.mark.parametrize("locale", ["ru_RU", "de_DE", "en_US"])
def test_an_accountant_s_queue_filter_view_works_in_the_spreadsheet_s_locale(
    tmp_path: Path, locale: str
) -> None:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, _init_book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
    double.book(sid).locale = locale  # File → Settings → Locale
    owner = SheetEditor(double, sid, SCHEMA)
    book = GoogleSheetBook(
        sid, double.client(SERVICE_ACCOUNT), SCHEMA, SERVICE_ACCOUNT, sleep=no_sleep
    )
    state, mail, now = SqliteState(tmp_path / "s.sqlite"), FakeMail(), NOW

    def tick() -> None:
        nonlocal now
        Engine(book, state, mail, EmailRenderer(), SCHEMA).tick(now)
        now += timedelta(minutes=1)

    owner.add_row("invoices", typed_invoice("A-1"))
    owner.add_row("invoices", typed_invoice("B-2"))
    tick()
    owner.set("invoices", "INV-000001", {"decision": "Approve"})
    owner.set("invoices", "INV-000002", {"decision": "Approve"})
    tick()
    owner.set("invoices", "INV-000002", {"accountant": "Sergey Popov"})
    tick()
    assert owner.queue("Irina K") == ["INV-000001"]
    assert owner.queue("Sergey Popov") == ["INV-000001", "INV-000002"]
