"""Putting values into openpyxl cells the way sheetflow writes them everywhere: text stays
text, a date column gets date cells, money its format, a Log Time a date-time, a lock a style
of its own (shared by the openpyxl writer, `init` and the fast path's `typed_value`)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Alignment, Protection

from functions.model import Stored
from functions.schema import Locale
from functions.text.formats import SHEET_DATE_FORMAT, SHEET_DATETIME_FORMAT, SHEET_MONEY_FORMAT
from functions.text.log_times import log_cell

UNLOCKED = Protection(locked=False)
# Bottom is already the default vertical alignment in Excel and LibreOffice: no visible change.
_OWN_STYLE = Alignment(vertical="bottom")
_MAX_TEXT = 32767


def put(cell: Any, value: Stored) -> None:
    """Write a value; text always stays text (never a formula, never an error code)."""
    if isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_TEXT]
        cell.data_type = "s"
    else:
        cell.value = value


def put_typed(cell: Any, value: Stored, column_type: str, locale: Locale) -> None:
    """`put`, but an ISO date in a date column becomes a date cell, and a number in a money
    column gets the money format: what `typed_values` asks for once a row is accepted."""
    written, number_format = typed_value(value, column_type, locale)
    if isinstance(written, datetime):
        cell.value = written
    else:
        put(cell, written)
    if number_format is not None:
        cell.number_format = number_format


def typed_value(
    value: Stored, column_type: str, locale: Locale
) -> tuple[Stored | datetime, str | None]:
    """What `put_typed` writes (shared with the fast write path): the value, a datetime for
    an ISO date in a date column, and the number format to give the cell, if any."""
    if column_type == "date" and isinstance(value, str):
        try:
            when = datetime.fromisoformat(value)
        except ValueError:
            when = None
        if when is not None and when.tzinfo is None:
            return when, SHEET_DATE_FORMAT[locale]
    if column_type == "money" and isinstance(value, int | float) and not isinstance(value, bool):
        return value, SHEET_MONEY_FORMAT
    return value, None


def put_log_time(cell: Any, stamp: str, locale: Locale) -> None:
    """A Log Time: the Settings zone's wall clock as a date-time cell (other text as is)."""
    value = log_cell(stamp, serial=False)
    if isinstance(value, datetime):
        cell.value = value
        cell.number_format = SHEET_DATETIME_FORMAT[locale]
    else:
        put(cell, stamp)


def set_locked(cell: Any, locked: bool) -> None:
    """Lock or unlock one cell, so that Excel and LibreOffice both see it that way.

    A locked cell with otherwise default formatting has an all-default style, which openpyxl
    saves without a style id. Excel then uses the default (locked) style, but LibreOffice
    gives such a cell its column's style, and people's columns are unlocked: a locked
    Accountant cell would stay editable in LibreOffice and lose its lock when LibreOffice
    saves. An alignment equal to the default gives the cell a style of its own.
    """
    cell.protection = Protection(locked=locked)
    if not cell.has_style:
        cell.alignment = _OWN_STYLE
