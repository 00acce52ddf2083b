"""The Log's Time column as a real date-time, and read back whatever an older Log holds.

Flows stamp a Log entry with ISO text carrying the Settings time zone's offset
(`2026-11-28 09:30:00+03:00`). The spreadsheet gets the wall-clock date-time in that zone as
a date-time cell (the workbook) or a serial number with a date-time format (Google), so the
column sorts and filters as time. Reading back, one Log may hold all three: old text Times
with their offset, date-time cells and serial numbers. A time without an offset is the
Settings zone's wall clock, as it was written. Pure: no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, tzinfo

from functions.model import Cell
from functions.text.parsing import text

# Day 0 of Google Sheets and of Excel's 1900 system after February 1900 (which sheetflow
# never writes): 1899-12-30.
SERIAL_EPOCH = datetime(1899, 12, 30)
_SECONDS_A_DAY = 86_400


def wall_clock(stamp: str) -> datetime | None:
    """The naive local date-time an ISO stamp with an offset names; None for other text."""
    try:
        when = datetime.fromisoformat(stamp.strip())
    except ValueError:
        return None
    if when.tzinfo is None:
        return None  # not one of ours: written as the text it is
    return when.replace(tzinfo=None, microsecond=0)


def to_serial(when: datetime) -> float:
    """A naive date-time as a Sheets serial number (days since 1899-12-30, whole seconds)."""
    seconds = round((when - SERIAL_EPOCH).total_seconds())
    return seconds / _SECONDS_A_DAY


def from_serial(serial: float) -> datetime:
    return SERIAL_EPOCH + timedelta(seconds=round(serial * _SECONDS_A_DAY))


def log_cell(stamp: str, *, serial: bool) -> Cell:
    """What the Time cell holds for an entry's stamp: a date-time (or serial), else the text."""
    when = wall_clock(stamp)
    if when is None:
        return stamp
    return to_serial(when) if serial else when


def same_time(cell: Cell, stamp: str) -> bool:
    """Whether a Time cell as read holds what `log_cell(stamp)` wrote (to the second)."""
    written = wall_clock(stamp)
    found = naive_time(cell)
    if written is None or found is None:
        return _text(cell) == stamp.strip()
    return found == written


def naive_time(cell: Cell) -> datetime | None:
    """A Time cell as a naive local date-time: a date-time cell, a serial number or text."""
    if isinstance(cell, bool) or cell is None:
        return None
    if isinstance(cell, datetime):
        return cell.replace(tzinfo=None, microsecond=0) if cell.tzinfo is None else None
    if isinstance(cell, date):
        return datetime(cell.year, cell.month, cell.day)
    if isinstance(cell, int | float):
        return from_serial(cell) if 0 < cell < 2_958_466 else None
    return None


def log_instant(cell: Cell, zone: tzinfo) -> datetime | None:
    """When a Log row happened (aware), from any Time a Log has held; None if unreadable."""
    if isinstance(cell, datetime) and cell.tzinfo is not None:
        return cell
    found = naive_time(cell)
    if found is not None:
        return found.replace(tzinfo=zone)
    raw = _text(cell)
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=zone)


def _text(cell: Cell) -> str:
    return cell.strip() if isinstance(cell, str) else ""


def same_log_row(got: Sequence[Cell], wanted: Sequence[str]) -> bool:
    """Whether a Log row as read is the entry `wanted` (its `as_row()`), Time to the second."""
    if len(got) != len(wanted) or not wanted:
        return False
    if not same_time(got[0], wanted[0]):
        return False
    return [text(v) for v in got[1:]] == [text(v) for v in wanted[1:]]
