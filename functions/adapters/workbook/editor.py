"""Edits a workbook the way a person would in LibreOffice: by header and record ID.

Used by the demo and the tests to play managers, directors and accountants.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import openpyxl

from functions.adapters.files import save_book_file
from functions.schema import Locale, Schema


class WorkbookEditor:
    def __init__(self, path: Path, schema: Schema, locale: Locale = "en") -> None:
        self.path, self.schema, self.locale = path, schema, locale

    def _sheet(self, wb: Any, tab: str) -> tuple[Any, dict[str, int]]:
        ws = wb[self.schema.tab(tab).title[self.locale]]
        by_header = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
        columns = {
            col.key: by_header[col.header[self.locale]]
            for col in self.schema.tab(tab).columns
            if col.header[self.locale] in by_header
        }
        return ws, columns

    def _save(self, wb: Any) -> None:
        buffer = io.BytesIO()
        wb.save(buffer)
        save_book_file(self.path, buffer.getvalue())

    def add_row(self, tab: str, values: dict[str, Any]) -> int:
        """Type a new row below the last one; returns its sheet row number."""
        wb = openpyxl.load_workbook(self.path)
        ws, columns = self._sheet(wb, tab)
        row = ws.max_row + 1
        while row > 2 and all(ws.cell(row - 1, c).value in (None, "") for c in columns.values()):
            row -= 1
        for key, value in values.items():
            ws.cell(row, columns[key]).value = value
        self._save(wb)
        return int(row)

    def set(self, tab: str, record: str, values: dict[str, Any]) -> None:
        """Change cells of the row whose ID column holds `record`."""
        wb = openpyxl.load_workbook(self.path)
        ws, columns = self._sheet(wb, tab)
        id_col = columns[self.schema.tab(tab).id_column or "id"]
        for row in range(2, ws.max_row + 1):
            if str(ws.cell(row, id_col).value or "").strip() == record:
                for key, value in values.items():
                    ws.cell(row, columns[key]).value = value
                self._save(wb)
                return
        raise KeyError(f"{record} not found in {tab}")

    def rows(self, tab: str) -> list[dict[str, Any]]:
        """Every non-blank row as {column key: value}."""
        wb = openpyxl.load_workbook(self.path)
        ws, columns = self._sheet(wb, tab)
        result = []
        for row in range(2, ws.max_row + 1):
            values = {key: ws.cell(row, col).value for key, col in columns.items()}
            if any(v not in (None, "") for v in values.values()):
                result.append(values)
        return result

    def row(self, tab: str, record: str) -> dict[str, Any]:
        id_key = self.schema.tab(tab).id_column or "id"
        for values in self.rows(tab):
            if str(values.get(id_key) or "").strip() == record:
                return values
        raise KeyError(f"{record} not found in {tab}")
