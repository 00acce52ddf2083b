"""Creating, styling and saving the sheetflow workbook (openpyxl).

Shared by `create_workbook` and by `WorkbookBook.apply`, which rewrites the generated tabs
(queues, the hidden Lists tab) and must save without ever leaving a half-written file.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from pathlib import Path

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.packaging.custom import StringProperty
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.protection import SheetProtection

from functions.adapters.files import save_book_file, why_not_written
from functions.adapters.workbook.cells import UNLOCKED, put, put_typed
from functions.adapters.workbook.loading import Book, Sheet, workbook_bytes
from functions.adapters.workbook.style import print_setup, style_report, style_tab
from functions.directory import settings_rows
from functions.errors import ConfigError
from functions.model import QueueView, ReportTab
from functions.schema import (
    DATA_ROWS,
    LIST_KEYS,
    LIST_ROWS,
    MAIN_TABS,
    PROTECTED_TABS,
    Locale,
    Schema,
    Tab,
    unique_title,
)

# Tabs whose sheet is protected in LibreOffice/Excel. Not Invoices and Deals: a protected
# sheet refuses sorting, deleting and pasting rows in LibreOffice whatever its flags say, so
# there the tick guards the automation cells and a claimed Accountant instead (restored with
# a Note, the overwritten value kept in the Log); their cells still carry the locked flags.
SHEET_PROTECTED_TABS = frozenset({"log"})
STYLED_TABS = ("invoices", "deals", "log")
# Name and size too: a font with only `bold` set falls back to a serif 10 pt in LibreOffice.
_BOLD = Font(name="Calibri", size=11, bold=True)
_PLAIN_TITLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_DROPDOWN_HINT: dict[Locale, tuple[str, str]] = {
    "en": (
        "Not in the list",
        "Choose from the list. Another value is kept but may not be understood.",
    ),
    "ru": (
        "Нет в списке",
        "Выберите из списка. Другое значение сохранится, но может быть не понято.",
    ),
}


def create_workbook(
    path: Path,
    schema: Schema,
    locale: Locale,
    people: Sequence[tuple[str, str, str, bool]] | None = None,
    settings: dict[str, str] | None = None,
    force: bool = False,
) -> None:
    """Create a new workbook: every tab, dropdowns, protection, People and Settings rows."""
    if path.exists() and not force:
        raise ConfigError(f"{path} already exists; use --force to replace it")
    people = list(people or [])
    wb = Workbook()
    lists_title = schema.labels.lists_title[locale]
    for index, key in enumerate(MAIN_TABS):
        tab = schema.tab(key)
        ws = wb.active if index == 0 else wb.create_sheet()
        ws.title = tab.title[locale]
        prepare_tab(ws, tab, locale, protected=key in PROTECTED_TABS)
        if key in STYLED_TABS:
            # The Log grows by appending: its empty rows stay unstyled (column styles only).
            style_tab(ws, tab, schema, locale, 1 if key == "log" else DATA_ROWS)
        _add_dropdowns(ws, tab, schema, locale, lists_title)
    people_ws = wb[schema.tab("people").title[locale]]
    for row, person in enumerate(_people_rows(schema, locale, people), start=2):
        for col, value in enumerate(person, start=1):
            put(people_ws.cell(row=row, column=col), value)
    settings_ws = wb[schema.tab("settings").title[locale]]
    for row, cells in enumerate(settings_rows(schema, locale, settings), start=1):
        for col, value in enumerate(cells, start=1):
            if row > 1 or col > 2:  # the tab's own headers are written with the tab
                put(settings_ws.cell(row=row, column=col), value)
    _describe_settings(settings_ws)
    print_setup(settings_ws)
    write_lists(wb, lists_title, people_lists(schema, people))
    set_book_identity(wb, uuid.uuid4().hex)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ConfigError(why_not_written(path, exc)) from exc
    save_book_file(path, workbook_bytes(wb))


def _describe_settings(ws: Sheet) -> None:
    """The Description column (after Key, Value, Note): wide, wrapped, bold header, read only."""
    ws.cell(row=1, column=4).font = _BOLD
    ws.column_dimensions["D"].width = 70
    for cells in ws.iter_rows(min_row=2, min_col=3, max_col=4):  # Note and Description
        for cell in cells:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# --- the book's identity -------------------------------------------------------------------
# A custom document property: it travels with the file (a move, a rename, a copy, a re-save in
# LibreOffice or Excel) and is not a cell anyone edits by accident. The state records it.
BOOK_ID_PROPERTY = "sheetflow book"


def book_identity(wb: Book) -> str:
    for prop in wb.custom_doc_props.props:
        if prop.name == BOOK_ID_PROPERTY:
            return str(prop.value or "").strip()
    return ""


def set_book_identity(wb: Book, value: str) -> None:
    props = wb.custom_doc_props
    props.props = [p for p in props.props if p.name != BOOK_ID_PROPERTY]
    props.append(StringProperty(name=BOOK_ID_PROPERTY, value=value))


def prepare_tab(ws: Sheet, tab: Tab, locale: Locale, *, protected: bool) -> None:
    """Bold frozen header, widths, autofilter; protected tabs keep people's columns editable."""
    last = get_column_letter(len(tab.columns))
    for col, column in enumerate(tab.columns, start=1):
        cell = ws.cell(row=1, column=col, value=column.header[locale])
        cell.font = _BOLD
        ws.column_dimensions[get_column_letter(col)].width = column.width
    ws.freeze_panes = "A2"
    ws.auto_filter.ref = f"A1:{last}{DATA_ROWS}"
    if not protected:
        return
    if tab.key in SHEET_PROTECTED_TABS:
        ws.protection = _people_protection()
    for col, column in enumerate(tab.columns, start=1):
        if column.owner == "people":
            # Excel honours the column style; LibreOffice only honours each cell's own style.
            ws.column_dimensions[get_column_letter(col)].protection = UNLOCKED
            for row in range(2, DATA_ROWS + 1):
                ws.cell(row=row, column=col).protection = UNLOCKED


