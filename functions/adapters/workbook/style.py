"""How the workbook looks and prints: status colours, number formats, wrapping, print setup.

openpyxl styles, conditional formatting and page setup; LibreOffice and Excel both honour
them. Kept apart from `workbook_layout` (what the tabs hold) so the look can change alone.
"""

from __future__ import annotations

from typing import Any

from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.properties import PageSetupProperties

from functions.adapters.look import STATUS_FILLS
from functions.schema import Locale, Schema, Tab
from functions.text.formats import (
    SHEET_DATE_FORMAT,
    SHEET_DATETIME_FORMAT,
    SHEET_MONEY_FORMAT,
    SHEET_PERCENT_FORMAT,
)

Sheet = Any
HEADER_HEIGHT = 32  # points: two lines of an 11 pt bold header
_WRAP_TOP = Alignment(wrap_text=True, vertical="top")
_HEADER = Alignment(wrap_text=True, vertical="center")


def style_tab(ws: Sheet, tab: Tab, schema: Schema, locale: Locale, rows: int) -> None:
    """Header row tall enough, formats on typed columns, wrapped Notes, status colours, print."""
    ws.row_dimensions[1].height = HEADER_HEIGHT
    for col, column in enumerate(tab.columns, start=1):
        ws.cell(row=1, column=col).alignment = _HEADER
        letter = get_column_letter(col)
        if column.type == "status":
            _status_colours(ws, f"{letter}2:{letter}{rows}", schema, locale)
        number_format = _number_format(column.type, locale)
        wrap = column.key in ("note", "comment", "details")
        if number_format is None and not wrap:
            continue
        if wrap:
            ws.column_dimensions[letter].alignment = _WRAP_TOP
        for row in range(2, rows + 1):
            cell = ws.cell(row=row, column=col)
            if number_format:
                cell.number_format = number_format
            if wrap:
                cell.alignment = _WRAP_TOP
    print_setup(ws)


def _number_format(column_type: str, locale: Locale) -> str | None:
    return {
        "money": SHEET_MONEY_FORMAT,
        "date": SHEET_DATE_FORMAT[locale],
        "percent": SHEET_PERCENT_FORMAT,
        "datetime": SHEET_DATETIME_FORMAT[locale],
    }.get(column_type)


def _status_colours(ws: Sheet, cells: str, schema: Schema, locale: Locale) -> None:
    first = cells.split(":")[0]
    for status, colour in STATUS_FILLS.items():
        label = schema.status_label(status, locale).replace('"', '""')
        fill = PatternFill(start_color=colour, end_color=colour, fill_type="solid")
        ws.conditional_formatting.add(
            cells, FormulaRule(formula=[f'TRIM({first})="{label}"'], fill=fill, stopIfTrue=True)
        )


def print_setup(ws: Sheet, landscape: bool = True, grid: bool = True) -> None:
    """Landscape, every column on one page width, the header row repeated on each page."""
    ws.page_setup.orientation = "landscape" if landscape else "portrait"
    ws.page_setup.paperSize = ws.PAPERSIZE_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.print_title_rows = "1:1"
    ws.print_options.gridLines = grid
    ws.page_margins.left = ws.page_margins.right = 0.4


def style_report(ws: Sheet, columns: int) -> None:
    """A report's headers wrap inside a row tall enough for three lines; figures never overlap."""
    ws.row_dimensions[1].height = 48
    for col in range(1, columns + 1):
        ws.cell(row=1, column=col).alignment = Alignment(
            wrap_text=True, vertical="bottom", horizontal="center"
        )
        ws.cell(row=1, column=col).font = Font(name="Calibri", size=11, bold=True)
    print_setup(ws, grid=False)  # the chart sits below the table: no empty grid behind it
