"""The local `.xlsx` backend: the workbook people keep open in LibreOffice or Excel.

Reads use openpyxl's cached formula values; writes load the full workbook (so people's
formulas, styles and validations survive), apply compare-and-set cell writes and save by
swapping in a temp file, never while the book is open in an office application.
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import ParseError

from openpyxl.cell.cell import MergedCell
from openpyxl.utils.exceptions import InvalidFileException

from functions.adapters.files import save_book_file
from functions.adapters.workbook.fast import Seen, SeenTab, fast_apply
from functions.adapters.workbook.layout import (
    UNLOCKED,
    Book,
    Sheet,
    book_identity,
    cached_values,
    create_workbook,
    existing_cells,
    load,
    prepare_tab,
    put,
    put_log_time,
    put_typed,
    set_locked,
    with_cached_values,
    workbook_bytes,
    write_lists,
    write_queues,
    write_report,
)
from functions.adapters.workbook.read import values_by_row
from functions.errors import BookBusyError, BookChangedError, NotAWorkbookError, SchemaError
from functions.model import (
    BookRead,
    Cell,
    CellLock,
    CellWrite,
    LogEntry,
    RowAppend,
    SheetChanges,
    SheetRow,
    TableRead,
    stored,
)
from functions.record import Record, compact
from functions.schema import (
    LOCALES,
    OPTIONAL_TABS,
    READ_TABS,
    Locale,
    Schema,
    Tab,
    column_positions,
)
from functions.text.log_times import same_log_row
from functions.text.messages import say
from functions.write_decision import RowsById, decide_write, in_write_order, unlocks_people_cells

__all__ = ["WorkbookBook", "create_workbook"]

_BROKEN = (zipfile.BadZipFile, KeyError, OSError, InvalidFileException, ParseError, ValueError)


class WorkbookBook:
    """A SpreadsheetBook backed by one `.xlsx` file."""

    def __init__(self, path: Path, schema: Schema) -> None:
        self.path = path
        self.schema = schema
        self.name = path.name
        self._seen: Seen | None = None  # the last read, for a fast apply of that same file
        # The version of the file the last apply saved, when it was the file read plus the
        # changes (no one saved in between); None after an apply that checked nothing.
        self.written_version: str | None = None

    def busy_reason(self) -> str | None:
        for app, lock in (("LibreOffice", f".~lock.{self.name}#"), ("Excel", f"~${self.name}")):
            if (self.path.parent / lock).exists():
                return say(self._language(), "workbook_open", app=app, lock=lock)
        return None

    def _language(self) -> Locale:
        """The book's language for a sentence about it, from its tab titles (no cells read)."""
        if self._seen is not None:
            return self._seen.locale
        try:
            with zipfile.ZipFile(self.path) as package:
                xml = package.read("xl/workbook.xml").decode("utf-8", "replace")
            return self._locale(re.findall(r'<(?:\w+:)?sheet\b[^>]*\bname="([^"]*)"', xml))
        except (*_BROKEN, NotAWorkbookError):
            return "en"

    def version(self) -> str:
        """Changes whenever the file is saved: size and modification time, no read."""
        try:
            st = self.path.stat()
        except OSError:
            return ""
        return f"{st.st_mtime_ns}-{st.st_size}"

    def read(self, tabs: Collection[str] | None = None) -> BookRead:
        # Every tab, whatever `tabs` asks: the whole file is parsed anyway, and one process
        # runs every flow (the split read pays off on Google, one function per flow).
        self._seen = None
        data = self._bytes()
        try:
            wb = load(data, read_only=True, data_only=True)
            try:
                locale = self._locale(wb.sheetnames)
                tables, positions = {}, {}
                for key in READ_TABS:
                    ws = _find_sheet(
                        wb, self.schema.tab(key), locale, required=key not in OPTIONAL_TABS
                    )
                    if ws is not None:
                        tables[key], positions[key] = _read_table(ws, self.schema.tab(key), locale)
                log = _find_sheet(wb, self.schema.tab("log"), locale, required=False)
                log_header = _header(log) if log is not None else ()
                identity = book_identity(wb)
            finally:
                wb.close()
            for key, column in (("deals", "paid_pct"), ("invoices", "amount")):
                if key in tables:
                    tables[key] = self._uncomputed_formulas(data, tables[key], column)
        except _BROKEN as exc:
            raise NotAWorkbookError(f"{self.path} is not an .xlsx workbook") from exc
        fingerprint = _sha256(data)
        seen_tabs = {key: SeenTab(table, positions[key]) for key, table in tables.items()}
        log_title = log.title if log is not None else None
        self._seen = Seen(fingerprint, locale, seen_tabs, log_title, log_header)
        return BookRead(locale, tables, fingerprint, identity=identity, date_cells=True)

    def read_log(self) -> Iterator[list[Cell]]:
        """Every Log row below the header (read only for reports, never by a plain tick),
        handed over as openpyxl's read-only mode parses the sheet, never all at once."""
        data = self._bytes()
        try:
            wb = load(data, read_only=True, data_only=True)
            try:
                locale = self._locale(wb.sheetnames)
                title = self.schema.tab("log").title[locale]
                if title not in wb.sheetnames:
                    return
                ws = wb[title]
                ws.reset_dimensions()
                for row in ws.iter_rows(min_row=2, values_only=True):
                    if any(v not in (None, "") for v in row):
                        yield [_cell(v) for v in row]
            finally:
                wb.close()
        except _BROKEN as exc:
            raise NotAWorkbookError(f"{self.path} is not an .xlsx workbook") from exc

    def _uncomputed_formulas(self, data: bytes, table: TableRead, key: str) -> TableRead:
        """Blank cells that hold a formula nobody computed yet come back as the formula text.

        openpyxl keeps no results: a file last saved by openpyxl has formulas without values
        until LibreOffice or Excel recalculates it. The deal watcher then computes Paid %
        itself; an invoice's Amount gets a Note saying so (never "Fill in: Amount").
        """
        if key not in table.columns:
            return table
        blanks = {row.number for row in table.rows if row.get(key) is None}
        if not blanks:
            return table
        wb = load(data, read_only=True, data_only=False)
        try:
            ws = wb[table.title]
            column = column_positions(
                _header(ws), self.schema.tab(table.tab), self._locale(wb.sheetnames), ws.title
            )[key]
            formulas = {
                number: values[column]
                for number, values in enumerate(ws.iter_rows(min_row=2, values_only=True), 2)
                if number in blanks and column < len(values) and isinstance(values[column], str)
            }
        finally:
            wb.close()
        rows = tuple(
            SheetRow(row.number, Record.of({**row.values, key: formulas[row.number]}))
            if formulas.get(row.number, "").startswith("=")
            else row
            for row in table.rows
        )
        return TableRead(table.tab, table.title, table.columns, rows)

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        self.written_version = None
        if changes.is_empty():
            return []
        reason = self.busy_reason()
        if reason:
            raise BookBusyError(reason)
        seen, self._seen = self._seen, None
        data = self._bytes()
        if fingerprint is not None and _sha256(data) != fingerprint:
            raise BookChangedError(say(seen.locale if seen else "en", "workbook_changed"))
        if fingerprint is not None and seen is not None and seen.fingerprint == fingerprint:
            # The file is the one this tick read: patch the changed cells only (see
            # workbook_fast); None when the changes need the full openpyxl load below.
            fast = fast_apply(data, seen, changes, self.schema)
            if fast is not None:
                out, skipped = fast
                save_book_file(self.path, out, before_replace=lambda: self._check_unchanged(data))
                self.written_version = self._version_if(out, fingerprint)
                return skipped
        try:
            wb = load(data, read_only=False, data_only=False)
            cached = cached_values(wb, data)
        except _BROKEN as exc:
            raise NotAWorkbookError(f"{self.path} is not an .xlsx workbook") from exc
        locale = self._locale(wb.sheetnames)
        active = wb.active.title if wb.active is not None else ""
        skipped = _Writer(self, wb, locale).apply(changes, fingerprint)
        if changes.queues is not None:
            write_queues(wb, self.schema, locale, changes.queues)
        if changes.lists is not None:
            write_lists(wb, self.schema.labels.lists_title[locale], changes.lists)
        for report in changes.reports or ():
            write_report(wb, report)
        _keep_active(wb, active, self.schema.tab("invoices").title[locale])
        out = with_cached_values(workbook_bytes(wb), wb, cached)
        save_book_file(self.path, out, before_replace=lambda: self._check_unchanged(data))
        self.written_version = self._version_if(out, fingerprint)
        return skipped

    def _version_if(self, out: bytes, fingerprint: str | None) -> str | None:
        """The file's version if it still holds `out` (checked between two looks at it)."""
        if fingerprint is None:
            return None  # a replayed journal: what it was written over is not known
        version = self.version()
        try:
            same = self.path.read_bytes() == out
        except OSError:
            return None
        return version if same and self.version() == version else None

    def _check_unchanged(self, data: bytes) -> None:
        """Last look before the swap: someone may have opened or saved the book meanwhile."""
        reason = self.busy_reason()
        if reason:
            raise BookBusyError(reason)
        if _sha256(self._bytes()) != _sha256(data):
            raise BookChangedError(say(self._language(), "workbook_changed"))

    def _bytes(self) -> bytes:
        try:
            return self.path.read_bytes()
        except OSError as exc:
            raise NotAWorkbookError(f"{self.path} is not an .xlsx workbook") from exc

    def _locale(self, titles: Sequence[str]) -> Locale:
        names = self.schema.tab("invoices").title
        for locale in LOCALES:
            if _find_title(titles, names[locale]) is not None:
                return locale
        looked_for = " or ".join(f'"{names[locale]}"' for locale in LOCALES)
        raise NotAWorkbookError(
            f"{self.path} is not a sheetflow workbook: no Invoices tab (looked for {looked_for})"
        )


