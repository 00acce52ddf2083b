"""The fast write path of the `.xlsx` backend: patch only the cells a tick changes.

openpyxl's full load and save of a workbook cost seconds per ten thousand rows (every cell of
every tab, the Log included, is parsed and written again). A tick changes a few cells, appends
a few Log rows and rewrites the small queue tabs, so when the book is still the one the tick
read (same SHA-256), `fast_apply` edits those cells in the sheets' XML and copies everything
else byte for byte: people's formulas (with their cached values), styles, validations,
protections and whatever openpyxl does not understand all stay exactly as they were.

It makes the same decisions as the openpyxl path (`writer.Writer`), from the values the
read saw: new rows first (RowAppend, below the last filled row), each write as
`write_decision` decides it (the record's row now, compare-and-set), values typed as
`put_typed` types them (date cells, money formats), people's cells unlocked on rows below
the prepared ones, locks with a style of their own, Log rows below the last filled row, queue
tabs and the hidden Lists tab rewritten. Anything it does not handle — a journal replay (no
fingerprint), report tabs, queue tabs to add, remove, move or give other columns, a formula
in a cell to write, merged cells, a book counting dates from 1904, an unusual XML layout —
makes it return None, and the caller uses the openpyxl path. bench/check_workbook_fast.py
compares both paths.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from openpyxl.utils import get_column_letter

from functions.adapters.workbook.cells import typed_value
from functions.adapters.workbook.package import Package, Unsupported
from functions.adapters.workbook.xf import FORMAT, Styles
from functions.adapters.workbook.xml import DIMENSION, SheetXml, value_xml
from functions.errors import SchemaError
from functions.model import (
    Cell,
    CellLock,
    CellWrite,
    LogEntry,
    QueueView,
    RowAppend,
    SheetChanges,
    Stored,
    TableRead,
    stored,
)
from functions.schema import (
    LIST_KEYS,
    MAIN_TABS,
    Locale,
    Schema,
    Tab,
    column_positions,
    unique_title,
)
from functions.text.formats import SHEET_DATETIME_FORMAT
from functions.text.log_times import log_cell
from functions.write_decision import RowsById, decide_write, put_rows, unlocks_people_cells


@dataclass
class SeenTab:
    """One tab as the tick read it: its columns (0-based positions) and non-blank rows."""

    table: TableRead
    positions: dict[str, int]


@dataclass
class Seen:
    """What `WorkbookBook.read` saw, kept for a fast apply of that same file."""

    fingerprint: str
    locale: Locale
    tabs: dict[str, SeenTab]
    log_title: str | None
    log_header: tuple[object, ...]


def fast_apply(
    data: bytes, seen: Seen, changes: SheetChanges, schema: Schema
) -> tuple[bytes, list[str]] | None:
    """The patched workbook and the skipped writes, or None when the openpyxl path must run."""
    if changes.reports:
        return None  # a report tab (monthly, with a chart) is made by openpyxl
    tabs = seen.tabs
    if any(w.tab in tabs and w.column not in tabs[w.tab].positions for w in changes.writes):
        return None  # a column the book lacks (a Settings Note): openpyxl's path adds it
    try:
        return _Patch(data, seen, schema).run(changes)
    except Unsupported:
        return None


# --- one apply -----------------------------------------------------------------------------


class _Grid:
    """A tab's cells as read, changed as writes are planned (as `gsheets.grid.TabGrid`)."""

    def __init__(self, seen: SeenTab, tab: Tab, sheet: Callable[[], SheetXml]) -> None:
        self.tab, self.title = tab, seen.table.title
        self.columns = {key: index + 1 for key, index in seen.positions.items()}
        self.rows: dict[int, Mapping[str, Cell]] = {r.number: r.values for r in seen.table.rows}
        self._sheet = sheet
        self._ids = RowsById(
            lambda row: self.value(row, tab.id_column or ""),
            lambda: ((row, self.rows[row].get(tab.id_column or "")) for row in sorted(self.rows)),
        )

    def value(self, row: int, key: str) -> Cell:
        return self.rows.get(row, {}).get(key)

    def current(self, row: int, key: str) -> Cell:
        if self._sheet().has_formula(row, self.columns[key]):
            raise Unsupported  # openpyxl would compare with the formula's text
        return self.value(row, key)

    def put(self, row: int, key: str, value: Stored) -> None:
        self.rows[row] = {**self.rows.get(row, {}), key: value}  # the read's rows stay as read
        if key == self.tab.id_column:
            self._ids.forget()

    def row_of(self, record: str, hint: int | None) -> int | None:
        return None if self.tab.id_column is None else self._ids.row_of(record, hint)


