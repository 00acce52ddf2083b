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

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook.book import WorkbookBook
from functions.errors import RefusedError
from functions.model import SheetChanges
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick import setaside
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import PEOPLE, SETTINGS, edit_book, new_book, rows_by_header, typed_invoice

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
    caplog.set_level(logging.ERROR, logger="sheetflow")
    refused: list[tuple[str, str]] = []
    for _ in range(3 * setaside.LIMIT):  # each refused lock: LIMIT tries, then set aside
        try:
            report = tick(broken).tick(now)
        except RefusedError as exc:
            refused.append((str(exc), owner.row("invoices", "INV-000001")["status"]))
            continue
        break
    assert len(refused) >= setaside.LIMIT - 1
    assert all("Invalid email address" in message for message, _status in refused)
    assert {status for _message, status in refused} == {"Awaiting accountant"}  # stuck, then
    assert report.set_aside, report
    assert "ProtectedRange" in report.set_aside[0]  # the lock Google refused
    assert "Invalid email address" in report.set_aside[0]
    assert any("ProtectedRange" in r.getMessage() for r in caplog.records)
    row = owner.row("invoices", "INV-000001")
    assert row["status"] == "In payment"  # the rest of the plan went through
    assert "refused" in row["note"]
    assert "protection of" in row["note"]
    log = owner.log()
    assert any(r[2] == "INV-000001" and r[3] == "Problem" and "set aside" in r[7] for r in log)
    kept = state.load_meta()["set_aside"]
    assert all(k["records"] == ["invoices/INV-000001"] for k in kept)
    assert "Invalid email address" in kept[-1]["error"]
    assert any("payment_started" in e.key or "supplier" in e.key for e in mail.sent)
    # and the ticks after it carry on
    assert tick(good).tick(now).outcome in ("done", "idle")


class RefusingWorkbook(WorkbookBook):
    """A workbook that refuses to store one column (as a spreadsheet may refuse a value).

    The .xlsx adapter itself strips what Excel cannot hold, so nothing it writes is refused
    today; this stands for any refusal and proves the engine's side on the workbook backend.
    """

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        for index, write in enumerate(changes.writes):
            if write.column == "updated":
                raise RefusedError("cannot store this value", part=("writes", index))
        return super().apply(changes, fingerprint)


def test_a_refused_write_on_the_workbook_is_set_aside_and_the_rest_applied(
    tmp_path: Path,
) -> None:
    path = new_book(tmp_path, prepared_rows=20)
    edit_book(path, [("invoices", "new", typed_invoice("A-1"))])
    state, mail = SqliteState(tmp_path / "state.sqlite"), FakeMail()
    now = NOW
    for attempt in range(1, setaside.LIMIT + 1):
        engine = Engine(RefusingWorkbook(path, SCHEMA), state, mail, EmailRenderer(), SCHEMA)
        if attempt < setaside.LIMIT:
            with pytest.raises(RefusedError):
                engine.tick(now)
            assert not mail.sent
        else:
            report = engine.tick(now)
        now += timedelta(minutes=1)
    assert report.set_aside
    (row,) = [r for r in rows_by_header(path, "Invoices") if r["ID"]]
    assert row["Status"] == "Awaiting decision"
    assert "refused" in row["Note"]
    assert "Updated" in row["Note"]
    assert any(
        r["Event"] == "Problem" and "set aside" in r["Details"] for r in rows_by_header(path, "Log")
    )
    assert [e for e in mail.sent if "signer_request" in e.key]
    assert state.load_meta()["set_aside"][-1]["records"] == ["invoices/INV-000001"]