class _Writer:
    """One apply: finds tabs, columns (by header) and rows (by ID), then changes cells."""

    def __init__(self, book: WorkbookBook, wb: Book, locale: Locale) -> None:
        self.book, self.wb, self.locale = book, wb, locale
        self.tabs: dict[str, _TabCursor] = {}

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        for append in changes.appends:  # first: a write in the same plan may name the new ID
            self.append(append)
        ordered = in_write_order(changes.writes, self.book.schema)
        skipped = [note for _index, write in ordered if (note := self.write(write))]
        for lock in changes.locks:
            self.lock(lock)
        if changes.log:
            self.append_log(changes.log, replay=fingerprint is None)
        return skipped

    def cursor(self, key: str) -> _TabCursor:
        if key not in self.tabs:
            ws = _find_sheet(self.wb, self.book.schema.tab(key), self.locale, required=True)
            self.tabs[key] = _TabCursor(ws, self.book.schema.tab(key), self.locale)
        return self.tabs[key]

    def write(self, write: CellWrite) -> str | None:
        """Put one cell if `decide_write` lets it; else the sentence saying why not."""
        tab = self.cursor(write.tab)
        decision = decide_write(write, tab, self.book.schema, self.locale)
        if not decision.put or decision.row is None:
            return decision.note
        cell = tab.cell(decision.row, write.column)
        put_typed(tab.writable(cell), write.value, tab.tab.column(write.column).type, self.locale)
        if write.column == tab.tab.id_column:
            tab.forget_ids()
        if unlocks_people_cells(tab.tab.key, decision.row):
            tab.unlock_people_cells(decision.row)
        return None

    def append(self, append: RowAppend) -> None:
        """A new row below the last filled one, cells placed by header; none if the ID is there."""
        tab = self.cursor(append.tab)
        if tab.row_of(append.record, None) is not None:
            return  # appended by the tick a crash cut short, or typed by a person meanwhile
        row = 1 + max(
            (r for (r, _c), cell in existing_cells(tab.ws) if cell.value not in (None, "")),
            default=1,
        )
        id_key = tab.tab.id_column or ""
        for key, value in {**append.values, id_key: append.record}.items():
            if key in tab.columns and stored(value) is not None:
                put(tab.writable(tab.cell(row, key)), value)
        tab.forget_ids()
        if unlocks_people_cells(tab.tab.key, row):
            tab.unlock_people_cells(row)

    def lock(self, lock: CellLock) -> None:
        tab = self.cursor(lock.tab)
        row = tab.row_of(lock.record, None)
        if row is not None:
            # A workbook cannot name who may edit: a cell kept for its signer stays open.
            set_locked(tab.writable(tab.cell(row, lock.column)), lock.locked and not lock.editors)

    def append_log(self, entries: Sequence[LogEntry], replay: bool) -> None:
        """Append below the last filled row; a replayed plan whose rows are there adds none."""
        tab = self.book.schema.tab("log")
        ws = _find_sheet(self.wb, tab, self.locale, required=False)
        if ws is None:
            ws = self.wb.create_sheet(tab.title[self.locale])
            prepare_tab(ws, tab, self.locale, protected=True)
        try:
            positions = column_positions(_header(ws), tab, self.locale, ws.title)
        except SchemaError:  # the Log is append-only history: fall back to the schema's order
            positions = {column.key: index for index, column in enumerate(tab.columns)}
        columns = [positions[column.key] + 1 for column in tab.columns]
        last = max((r for (r, _c), c in existing_cells(ws) if c.value is not None), default=1)
        rows = [entry.as_row() for entry in entries]
        if replay and last - len(rows) >= 1:
            tail = [
                [_cell(ws.cell(row=row, column=col).value) for col in columns]
                for row in range(last - len(rows) + 1, last + 1)
            ]
            if all(same_log_row(got, values) for got, values in zip(tail, rows, strict=True)):
                return
        for offset, values in enumerate(rows, start=1):
            for col, value in zip(columns, values, strict=True):
                put(ws.cell(row=last + offset, column=col), value)
            # Time: a date-time cell in the Settings time zone, formatted for the book.
            put_log_time(ws.cell(row=last + offset, column=columns[0]), values[0], self.locale)