class _Patch:
    def __init__(self, data: bytes, seen: Seen, schema: Schema) -> None:
        self.seen, self.schema, self.locale = seen, schema, seen.locale
        self.package = Package(data)
        self.sheets: dict[str, SheetXml] = {}  # part name → its edits
        self.grids: dict[str, _Grid] = {}
        self._styles: Styles | None = None
        self.appended: dict[str, int] = {}  # tab title → the last row appended this apply

    def sheet(self, title: str) -> SheetXml:
        part = self.package.part_of(title)
        if part not in self.sheets:
            sheet = SheetXml(self.package.read(part))
            if b"<mergeCell " in sheet.xml:
                raise Unsupported  # the openpyxl path splits merged cells it writes into
            self.sheets[part] = sheet
        return self.sheets[part]

    def styles(self) -> Styles:
        if self._styles is None:
            self._styles = Styles(self.package.read(self.package.styles_part()))
        return self._styles

    def grid(self, key: str) -> _Grid:
        if key not in self.grids:
            seen = self.seen.tabs.get(key)
            if seen is None:
                raise Unsupported
            title = seen.table.title
            self.grids[key] = _Grid(seen, self.schema.tab(key), lambda: self.sheet(title))
        return self.grids[key]

    def run(self, changes: SheetChanges) -> tuple[bytes, list[str]]:
        skipped = put_rows(changes, self, self.schema)
        if changes.log:
            self.append_log(changes.log)
        if changes.queues is not None:
            self.queues(changes.queues)
        if changes.lists is not None:
            self.lists(changes.lists)
        styles = self._styles
        if styles is not None:
            for sheet in self.sheets.values():
                sheet.resolve_styles(styles)
            rendered = styles.render()
            if rendered is not None:
                self.package.patched[self.package.styles_part()] = rendered
        for part in list(self.sheets):
            self.package.patched[part] = functools.partial(self._render, part)
        return self.package.save(), skipped

    def _render(self, part: str) -> bytes:
        sheet = self.sheets.pop(part)  # its XML is freed once rendered
        return sheet.render()

    # -- as writer.Writer ---------------------------------------------------------------------
    def write(self, write: CellWrite) -> str | None:
        grid = self.grid(write.tab)
        decision = decide_write(write, grid, self.schema, self.locale)
        row = decision.row
        if not decision.put or row is None:
            return decision.note
        sheet = self.sheet(grid.title)
        col = grid.columns[write.column]
        self.put(sheet, row, col, write.value, grid.tab.column(write.column).type)
        grid.put(row, write.column, write.value)
        if unlocks_people_cells(grid.tab.key, row):
            self._unlock_people_cells(grid, sheet, row)
        return None

    def append(self, append: RowAppend) -> None:
        """A new row below the last one holding a value; none if the ID is there already."""
        grid = self.grid(append.tab)
        if grid.row_of(append.record, None) is not None:
            return
        sheet = self.sheet(grid.title)
        row = 1 + max(sheet.last_valued_row(), self.appended.get(grid.title, 1))
        self.appended[grid.title] = row
        id_key = grid.tab.id_column or ""
        for key, value in {**append.values, id_key: append.record}.items():
            if key in grid.columns and stored(value) is not None:
                sheet.edit(row, grid.columns[key]).value = value  # as `put`: text stays text
                grid.put(row, key, value)
        if unlocks_people_cells(grid.tab.key, row):
            self._unlock_people_cells(grid, sheet, row)

    def put(self, sheet: SheetXml, row: int, col: int, value: Stored, column_type: str) -> None:
        """As `workbook_layout.put_typed`: a date cell, or a money format, where it applies."""
        written, number_format = typed_value(value, column_type, self.locale)
        edit = sheet.edit(row, col)
        edit.value = written
        if number_format is not None:
            edit.styles.append(FORMAT + number_format)
            self.styles()

    def _unlock_people_cells(self, grid: _Grid, sheet: SheetXml, row: int) -> None:
        for key, col in grid.columns.items():
            if grid.tab.column(key).owner == "people":
                ops = sheet.edit(row, col).styles
                if not ops or ops[-1] != "unlock_if_plain":  # twice in a row is once
                    ops.append("unlock_if_plain")
                self.styles()

    def lock(self, lock: CellLock) -> None:
        grid = self.grid(lock.tab)
        row = grid.row_of(lock.record, None)
        if row is None:
            return
        sheet = self.sheet(grid.title)
        sheet.edit(row, grid.columns[lock.column]).styles.append(
            "lock" if lock.locked and not lock.editors else "unlock"  # as WorkbookBook.lock
        )
        self.styles()

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        title = self.seen.log_title
        if title is None:
            raise Unsupported  # the openpyxl path creates the Log tab
        tab = self.schema.tab("log")
        try:
            positions = column_positions(self.seen.log_header, tab, self.locale, title)
        except SchemaError:  # as the openpyxl path: the schema's order when headers are odd
            positions = {column.key: index for index, column in enumerate(tab.columns)}
        columns = [(positions[c.key] + 1, c.type) for c in tab.columns]
        sheet = self.sheet(title)
        last = sheet.last_valued_row()
        for offset, entry in enumerate(entries, start=1):
            for (col, kind), value in zip(columns, entry.as_row(), strict=True):
                self.put(sheet, last + offset, col, value, kind)
            when = log_cell(entry.time, serial=True)  # as workbook_layout.put_log_time
            if isinstance(when, float):
                edit = sheet.edit(last + offset, columns[0][0])
                edit.value = when
                edit.styles.append(FORMAT + SHEET_DATETIME_FORMAT[self.locale])
                self.styles()

    def queues(self, views: Sequence[QueueView]) -> None:
        """Rewrite the rows of each queue tab, when the tabs are already the ones wanted."""
        prefix = self.schema.labels.queue_title[self.locale].split("{name}")[0]
        titles = [title for title, _part in self.package.sheets]
        others = [t for t in titles if not t.startswith(prefix)]
        main = [self.schema.tab(key).title[self.locale] for key in MAIN_TABS]
        position = max((others.index(t) for t in main if t in others), default=-1) + 1
        wanted: list[str] = []
        for view in views:
            wanted.append(unique_title(view.title, others + wanted))
        if others[:position] + wanted + others[position:] != titles:
            raise Unsupported  # tabs to add, remove or move: the openpyxl path does that
        for title, view in zip(wanted, views, strict=True):
            part = self.package.part_of(title)
            sheet = SheetXml(self.package.read(part))
            header = sheet.cells_of(1)
            if [self.package.cell_text(cell) for cell in header.values()] != list(view.headers):
                raise Unsupported  # other columns (widths): the openpyxl path makes the tab anew
            bold = int(next(iter(header.values()))[0].get(b"s", b"0")) if header else 0
            self.package.patched[part] = _queue_xml(sheet, view, bold, self._queue_cell)

    @functools.cached_property
    def queue_types(self) -> dict[str, str]:
        return {c.header[self.locale]: c.type for c in self.schema.tab("invoices").columns}

    def lists(self, lists: Mapping[str, Sequence[str]]) -> None:
        """As `workbook_layout.write_lists`, on the hidden Lists tab the book already has."""
        title = self.schema.labels.lists_title[self.locale]
        if self.package.state_of(title) != "hidden":
            raise Unsupported  # to make or to hide: the openpyxl path does that
        sheet = self.sheet(title)
        header = sheet.cells_of(1)
        last = sheet.last_cell_row()
        for col, key in enumerate(LIST_KEYS, start=1):
            if col not in header or self.package.cell_text(header[col]) != key:
                raise Unsupported  # the bold header openpyxl would write
            names = lists.get(key)
            if names is None:
                continue
            for row in range(2, max(last, len(names) + 1) + 1):
                sheet.edit(row, col).value = names[row - 2] if row - 2 < len(names) else None

    def _queue_cell(self, row: int, col: int, header: str, value: Stored) -> bytes:
        """As `workbook_layout.write_queues`: typed by the Invoices column of that header."""
        written, number_format = typed_value(
            value, self.queue_types.get(header, "text"), self.locale
        )
        style = 0 if number_format is None else self.styles().variant(-1, FORMAT + number_format)
        return value_xml(row, col, style, written)


