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
from pathlib import Path
from xml.etree.ElementTree import ParseError

from openpyxl.utils.exceptions import InvalidFileException

from functions.adapters.files import save_book_file
from functions.adapters.workbook.fast import Seen, SeenTab, fast_apply
from functions.adapters.workbook.layout import (
    book_identity,
    create_workbook,
    write_lists,
    write_queues,
    write_report,
)
from functions.adapters.workbook.loading import (
    Book,
    Sheet,
    cached_values,
    load,
    with_cached_values,
    workbook_bytes,
)
from functions.adapters.workbook.read import values_by_row
from functions.adapters.workbook.tabs import find_sheet, header_row, plain_cell
from functions.adapters.workbook.writer import Writer
from functions.errors import BookBusyError, BookChangedError, NotAWorkbookError
from functions.model import BookRead, Cell, SheetChanges, SheetRow, TableRead
from functions.record import Record, compact
from functions.schema import (
    OPTIONAL_TABS,
    READ_TABS,
    Locale,
    Schema,
    Tab,
    book_locale,
    column_positions,
    invoices_titles,
)
from functions.text.messages import say

__all__ = ["WorkbookBook", "create_workbook"]

_BROKEN = (zipfile.BadZipFile, KeyError, OSError, InvalidFileException, ParseError, ValueError)


class WorkbookBook:
    """A SpreadsheetBook backed by one `.xlsx` file."""

    version_may_lag = False  # every save changes the file's size and mtime

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
                    ws = find_sheet(
                        wb, self.schema.tab(key), locale, required=key not in OPTIONAL_TABS
                    )
                    if ws is not None:
                        tables[key], positions[key] = _read_table(ws, self.schema.tab(key), locale)
                log = find_sheet(wb, self.schema.tab("log"), locale, required=False)
                log_header = header_row(log) if log is not None else ()
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
                        yield [plain_cell(v) for v in row]
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
                header_row(ws), self.schema.tab(table.tab), self._locale(wb.sheetnames), ws.title
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
        skipped = Writer(self.schema, wb, locale).apply(changes, fingerprint)
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
        locale = book_locale(titles, self.schema)
        if locale is None:
            raise NotAWorkbookError(
                f"{self.path} is not a sheetflow workbook: no Invoices tab"
                f" (looked for {invoices_titles(self.schema)})"
            )
        return locale


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
                keys,
                (plain_cell(values[i]) if i < len(values) else None for i in positions.values()),
            ),
        )
        if not row.is_blank():
            found.append(row)
    return TableRead(tab.key, ws.title, tuple(positions), tuple(found)), positions


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