class _TabCursor:
    """One tab opened for writing: its columns by key and its rows by ID."""

    def __init__(self, ws: Sheet, tab: Tab, locale: Locale) -> None:
        self.ws, self.tab, self.locale = ws, tab, locale
        positions = column_positions(_header(ws), tab, locale, ws.title)
        self.columns = {key: index + 1 for key, index in positions.items()}
        self._rows = RowsById(self._id_at, self._ids)

    def cell(self, row: int, key: str) -> Any:
        if key not in self.columns:  # an optional column a book made before lacks: add it
            header = [c for (r, c), cell in existing_cells(self.ws) if r == 1 and cell.value]
            self.columns[key] = 1 + max(header, default=0)
            header_cell = self.ws.cell(row=1, column=self.columns[key])
            put(header_cell, self.tab.column(key).header[self.locale])
        return self.ws.cell(row=row, column=self.columns[key])

    def writable(self, cell: Any) -> Any:
        """The cell itself, once split out of a range a person merged (only its anchor has a
        value, so no typed value is lost; openpyxl cannot write inside a merged range)."""
        if not isinstance(cell, MergedCell):
            return cell
        for merged in list(self.ws.merged_cells.ranges):
            if cell.coordinate in merged:
                self.ws.unmerge_cells(merged.coord)
        return self.ws.cell(row=cell.row, column=cell.column)

    def current(self, row: int, key: str) -> Cell:
        return _cell(self.cell(row, key).value)

    def row_of(self, record: str, hint: int | None) -> int | None:
        return None if self.tab.id_column is None else self._rows.row_of(record, hint)

    def _id_at(self, row: int) -> Cell:
        return _cell(self.cell(row, self.tab.id_column or "").value)

    def _ids(self) -> Iterator[tuple[int, Cell]]:
        column = self.columns[self.tab.id_column or ""]
        for (row, col), cell in sorted(existing_cells(self.ws), key=lambda item: item[0]):
            if col == column:
                yield row, _cell(cell.value)

    def forget_ids(self) -> None:
        self._rows.forget()

    def unlock_people_cells(self, row: int) -> None:
        """Rows below the prepared ones: unlock people's cells nobody has styled yet."""
        for key, col in self.columns.items():
            cell = self.ws.cell(row=row, column=col)
            if self.tab.column(key).owner == "people" and not cell.has_style:
                cell.protection = UNLOCKED


