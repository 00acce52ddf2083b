"""A person's edit made while a tick runs — after its read, before its write — is never lost.

End to end on each real backend: the .xlsx workbook with SQLite, and the Google Sheet (double)
on a warm instance (its tab metadata cached by earlier ticks) and on a cold one (a new Cloud
Functions instance whose first request fetches the metadata). The edit is made at the engine's
`read` checkpoint, i.e. after the tick read the sheet and before it writes anything.

Two edits race the tick: a Decision on a row the tick does not write (it must survive and the
next tick must move the row on), and a new Comment on a row in Rework whose new scan the tick
is resubmitting — a resubmission clears Decision and Comment, so that tick writes the very
cell the person just typed into. Whatever the tick does, the typed Comment must still be in
its cell, or (cleared later by a tick that saw it) in the Log.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine, TickReport
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import (
    PEOPLE,
    SETTINGS,
    edit_book,
    make_engine,
    new_book,
    rows_by_header,
    typed_invoice,
)

SCHEMA = load_schema()
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
A, B = "INV-000001", "INV-000002"
NEW_COMMENT = "Stamp missing as well"


class Backend:
    """A book the people edit by record ID and header, and the ticks that run on it."""

    mail: FakeMail

    def add(self, values: dict[str, object]) -> None:
        raise NotImplementedError

    def set(self, record: str, values: dict[str, object]) -> None:
        raise NotImplementedError

    def row(self, record: str) -> dict[str, Any]:
        raise NotImplementedError

    def log(self) -> list[dict[str, Any]]:
        raise NotImplementedError

    def engine(self, checkpoint: Callable[[str], None] | None = None) -> Engine:
        raise NotImplementedError

    def tick(self, now: datetime, checkpoint: Callable[[str], None] | None = None) -> TickReport:
        engine = self.engine(checkpoint)
        try:
            return engine.tick(now)
        finally:
            engine.state.close()


class WorkbookBackend(Backend):
    def __init__(self, folder: Path) -> None:
        self.path = new_book(folder, prepared_rows=20)
        self.mail = FakeMail()

    def add(self, values: dict[str, object]) -> None:
        edit_book(self.path, [("invoices", "new", values)])

    def set(self, record: str, values: dict[str, object]) -> None:
        edit_book(self.path, [("invoices", record, values)])

    def row(self, record: str) -> dict[str, Any]:
        (row,) = [r for r in rows_by_header(self.path, "Invoices") if r["ID"] == record]
        return _by_key(row)

    def log(self) -> list[dict[str, Any]]:
        return rows_by_header(self.path, "Log")

    def engine(self, checkpoint: Callable[[str], None] | None = None) -> Engine:
        return make_engine(self.path, self.mail, checkpoint)


class GoogleBackend(Backend):
    """`cold`: every tick is a new instance (a new client, no cached metadata)."""

    def __init__(self, folder: Path, cold: bool) -> None:
        self.double = GoogleDouble()
        writers = [email for _n, email, _r, _a in PEOPLE]
        self.sid, self.book = new_google_book(
            self.double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers
        )
        self.editor = SheetEditor(self.double, self.sid, SCHEMA)
        self.director = self.editor.as_user("dmitry@example.com")
        self.state_file = folder / "state.sqlite"
        self.cold = cold
        self.mail = FakeMail()

    def add(self, values: dict[str, object]) -> None:
        self.editor.as_user("maria@example.com").add_row("invoices", values)

    def set(self, record: str, values: dict[str, object]) -> None:
        who = "dmitry@example.com" if {"decision", "comment"} & set(values) else "maria@example.com"
        self.editor.as_user(who).set("invoices", record, values)

    def row(self, record: str) -> dict[str, Any]:
        return self.editor.row("invoices", record)

    def log(self) -> list[dict[str, Any]]:
        header = [c.header["en"] for c in SCHEMA.tab("log").columns]
        return [dict(zip(header, row, strict=True)) for row in self.editor.log()]

    def engine(self, checkpoint: Callable[[str], None] | None = None) -> Engine:
        book = self.book
        if self.cold:
            book = GoogleSheetBook(
                self.sid,
                self.double.client(SERVICE_ACCOUNT),
                SCHEMA,
                SERVICE_ACCOUNT,
                sleep=no_sleep,
            )
        return Engine(
            book,
            SqliteState(self.state_file),
            self.mail,
            EmailRenderer(),
            SCHEMA,
            checkpoint or (lambda step: None),
        )


def _by_key(row: dict[str, Any]) -> dict[str, Any]:
    headers = {c.header["en"]: c.key for c in SCHEMA.tab("invoices").columns}
    return {headers[h]: (None if v == "" else v) for h, v in row.items() if h in headers}


BACKENDS: dict[str, Callable[[Path], Backend]] = {
    "workbook": WorkbookBackend,
    "google warm instance": lambda folder: GoogleBackend(folder, cold=False),
    "google cold instance": lambda folder: GoogleBackend(folder, cold=True),
}


@dataclass
class Race:
    backend: Backend
    now: datetime
    report: TickReport
    emails_before: int


def race(folder: Path, kind: str) -> Race:
    """A in Rework with a new scan uploaded, B awaiting a decision; then a tick during which
    the director types a new Comment on A and approves B."""
    backend = BACKENDS[kind](folder)
    backend.add(typed_invoice("A-1"))
    backend.add(typed_invoice("B-2"))
    now = NOW
    for edit in range(2):  # settle each: the tick, the one reading its own write, an idle one
        if edit:  # the signer decides once asked
            backend.set(A, {"decision": "Rework", "comment": "Wrong VAT"})
        for _ in range(3):
            backend.tick(now)
            now += timedelta(minutes=1)
    assert (backend.row(A)["status"], backend.row(B)["status"]) == ("Rework", "Awaiting decision")
    backend.set(A, {"invoice_file": "https://files.example/A-1-v2.pdf"})
    emails_before = len(backend.mail.sent)

    def the_director_types(step: str) -> None:
        if step == "read":
            backend.set(A, {"comment": NEW_COMMENT})
            backend.set(B, {"decision": "Approve"})

    report = backend.tick(now, the_director_types)
    return Race(backend, now, report, emails_before)


def _settle(r: Race) -> None:
    for minutes in range(1, 4):
        r.backend.tick(r.now + timedelta(minutes=minutes))


def _kept(backend: Backend, record: str, column: str, value: str) -> bool:
    """In its cell, or cleared by a tick that saw it and wrote it to the Log."""
    if backend.row(record)[column] == value:
        return True
    header = SCHEMA.tab("invoices").column(column).header["en"]
    return any(
        r["Record"] == record
        and r["Event"] in ("Cleared", "Not acted on")
        and f"{header}: {value}" in r["Details"]
        for r in backend.log()
    )


@pytest.mark.parametrize("kind", list(BACKENDS))
def test_an_edit_made_during_a_tick_survives_and_the_next_tick_moves_the_row_on(
    tmp_path: Path, kind: str
) -> None:
    r = race(tmp_path, kind)
    assert r.backend.row(B)["decision"] == "Approve"  # the racing tick did not touch it
    _settle(r)
    b = r.backend.row(B)
    assert (b["decision"], b["status"]) == ("Approve", "Awaiting accountant")
    sent = [e.key.split(":")[2] for e in r.backend.mail.sent[r.emails_before :]]
    assert sorted(sent) == ["accountants_approved", "accountants_approved", "signer_request"]
    assert len({e.key for e in r.backend.mail.sent}) == len(r.backend.mail.sent)


@pytest.mark.parametrize("kind", list(BACKENDS))
def test_a_comment_typed_during_a_tick_that_clears_it_is_never_lost(
    tmp_path: Path, kind: str
) -> None:
    r = race(tmp_path, kind)
    assert _kept(r.backend, A, "comment", NEW_COMMENT), (r.report, r.backend.row(A))
    _settle(r)
    a = r.backend.row(A)
    assert a["status"] == "Awaiting decision"
    assert a["invoice_file"] == "https://files.example/A-1-v2.pdf"
    assert _kept(r.backend, A, "comment", NEW_COMMENT), (a, r.backend.log()[-6:])
