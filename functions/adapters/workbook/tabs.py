"""Finding a workbook's tabs by title and reading a cell's value, as every workbook path does:
titles match ignoring case and surrounding spaces; values come back as the model's cells."""

from __future__ import annotations

from datetime import date, datetime, time

from functions.adapters.workbook.loading import Book, Sheet
from functions.errors import SchemaError
from functions.model import Cell
from functions.schema import Locale, Tab, find_title


def header_row(ws: Sheet) -> tuple[object, ...]:
    return next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())


def find_sheet(wb: Book, tab: Tab, locale: Locale, *, required: bool) -> Sheet | None:
    title = tab.title[locale]
    found = find_title(wb.sheetnames, title)
    if found is None and required:
        raise SchemaError(f'the workbook has no "{title}" tab (was it renamed?)', tab=title)
    return None if found is None else wb[found]


def plain_cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool | datetime | date):
        return value
    if isinstance(value, time):
        return value.isoformat()
    return str(value)  # durations, array formulas and other rarities: as text