def _people_protection() -> SheetProtection:
    """Protected, yet sorting, filtering, formatting and adding rows stay allowed."""
    # In SheetProtection a True flag forbids the action; False allows it.
    return SheetProtection(
        sheet=True,
        sort=False,
        autoFilter=False,
        formatCells=False,
        formatColumns=False,
        formatRows=False,
        insertRows=False,
        deleteRows=False,
        insertHyperlinks=False,
    )


def _add_dropdowns(ws: Sheet, tab: Tab, schema: Schema, locale: Locale, lists_title: str) -> None:
    title, message = _DROPDOWN_HINT[locale]
    for col, column in enumerate(tab.columns, start=1):
        if not column.dropdown:
            continue
        if column.dropdown in LIST_KEYS:
            letter = get_column_letter(LIST_KEYS.index(column.dropdown) + 1)
            formula = f"{sheet_ref(lists_title)}!${letter}$2:${letter}${LIST_ROWS}"
        else:
            formula = '"' + ",".join(schema.choice_words(column.dropdown, locale)) + '"'
        # A warning, not a stop: an email typed instead of a name must still be accepted.
        validation = DataValidation(
            type="list",
            formula1=formula,
            allow_blank=True,
            showErrorMessage=True,
            errorStyle="warning",
            errorTitle=title,
            error=message,
        )
        letter = get_column_letter(col)
        validation.add(f"{letter}2:{letter}{DATA_ROWS}")
        ws.add_data_validation(validation)


def sheet_ref(title: str) -> str:
    """A tab title as a formula reference: quoted unless plain ASCII letters and digits."""
    return title if _PLAIN_TITLE.fullmatch(title) else quote_sheetname(title)


def _people_rows(
    schema: Schema, locale: Locale, people: Iterable[tuple[str, str, str, bool]]
) -> list[tuple[str, str, str, str]]:
    choices = schema.labels.choices
    rows = []
    for name, email, role, active in people:
        key = schema.choice_key("roles", role)
        word = choices["roles"][key][locale][0] if key else role
        rows.append((name, email, word, choices["yes_no"]["yes" if active else "no"][locale][0]))
    return rows


