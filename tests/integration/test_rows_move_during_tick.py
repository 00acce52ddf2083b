"""Rows sorted, inserted or deleted by a person between a tick's read and its write on Google.

`updateCells` and protected ranges address rows by position: written blindly, a tick whose
rows moved would put an ID, a Status or a lock on another invoice. The adapter checks the
Drive version right before its batch; a moved row means nothing is written and the next tick
plans again on the rows as they are. Proven on the double, on a warm instance (tab metadata
kept by the instance) and a cold one, with the requests each busy tick costs.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import PEOPLE, SETTINGS, typed_invoice

SCHEMA = load_schema()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
MARIA = "maria@example.com"


class Sheet:
    def __init__(self, folder: Path, cold: bool) -> None:
        self.double = GoogleDouble()
        writers = [email for _n, email, _r, _a in PEOPLE]
        self.sid, self.book = new_google_book(
            self.double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers
        )
        self.maria = SheetEditor(self.double, self.sid, SCHEMA, user=MARIA)
        self.state, self.cold, self.mail = folder / "state.sqlite", cold, FakeMail()
        self.now = NOW

    def tick(self, during: Callable[[], None] | None = None) -> tuple[str, int]:
        book = self.book
        if self.cold:
            client = self.double.client(SERVICE_ACCOUNT)
            book = GoogleSheetBook(self.sid, client, SCHEMA, SERVICE_ACCOUNT, sleep=no_sleep)

        def checkpoint(step: str) -> None:
            if step == "read" and during is not None:
                during()

        engine = Engine(
            book, SqliteState(self.state), self.mail, EmailRenderer(), SCHEMA, checkpoint
        )
        mark = self.double.mark()
        try:
            report = engine.tick(self.now)
        finally:
            engine.state.close()
            self.now += timedelta(minutes=1)
        return report.outcome, self.double.count(since=mark, user=SERVICE_ACCOUNT)

    def batch(self, request: dict[str, Any]) -> None:
        """A person's row operation (the browser sends one batchUpdate)."""
        self.maria.client.http_client.batch_update(self.sid, {"requests": [request]})

    def invoices_id(self) -> int:
        return self.double.book(self.sid).sheet_by_title("Invoices").id

    def by_number(self) -> dict[str, dict[str, Any]]:
        return {str(r["invoice_no"]): r for r in self.maria.rows("invoices")}


def settle(sheet: Sheet) -> None:
    for _ in range(3):
        sheet.tick()


@pytest.fixture(params=["warm", "cold"])
def sheet(request: pytest.FixtureRequest, tmp_path: Path) -> Sheet:
    s = Sheet(tmp_path, cold=request.param == "cold")
    s.maria.add_row("invoices", typed_invoice("Z-1", supplier="Zeta"))  # ready: goes on
    s.maria.add_row("invoices", typed_invoice("A-2", supplier="Alpha", signer=None))  # stays New
    return s


def _consistent(sheet: Sheet) -> dict[str, dict[str, Any]]:
    rows = sheet.by_number()
    assert rows["Z-1"]["status"] == "Awaiting decision"
    assert rows["Z-1"]["supplier"] == "Zeta"
    assert rows["A-2"]["status"] == "New"
    ids = [r["id"] for r in rows.values()]
    assert len(ids) == len(set(ids))
    assert all(ids)
    signer_requests = [e for e in sheet.mail.sent if "signer_request" in e.key]
    assert len(signer_requests) == 1
    assert b"Z-1" in signer_requests[0].raw
    return rows


def test_a_sort_between_read_and_write_writes_nothing_then_every_row_gets_its_own_values(
    sheet: Sheet,
) -> None:
    sort = {
        "sortRange": {
            "range": {"sheetId": sheet.invoices_id(), "startRowIndex": 1},
            "sortSpecs": [{"dimensionIndex": 2, "sortOrder": "ASCENDING"}],  # Supplier
        }
    }
    outcome, _requests = sheet.tick(lambda: sheet.batch(sort))
    assert outcome == "retry"
    assert all(r["id"] is None for r in sheet.by_number().values())  # nothing written
    settle(sheet)
    rows = _consistent(sheet)
    assert sheet.maria.row_number("invoices", rows["A-2"]["id"]) == 2  # the sort stands


def test_a_row_inserted_between_read_and_write_keeps_what_the_person_typed(
    sheet: Sheet,
) -> None:
    def insert_and_type() -> None:
        sheet.batch(
            {
                "insertDimension": {
                    "range": {
                        "sheetId": sheet.invoices_id(),
                        "dimension": "ROWS",
                        "startIndex": 1,
                        "endIndex": 2,
                    }
                }
            }
        )
        sheet.maria.put("invoices", 2, typed_invoice("N-3", supplier="Newco", signer=None))

    outcome, _requests = sheet.tick(insert_and_type)
    assert outcome == "retry"
    settle(sheet)
    rows = _consistent(sheet)
    assert rows["N-3"]["supplier"] == "Newco"
    assert rows["N-3"]["status"] == "New"


def test_a_row_deleted_between_read_and_write_gives_its_values_to_no_other_row(
    sheet: Sheet,
) -> None:
    delete = {
        "deleteDimension": {
            "range": {
                "sheetId": sheet.invoices_id(),
                "dimension": "ROWS",
                "startIndex": 1,
                "endIndex": 2,
            }
        }
    }
    outcome, _requests = sheet.tick(lambda: sheet.batch(delete))  # Zeta's row goes
    assert outcome == "retry"
    settle(sheet)
    rows = sheet.by_number()
    assert list(rows) == ["A-2"]
    assert rows["A-2"]["status"] == "New"
    assert not [e for e in sheet.mail.sent if "signer_request" in e.key]


def test_a_busy_tick_costs_four_requests_warm_and_five_cold(sheet: Sheet) -> None:
    outcome, requests = sheet.tick()
    assert (outcome, requests) == ("done", 5)  # an instance's first tick fetches the metadata
    sheet.tick()  # reads its own write
    sheet.maria.set("invoices", sheet.by_number()["A-2"]["id"], {"signer": "Dmitry Volkov"})
    outcome, requests = sheet.tick()
    assert outcome == "done"
    assert sheet.by_number()["A-2"]["status"] == "Awaiting decision"
    # version, read, version again, one batchUpdate; a cold instance fetches the metadata too
    assert requests == (5 if sheet.cold else 4)