def _read_table(ws: Sheet, tab: Tab, locale: Locale) -> tuple[TableRead, dict[str, int]]:
    ws.reset_dimensions()  # trust the rows themselves, not a possibly stale dimension record
    rows = values_by_row(ws)
    positions = column_positions(next(rows, ()), tab, locale, ws.title)
    found = []
    keys = tuple(positions)
    for number, values in enumerate(rows, start=2):
        row = SheetRow(
            number,
            compact(
                keys, (_cell(values[i]) if i < len(values) else None for i in positions.values())
            ),
        )
        if not row.is_blank():
            found.append(row)
    return TableRead(tab.key, ws.title, tuple(positions), tuple(found)), positions


def _header(ws: Sheet) -> tuple[object, ...]:
    return next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())


def _find_sheet(wb: Book, tab: Tab, locale: Locale, *, required: bool) -> Sheet | None:
    title = tab.title[locale]
    found = _find_title(wb.sheetnames, title)
    if found is None and required:
        raise SchemaError(f'the workbook has no "{title}" tab (was it renamed?)', tab=title)
    return None if found is None else wb[found]


def _find_title(titles: Sequence[str], wanted: str) -> str | None:
    if wanted in titles:
        return wanted
    folded = wanted.strip().casefold()
    return next((t for t in titles if t.strip().casefold() == folded), None)


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime | date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    return str(value)  # durations, array formulas and other rarities: as text


def _keep_active(wb: Book, title: str, fallback: str) -> None:
    """Keep the tab a person had open selected, though tabs were added or removed before it."""
    if title not in wb.sheetnames or wb[title].sheet_state != "visible":
        title = fallback
    if title in wb.sheetnames:
        wb.active = wb[title]
        for ws in wb.worksheets:  # several selected tabs would be grouped: one edit, many tabs
            ws.sheet_view.tabSelected = ws.title == title


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