def people_lists(
    schema: Schema, people: Iterable[tuple[str, str, str, bool]]
) -> dict[str, list[str]]:
    """Active people's names per dropdown list (directors, accountants, managers)."""
    lists: dict[str, list[str]] = {key: [] for key in LIST_KEYS}
    for name, _email, role, active in people:
        key = schema.choice_key("roles", role)
        if active and key and f"{key}s" in lists:
            lists[f"{key}s"].append(name)
    return lists


def write_lists(wb: Book, title: str, lists: dict[str, list[str]]) -> None:
    """(Re)write the hidden tab the person dropdowns point at."""
    ws = wb[title] if title in wb.sheetnames else wb.create_sheet(title)
    ws.sheet_state = "hidden"
    for col, key in enumerate(LIST_KEYS, start=1):
        ws.cell(row=1, column=col, value=key).font = _BOLD
        names = lists.get(key)
        if names is None:
            continue
        for row in range(2, max(ws.max_row, len(names) + 1) + 1):
            put(ws.cell(row=row, column=col), names[row - 2] if row - 2 < len(names) else None)


def write_queues(wb: Book, schema: Schema, locale: Locale, views: Sequence[QueueView]) -> None:
    """Replace every queue tab of this locale by the given views, placed after the main tabs."""
    prefix = schema.labels.queue_title[locale].split("{name}")[0]
    for ws in list(wb.worksheets):
        if ws.title.startswith(prefix):
            wb.remove(ws)
    main = [schema.tab(key).title[locale] for key in MAIN_TABS]
    position = max((wb.sheetnames.index(t) for t in main if t in wb.sheetnames), default=-1) + 1
    widths = {c.header[locale]: c.width for c in schema.tab("invoices").columns}
    types = {c.header[locale]: c.type for c in schema.tab("invoices").columns}
    for offset, view in enumerate(views):
        ws = wb.create_sheet(unique_title(view.title, wb.sheetnames), position + offset)
        for col, header in enumerate(view.headers, start=1):
            ws.cell(row=1, column=col, value=header).font = _BOLD
            ws.column_dimensions[get_column_letter(col)].width = widths.get(header, 14)
        for row, values in enumerate(view.rows, start=2):
            for col, (header, value) in enumerate(zip(view.headers, values, strict=True), 1):
                put_typed(ws.cell(row=row, column=col), value, types.get(header, "text"), locale)
        ws.freeze_panes = "A2"
        ws.protection = SheetProtection(sheet=True, autoFilter=False, formatColumns=False)
        print_setup(ws)


_NUMBER_FORMATS = {"int": "0", "money": "#,##0.00", "hours": "0.0"}


def write_report(wb: Book, report: ReportTab) -> None:
    """(Re)write one `Report YYYY-MM` tab: formatted table, bold totals, a bar chart."""
    position = len(wb.sheetnames)
    if report.title in wb.sheetnames:
        position = wb.sheetnames.index(report.title)
        wb.remove(wb[report.title])
    ws = wb.create_sheet(report.title, position)
    for col, header in enumerate(report.headers, start=1):
        cell = ws.cell(row=1, column=col, value=header)
        ws.column_dimensions[get_column_letter(col)].width = 22 if col == 1 else 15
    style_report(ws, len(report.headers))
    for row, values in enumerate(report.rows, start=2):
        for col, (value, fmt) in enumerate(zip(values, report.formats, strict=True), start=1):
            cell = ws.cell(row=row, column=col)
            put(cell, value)
            if fmt in _NUMBER_FORMATS:
                cell.number_format = _NUMBER_FORMATS[fmt]
            if row == len(report.rows) + 1:
                cell.font = _BOLD
    ws.freeze_panes = "B2"
    managers = len(report.rows) - 1  # the last row is the totals row
    if managers > 0:
        chart = BarChart()
        chart.title = report.headers[report.chart_column]
        chart.y_axis.title = report.headers[report.chart_column]
        chart.legend = None
        column = report.chart_column + 1
        chart.add_data(
            Reference(ws, min_col=column, min_row=1, max_row=managers + 1), titles_from_data=True
        )
        chart.set_categories(Reference(ws, min_col=1, min_row=2, max_row=managers + 1))
        chart.width, chart.height = 18, 9
        ws.add_chart(chart, f"A{len(report.rows) + 4}")
    ws.protection = SheetProtection(sheet=True, autoFilter=False, formatColumns=False)
