"""A Google Sheet's tabs as read: columns found by header, rows found by ID.

Same rules and messages as the workbook backend: headers match ignoring case and surrounding
spaces, columns may be in any order, a missing tab or header is a SchemaError naming it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field

from functions.adapters.gsheets.answers import Grid, Tab
from functions.adapters.gsheets.cells import HEADER_FIELDS, JSON, header_cell
from functions.errors import NotAWorkbookError, SchemaError
from functions.model import Cell, SheetRow, Stored, TableRead
from functions.record import Record, shape
from functions.schema import Locale, Schema, column_positions, find_title, invoices_titles
from functions.schema import Tab as SchemaTab
from functions.schema import book_locale as schema_book_locale
from functions.write_decision import RowsById


@dataclass
class TabGrid:
    """One tab's cells as read (row 0 is the header row), changed as writes are planned."""

    key: str
    tab: Tab
    spec: SchemaTab
    columns: dict[str, int]  # column key → 0-based position
    rows: Grid
    _ids: RowsById = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._ids = RowsById(lambda row: self.value(row, self.spec.id_column or ""), self._id_cells)

    def value(self, row: int, key: str) -> Cell:
        """The cell in 1-based sheet `row` under column `key` ('' reads as None)."""
        cells = self.rows[row - 1] if 0 < row <= len(self.rows) else []
        col = self.columns[key]
        value = cells[col] if col < len(cells) else None
        return None if value == "" else value

    def put(self, row: int, key: str, value: Stored) -> None:
        while len(self.rows) < row:
            self.rows.append([])
        cells = self.rows[row - 1]
        col = self.columns[key]
        cells.extend([None] * (col + 1 - len(cells)))
        cells[col] = value
        if key == self.spec.id_column:
            self._ids.forget()

    def add_column(self, key: str, locale: Locale) -> list[JSON]:
        """An optional column a sheet made before lacks (the Settings Note): its header goes
        after the last one, the tab widened if need be; the requests that do it."""
        header = self.rows[0] if self.rows else []
        col = 1 + max((i for i, v in enumerate(header) if v not in (None, "")), default=-1)
        self.columns[key] = col
        self.put(1, key, self.spec.column(key).header[locale])
        out: list[JSON] = []
        if col >= self.tab.columns:
            dimension = {"sheetId": self.tab.sheet_id, "dimension": "COLUMNS"}
            out.append({"appendDimension": {**dimension, "length": col + 1 - self.tab.columns}})
        start = {"sheetId": self.tab.sheet_id, "rowIndex": 0, "columnIndex": col}
        title = self.spec.column(key).header[locale]
        cells = [{"values": [header_cell(title)]}]  # a header like the others (gsheets_layout)
        out.append({"updateCells": {"start": start, "rows": cells, "fields": HEADER_FIELDS}})
        return out

    def row_of(self, record: str, hint: int | None) -> int | None:
        id_key = self.spec.id_column
        return None if id_key is None else self._ids.row_of(record, hint)

    def _id_cells(self) -> Iterator[tuple[int, Cell]]:
        id_key = self.spec.id_column or ""
        return ((row, self.value(row, id_key)) for row in range(2, len(self.rows) + 1))

    def table(self) -> TableRead:
        found = []
        index = shape(tuple(self.columns))
        for number in range(2, len(self.rows) + 1):
            row = SheetRow(
                number, Record(index, tuple(self.value(number, k) for k in self.columns))
            )
            if not row.is_blank():
                found.append(row)
        return TableRead(self.key, self.tab.title, tuple(self.columns), tuple(found))


def find_tab(tabs: Sequence[Tab], wanted: str) -> Tab | None:
    found = find_title([tab.title for tab in tabs], wanted)
    return next((tab for tab in tabs if tab.title == found), None)


def book_locale(tabs: Sequence[Tab], schema: Schema, name: str) -> Locale:
    locale = schema_book_locale([tab.title for tab in tabs], schema)
    if locale is None:
        raise NotAWorkbookError(
            f"{name} is not a sheetflow spreadsheet: no Invoices tab"
            f" (looked for {invoices_titles(schema)})"
        )
    return locale


def required_tab(tabs: Sequence[Tab], spec: SchemaTab, locale: Locale) -> Tab:
    title = spec.title[locale]
    found = find_tab(tabs, title)
    if found is None:
        raise SchemaError(f'the spreadsheet has no "{title}" tab (was it renamed?)', tab=title)
    return found


def quote(title: str) -> str:
    """A tab title in A1 notation: always quoted, quotes doubled."""
    return "'" + title.replace("'", "''") + "'"


def log_rows(
    header: Sequence[Cell],
    rows: Iterable[Sequence[Cell]],
    spec: SchemaTab,
    locale: Locale,
    title: str,
) -> Iterator[list[Cell]]:
    """The Log's rows below its header (blank ones left out), columns in the schema's order,
    one at a time as `rows` gives them.

    Empty cells read as None, as in the workbook. A header that no longer matches (the Log is
    protected, so only the owner could have changed it) leaves the columns as they stand.
    """
    try:
        positions = column_positions(header, spec, locale, title)
        order: list[int] | None = [positions[column.key] for column in spec.columns]
    except SchemaError:
        order = None
    for row in rows:
        picked = row if order is None else [row[c] if c < len(row) else "" for c in order]
        cells: list[Cell] = [None if v == "" else v for v in picked]
        if any(v is not None for v in cells):
            yield cells
