"""A write the spreadsheet refuses for good is set aside after a few tries; nothing gets stuck.

On Google a 400 names the sub-request it refused. The tick fails (the journal keeps the plan)
and the next ticks replay it; after `setaside.LIMIT` identical refusals the refused part is
taken out, kept in the state for inspection, named in an ERROR log, in the row's Note and in
the Log, and the rest of the plan is applied: the invoice moves on, its emails go out.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions import setaside
from functions.adapters.gsheets import GoogleSheetBook
from functions.adapters.sqlite_state import SqliteState
from functions.engine import Engine
from functions.errors import RefusedError
from functions.notify import EmailRenderer
from functions.schema import load_schema
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import PEOPLE, SETTINGS, typed_invoice

SCHEMA = load_schema()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


def test_a_lock_google_refuses_is_set_aside_and_the_invoice_goes_to_payment(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, good = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
    owner = SheetEditor(double, sid, SCHEMA)
    state, mail = SqliteState(tmp_path / "state.sqlite"), FakeMail()
    # the runtime identity bug this guards against: editors ["default"] on every lock
    broken = GoogleSheetBook(sid, double.client(SERVICE_ACCOUNT), SCHEMA, "default", sleep=no_sleep)
    now = NOW

    def tick(book: GoogleSheetBook) -> Engine:
        nonlocal now
        engine = Engine(book, state, mail, EmailRenderer(), SCHEMA)
        now += timedelta(minutes=1)
        return engine

    owner.add_row("invoices", typed_invoice("A-1"))
    tick(good).tick(now)
    owner.set("invoices", "INV-000001", {"decision": "Approve"})
    tick(good).tick(now)
    assert owner.row("invoices", "INV-000001")["status"] == "Awaiting accountant"
    owner.set("invoices", "INV-000001", {"accountant": "Irina K"})
    for attempt in range(1, setaside.LIMIT):
        with pytest.raises(RefusedError, match="Invalid email address"):
            tick(broken).tick(now)
        assert owner.row("invoices", "INV-000001")["status"] == "Awaiting accountant", attempt
    caplog.set_level(logging.ERROR, logger="sheetflow")
    report = tick(broken).tick(now)
    assert report.set_aside, report
    assert "addProtectedRange" in report.set_aside[0]
    assert "Invalid email address" in report.set_aside[0]
    assert any("addProtectedRange" in r.getMessage() for r in caplog.records)
    row = owner.row("invoices", "INV-000001")
    assert row["status"] == "In payment"  # the rest of the plan went through
    assert "refused" in row["note"]
    assert "Accountant" in row["note"]
    log = owner.log()
    assert any(r[2] == "INV-000001" and r[3] == "error" and "set aside" in r[7] for r in log)
    kept = state.load_meta()["set_aside"]
    assert kept[-1]["records"] == ["invoices/INV-000001"]
    assert "Invalid email address" in kept[-1]["error"]
    assert any("payment_started" in e.key or "supplier" in e.key for e in mail.sent)
    # and the ticks after it carry on
    assert tick(good).tick(now).outcome in ("done", "idle")