QueueCell = Callable[[int, int, str, Stored], bytes]


def _plain_cell(row: int, col: int, _header: str, value: Stored) -> bytes:
    return value_xml(row, col, 0, value)


def _queue_xml(sheet: SheetXml, view: QueueView, bold: int, cell: QueueCell = _plain_cell) -> bytes:
    rows = [
        b'<row r="1">'
        + b"".join(value_xml(1, c, bold, h) for c, h in enumerate(view.headers, start=1))
        + b"</row>"
    ]
    for r, values in enumerate(view.rows, start=2):
        cells = [
            cell(r, c, header, v)
            for c, (header, v) in enumerate(zip(view.headers, values, strict=True), start=1)
            if v is not None
        ]
        rows.append(b'<row r="' + str(r).encode() + b'">' + b"".join(cells) + b"</row>")
    xml = sheet.xml
    if sheet.empty_data is not None:
        start, end = sheet.empty_data
    else:
        start = xml.find(b"<sheetData")
        end = sheet.data_span[1] + len(b"</sheetData>")
    head = _frozen_header(xml[:start])
    width = max(len(view.headers), 1)
    last = str(get_column_letter(width)).encode() + str(len(view.rows) + 1).encode()
    match = DIMENSION.search(head)
    if match is not None:
        head = head[: match.start()] + b'<dimension ref="A1:' + last + b'"/>' + head[match.end() :]
    return head + b"<sheetData>" + b"".join(rows) + b"</sheetData>" + xml[end:]


def _frozen_header(head: bytes) -> bytes:
    """Queue tabs keep their header row frozen (as the openpyxl path makes them)."""
    if b"<pane" in head:
        return head
    view = re.search(rb"<sheetView\b[^>]*?(/?)>", head)
    if view is None:
        raise Unsupported
    pane = b'<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    if view.group(1):  # <sheetView .../>
        opened = view.group(0)[:-2].rstrip() + b">"
        return head[: view.start()] + opened + pane + b"</sheetView>" + head[view.end() :]
    return head[: view.end()] + pane + head[view.end() :]


__all__ = ["Seen", "SeenTab", "Unsupported", "fast_apply"]
