"""Hand-written fakes of our own ports (no mocks): an in-memory book and a mail catcher."""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterator
from typing import Any

from functions.errors import BookBusyError, BookChangedError
from functions.model import (
    ALWAYS_READ,
    BookRead,
    RenderedEmail,
    SheetChanges,
    SheetRow,
    TableRead,
    stored,
)
from functions.schema import load_schema

TABS = ("invoices", "deals", "people", "settings")
ID_KEYS = {"deals": "deal_id", "settings": "key"}  # the ID column of each tab (else "id")


class FakeBook:
    """A spreadsheet held in dicts; rows are lists of {column key: value} in sheet order."""

    name = "fake"
    version_may_lag = False
    written_version: str | None = None
    locale = "en"  # the book's language, as a real book tells by its tab titles

    def __init__(self, people: list[tuple[str, str, str, str]] | None = None) -> None:
        self.tabs: dict[str, list[dict[str, Any]]] = {tab: [] for tab in TABS}
        self.log: list[list[str]] = []
        self.locked: set[tuple[str, str]] = set()
        self.queues: dict[str, list[tuple[Any, ...]]] = {}
        self.lists: dict[str, list[str]] = {}
        self.reports: dict[str, Any] = {}
        self.busy: str | None = None
        self.applies = 0
        self.reads = 0
        self.asked_tabs: list[frozenset[str] | None] = []  # what each read() asked for
        self.version_checks = 0
        for name, email, role, active in people or []:
            self.tabs["people"].append(
                {"name": name, "email": email, "role": role, "active": active}
            )

    def fingerprint(self) -> str:
        return hashlib.sha256(repr(self.tabs).encode()).hexdigest()

    def busy_reason(self) -> str | None:
        return self.busy

    def version(self) -> str:
        self.version_checks += 1
        return self.fingerprint()

    def read(self, tabs: Collection[str] | None = None) -> BookRead:
        self.reads += 1
        self.asked_tabs.append(None if tabs is None else frozenset(tabs))
        schema = load_schema()
        tables = {}
        for tab, rows in self.tabs.items():
            if tabs is not None and tab not in tabs and tab not in ALWAYS_READ:
                continue
            columns = tuple(c.key for c in schema.tab(tab).columns)
            tables[tab] = TableRead(
                tab,
                tab,
                columns,
                tuple(
                    SheetRow(i + 2, {k: row.get(k) for k in columns})
                    for i, row in enumerate(rows)
                    if any(stored(v) is not None for v in row.values())
                ),
            )
        return BookRead(self.locale, tables, self.fingerprint())

    def read_log(self) -> Iterator[list[Any]]:
        return (list(row) for row in self.log)

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        if self.busy:
            raise BookBusyError(self.busy)
        if fingerprint is not None and fingerprint != self.fingerprint():
            raise BookChangedError("changed")
        self.applies += 1
        skipped = []
        self._append(changes)
        for write in changes.writes:
            rows = self.tabs[write.tab]
            at = rows[write.row - 2] if len(rows) > write.row - 2 else {}
            id_key = ID_KEYS.get(write.tab, "id")
            if write.record is None or at.get(id_key) == write.record:
                row = at  # the row the plan saw, if it still holds the record
            else:
                row = next(r for r in rows if r.get(id_key) == write.record)
            current = stored(row.get(write.column))
            if current in (write.expected, write.value):
                row[write.column] = write.value
            else:
                skipped.append(f"{write.record} {write.column}")
        for lock in changes.locks:
            (self.locked.add if lock.locked else self.locked.discard)((lock.record, lock.column))
        lines = [entry.as_row() for entry in changes.log]
        replayed = fingerprint is None and lines and self.log[-len(lines) :] == lines
        if not replayed:
            self.log += lines
        if changes.queues is not None:
            self.queues = {q.accountant: list(q.rows) for q in changes.queues}
        if changes.lists is not None:
            self.lists = changes.lists
        for report in changes.reports or ():
            self.reports[report.title] = report
        return skipped

    def _append(self, changes: SheetChanges) -> None:
        """New rows, idempotent as the real books: a row whose ID is there is not added."""
        for append in changes.appends:
            id_key = ID_KEYS.get(append.tab, "id")
            if not any(r.get(id_key) == append.record for r in self.tabs[append.tab]):
                self.tabs[append.tab].append({**append.values, id_key: append.record})

    def row(self, record: str) -> dict[str, Any]:
        return next(r for r in self.tabs["invoices"] if r.get("id") == record)


class FakeMail:
    description = "fake mail"

    def __init__(self) -> None:
        self.sent: list[RenderedEmail] = []

    def send(self, email: RenderedEmail) -> None:
        self.sent.append(email)

    def was_sent(self, email: RenderedEmail) -> bool | None:
        return any(e.key == email.key for e in self.sent)
