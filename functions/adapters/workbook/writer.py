"""The openpyxl write path of the `.xlsx` backend: one apply on a fully loaded workbook.

Tabs are found by title, columns by header, rows by ID; each write is put as
`write_decision` decides; new rows go below the last filled one, Log rows too (a replayed
journal whose rows are there adds none). The fast path (fast.py) makes the same decisions
on the sheets' XML when it can.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from openpyxl.cell.cell import MergedCell

from functions.adapters.workbook.cells import UNLOCKED, put, put_log_time, put_typed, set_locked
from functions.adapters.workbook.layout import prepare_tab
from functions.adapters.workbook.loading import Book, Sheet, existing_cells
from functions.adapters.workbook.tabs import find_sheet, header_row, plain_cell
from functions.errors import SchemaError
from functions.model import Cell, CellLock, CellWrite, LogEntry, RowAppend, SheetChanges, stored
from functions.schema import Locale, Schema, Tab, column_positions
from functions.text.log_times import same_log_row
from functions.write_decision import RowsById, decide_write, put_rows, unlocks_people_cells


class Writer:
    """One apply: finds tabs, columns (by header) and rows (by ID), then changes cells."""

    def __init__(self, schema: Schema, wb: Book, locale: Locale) -> None:
        self.schema, self.wb, self.locale = schema, wb, locale
        self.tabs: dict[str, TabCursor] = {}

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        skipped = put_rows(changes, self, self.schema)
        if changes.log:
            self.append_log(changes.log, replay=fingerprint is None)
        return skipped

    def cursor(self, key: str) -> TabCursor:
        if key not in self.tabs:
            ws = find_sheet(self.wb, self.schema.tab(key), self.locale, required=True)
            self.tabs[key] = TabCursor(ws, self.schema.tab(key), self.locale)
        return self.tabs[key]

    def write(self, write: CellWrite) -> str | None:
        """Put one cell if `decide_write` lets it; else the sentence saying why not."""
        tab = self.cursor(write.tab)
        decision = decide_write(write, tab, self.schema, self.locale)
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
        tab = self.schema.tab("log")
        ws = find_sheet(self.wb, tab, self.locale, required=False)
        if ws is None:
            ws = self.wb.create_sheet(tab.title[self.locale])
            prepare_tab(ws, tab, self.locale, protected=True)
        try:
            positions = column_positions(header_row(ws), tab, self.locale, ws.title)
        except SchemaError:  # the Log is append-only history: fall back to the schema's order
            positions = {column.key: index for index, column in enumerate(tab.columns)}
        columns = [positions[column.key] + 1 for column in tab.columns]
        last = max((r for (r, _c), c in existing_cells(ws) if c.value is not None), default=1)
        rows = [entry.as_row() for entry in entries]
        if replay and last - len(rows) >= 1:
            tail = [
                [plain_cell(ws.cell(row=row, column=col).value) for col in columns]
                for row in range(last - len(rows) + 1, last + 1)
            ]
            if all(same_log_row(got, values) for got, values in zip(tail, rows, strict=True)):
                return
        for offset, values in enumerate(rows, start=1):
            for col, value in zip(columns, values, strict=True):
                put(ws.cell(row=last + offset, column=col), value)
            # Time: a date-time cell in the Settings time zone, formatted for the book.
            put_log_time(ws.cell(row=last + offset, column=columns[0]), values[0], self.locale)


class TabCursor:
    """One tab opened for writing: its columns by key and its rows by ID."""

    def __init__(self, ws: Sheet, tab: Tab, locale: Locale) -> None:
        self.ws, self.tab, self.locale = ws, tab, locale
        positions = column_positions(header_row(ws), tab, locale, ws.title)
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
        return plain_cell(self.cell(row, key).value)

    def row_of(self, record: str, hint: int | None) -> int | None:
        return None if self.tab.id_column is None else self._rows.row_of(record, hint)

    def _id_at(self, row: int) -> Cell:
        return plain_cell(self.cell(row, self.tab.id_column or "").value)

    def _ids(self) -> Iterator[tuple[int, Cell]]:
        column = self.columns[self.tab.id_column or ""]
        for (row, col), cell in sorted(existing_cells(self.ws), key=lambda item: item[0]):
            if col == column:
                yield row, plain_cell(cell.value)

    def forget_ids(self) -> None:
        self._rows.forget()

    def unlock_people_cells(self, row: int) -> None:
        """Rows below the prepared ones: unlock people's cells nobody has styled yet."""
        for key, col in self.columns.items():
            cell = self.ws.cell(row=row, column=col)
            if self.tab.column(key).owner == "people" and not cell.has_style:
                cell.protection = UNLOCKED
