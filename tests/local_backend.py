"""The real local backend for whole-system tests: a workbook, its SQLite state, its outbox.

Helpers to create a book with People, look at everything a tick left behind (every tab's
values, the cells' locks, the state's snapshot and ledger, the outbox) and compare runs.
"""

from __future__ import annotations

import email
import email.policy
import json
import sqlite3
import time
from collections import Counter
from collections.abc import Callable
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook import layout as workbook_layout
from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.notify import EmailRenderer
from functions.ports import MailSender
from functions.schema import load_schema
from functions.tick.engine import Checkpoint, Engine
from tests.builders import typed_invoice as typed_invoice  # still importable from here

SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
    ("Sergey Popov", "sergey@example.com", "accountant", True),
]
SETTINGS = {"company": "Northwind", "time_zone": "Europe/Berlin", "sender": "flow@example.com"}
Row = tuple[Any, ...]


def new_book(folder: Path, name: str = "book.xlsx", prepared_rows: int | None = None) -> Path:
    """A book as `sheetflow init` makes it, with People and Settings filled in.

    `prepared_rows` makes fewer empty rows carry dropdowns and unlocked styles (1,000 by
    default): the adapter code is the same, but loading and saving a small book is ten times
    faster, which lets a test play hundreds of ticks.
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    with pytest.MonkeyPatch.context() as patch:
        if prepared_rows is not None:
            patch.setattr(workbook_layout, "DATA_ROWS", prepared_rows)
        create_workbook(path, SCHEMA, "en", people=PEOPLE, settings=SETTINGS)
    return path


def state_path(book: Path) -> Path:
    """Where `build_engine` keeps a book's state: `NAME.state.sqlite` beside it."""
    return book.with_name(book.stem + ".state.sqlite")


def make_engine(
    book: Path,
    mail: MailSender | None = None,
    checkpoint: Checkpoint | None = None,
    clock: Callable[[], float] | None = None,
) -> Engine:
    """Wire an engine the way `build_engine` does, with a state clock and checkpoint of choice."""
    return Engine(
        WorkbookBook(book, SCHEMA),
        SqliteState(state_path(book), clock=clock or time.time),
        mail or OutboxSender(book.parent / "outbox"),
        EmailRenderer(),
        SCHEMA,
        checkpoint or _no_checkpoint,
    )


def _no_checkpoint(step: str) -> None:
    """A tick left alone."""


def _trimmed(values: Row) -> Row:
    values = tuple(values)
    while values and values[-1] in (None, ""):
        values = values[:-1]
    return values


def dump_book(path: Path, locks: bool = True) -> dict[str, list[Row]]:
    """Every tab's non-blank rows (values as stored); Invoices rows also carry cell locks."""
    wb = openpyxl.load_workbook(path)
    try:
        tabs: dict[str, list[Row]] = {}
        for ws in wb.worksheets:
            rows = []
            for cells in ws.iter_rows():
                values = _trimmed(tuple(c.value for c in cells))
                if not values:
                    continue
                if locks and ws.title == "Invoices":
                    locked = tuple(bool(c.protection.locked) for c in cells[: len(values)])
                    values = (*values, "locks:", *locked)
                rows.append(values)
            tabs[ws.title] = rows
        return tabs
    finally:
        wb.close()


def rows_by_header(path: Path, title: str) -> list[dict[str, Any]]:
    """A tab's non-blank rows as {header: value}."""
    wb = openpyxl.load_workbook(path, read_only=True)
    try:
        rows = wb[title].iter_rows(values_only=True)
        header = [str(h) for h in _trimmed(next(rows, ()))]
        return [
            dict(zip(header, values + (None,) * (len(header) - len(values)), strict=True))
            for values in (tuple(row)[: len(header)] for row in rows)
            if any(v not in (None, "") for v in values)
        ]
    finally:
        wb.close()


def state_tables(book: Path) -> dict[str, Any]:
    """The SQLite state as plain data: snapshot, meta (without file versions), ledger, journal."""
    db = sqlite3.connect(f"file:{state_path(book)}?mode=ro", uri=True)
    try:
        snapshot = {
            (tab, record): json.loads(data)
            for tab, record, data in db.execute("SELECT tab, record, data FROM snapshot")
        }
        meta = {
            key: json.loads(value)
            for key, value in db.execute("SELECT key, value FROM meta")
            # The file's mtime and the book's identity differ between runs of the same story.
            if not key.startswith("book_version") and key != "book_id"
        }
        ledger = Counter(
            (key, status) for key, status in db.execute("SELECT key, status FROM ledger")
        )
        journals = db.execute("SELECT COUNT(*) FROM journal").fetchone()[0]
        return {"snapshot": snapshot, "meta": meta, "ledger": ledger, "journals": journals}
    finally:
        db.close()


def parse_eml(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def outbox_messages(folder: Path) -> list[EmailMessage]:
    return [parse_eml(p) for p in sorted(folder.glob("*.eml"))] if folder.is_dir() else []


def outbox_message_ids(folder: Path) -> Counter[str]:
    return Counter(str(m["Message-ID"]) for m in outbox_messages(folder))


def outbox_keys(folder: Path) -> Counter[str]:
    return Counter(" ".join(str(m["X-Sheetflow-Key"]).split()) for m in outbox_messages(folder))


Edit = tuple[str, str, dict[str, Any]]  # tab, record ID or "new", {column key: value}


def edit_book(path: Path, edits: list[Edit]) -> None:
    """Make several people's edits and save once, as LibreOffice would (by header and ID)."""
    wb = openpyxl.load_workbook(path)
    tabs: dict[str, tuple[Any, dict[str, int], list[int]]] = {}
    for tab_key, record, values in edits:
        if tab_key not in tabs:
            tabs[tab_key] = _open_tab(wb, tab_key)
        ws, columns, free = tabs[tab_key]
        if record == "new":
            row = free[0]
            free[0] += 1
        else:
            id_col = columns[SCHEMA.tab(tab_key).id_column or "id"]
            row = next(r for r in range(2, ws.max_row + 1) if ws.cell(r, id_col).value == record)
        for key, value in values.items():
            type_into(ws.cell(row, columns[key]), value)
    save_like_an_office_program(wb, path)


def _open_tab(wb: Any, key: str) -> tuple[Any, dict[str, int], list[int]]:
    """The tab, its columns by key, and (in a list, to count on) the first row below the data."""
    tab = SCHEMA.tab(key)
    ws = wb[tab.title["en"]]
    by_header = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    columns = {c.key: by_header[c.header["en"]] for c in tab.columns if c.header["en"] in by_header}
    filled = [r for (r, _c), cell in ws._cells.items() if cell.value not in (None, "")]
    return ws, columns, [max(filled, default=1) + 1]


def type_into(cell: Any, value: Any) -> None:
    """As a person types it: text that starts with `=` stays text (LibreOffice keeps a typed
    `'=1+1` as text), an error code such as `#REF!` is an error value, the rest as given."""
    cell.value = value
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"


def save_like_an_office_program(wb: Any, path: Path) -> None:
    """Save to a temp file and rename, as LibreOffice does (the book's mtime changes)."""
    temp = path.with_name(f".~edit.{path.name}")
    wb.save(temp)
    temp.replace(path)
