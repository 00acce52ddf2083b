"""Building blocks of `spreadsheets.batchUpdate` requests shared by apply and init."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from functions.model import Stored
from functions.schema import Locale
from functions.text.log_times import log_cell

JSON = dict[str, Any]
MAX_TEXT = 50_000  # Google's limit for one cell
LOCK = "sheetflow lock: "  # description prefix of a lock protection: tab/record/column
TAB_LOCK = "sheetflow: only the automation edits these cells"
HEADER_LOCK = "sheetflow: the headers name the columns; only the automation edits them"
COLUMN_LOCK = "sheetflow: only the automation writes this column"


def cell(value: Stored) -> JSON:
    """CellData for a value; text is always a stringValue, so `=...` never becomes a formula."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, int | float):
        return {"userEnteredValue": {"numberValue": value}}
    return {"userEnteredValue": {"stringValue": str(value)[:MAX_TEXT]}}


# Column type → Sheets number format (type, pattern per locale), as workbook_style does.
# Lower case: in a Sheets pattern `mm` after `hh` is minutes, elsewhere the month.
NUMBER_FORMATS: dict[str, tuple[str, dict[str, str]]] = {
    "money": ("NUMBER", {"en": "#,##0.00", "ru": "#,##0.00"}),
    "date": ("DATE", {"en": "yyyy-mm-dd", "ru": "dd.mm.yyyy"}),
    "percent": ("PERCENT", {"en": "0.0%", "ru": "0.0%"}),
    "datetime": ("DATE_TIME", {"en": "yyyy-mm-dd hh:mm", "ru": "dd.mm.yyyy hh:mm"}),
}
NUMBER_FORMAT_FIELDS = "userEnteredValue,userEnteredFormat.numberFormat"


def number_format(column_type: str, locale: Locale) -> JSON | None:
    """The NumberFormat a column of this type shows its numbers with, in the book's locale."""
    if column_type not in NUMBER_FORMATS:
        return None
    kind, patterns = NUMBER_FORMATS[column_type]
    return {"type": kind, "pattern": patterns[locale]}


def typed_cell(value: Stored, column_type: str, locale: Locale) -> tuple[JSON, str]:
    """CellData and its fields mask for a write: a number in a money or date column carries
    the column's number format (an accepted amount, a date serial), so it shows as one even
    where a person pasted other formatting; anything else is `cell(value)` alone."""
    fmt = number_format(column_type, locale)
    if fmt is None or isinstance(value, bool) or not isinstance(value, int | float):
        return cell(value), "userEnteredValue"
    return {**cell(value), "userEnteredFormat": {"numberFormat": fmt}}, NUMBER_FORMAT_FIELDS


def log_time_cell(stamp: str, locale: Locale) -> JSON:
    """A Log Time: a serial number shown as a date-time (the Settings zone's wall clock)."""
    value = log_cell(stamp, serial=True)
    if not isinstance(value, float):
        return cell(stamp)
    fmt = number_format("datetime", locale)
    return {"userEnteredValue": {"numberValue": value}, "userEnteredFormat": {"numberFormat": fmt}}


HEADER_FIELDS = (
    "userEnteredValue,userEnteredFormat.textFormat.bold,userEnteredFormat.wrapStrategy,"
    "userEnteredFormat.verticalAlignment"
)


def header_cell(value: str) -> JSON:
    """A header: bold, wrapped inside its column (a long header takes two lines), centred."""
    fmt = {"textFormat": {"bold": True}, "wrapStrategy": "WRAP", "verticalAlignment": "MIDDLE"}
    return {**cell(value), "userEnteredFormat": fmt}


def status_rule(target: JSON, label: str, colour: str, index: int) -> JSON:
    """addConditionalFormatRule: cells whose text is `label` get the fill `colour` (RRGGBB)."""
    red, green, blue = (int(colour[i : i + 2], 16) / 255 for i in (0, 2, 4))
    return {
        "addConditionalFormatRule": {
            "rule": {
                "ranges": [target],
                "booleanRule": {
                    "condition": {"type": "TEXT_EQ", "values": [{"userEnteredValue": label}]},
                    "format": {
                        "backgroundColorStyle": {
                            "rgbColor": {"red": red, "green": green, "blue": blue}
                        }
                    },
                },
            },
            "index": index,
        }
    }


def rows(values: Iterable[Iterable[Stored]]) -> list[JSON]:
    return [{"values": [cell(v) for v in row]} for row in values]


def grid(sheet_id: int, row0: int, row1: int | None, col0: int, col1: int) -> JSON:
    """A GridRange (0-based, end exclusive); `row1=None` runs to the end of the tab."""
    out: JSON = {
        "sheetId": sheet_id,
        "startRowIndex": row0,
        "startColumnIndex": col0,
        "endColumnIndex": col1,
    }
    if row1 is not None:
        out["endRowIndex"] = row1
    return out


def protection(target: JSON, description: str, robot: str, *more: str) -> JSON:
    """addProtectedRange for the automation (and `more` editors); nobody else, domain included.

    `domainUsersCanEdit` is set explicitly: left out, a Workspace domain's default applies.
    The sheet's owner can always edit a protected range (Google's rule); sheetflow then
    restores the automation's value from its snapshot and logs the overwritten one.
    """
    return {
        "addProtectedRange": {
            "protectedRange": {
                "range": target,
                "description": description,
                "warningOnly": False,
                "editors": {"users": [robot, *more], "domainUsersCanEdit": False},
            }
        }
    }


def same_range(a: JSON, b: JSON) -> bool:
    keys = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    return a.get("sheetId", 0) == b.get("sheetId", 0) and all(a.get(k) == b.get(k) for k in keys)


_FOR = " for "  # then the people sheetflow let edit the cell (Google also lists the owner)


def lock_description(tab: str, record: str, column: str, editors: tuple[str, ...] = ()) -> str:
    people = f"{_FOR}{','.join(editors)}" if editors else ""
    return f"{LOCK}{tab}/{record}/{column}{people}"


def parse_lock(description: str) -> tuple[str, str, str] | None:
    """(tab, record, column) of one of our lock protections, else None."""
    if not description.startswith(LOCK):
        return None
    tab, _, rest = description[len(LOCK) :].partition("/")
    record, _, column = rest.partition(_FOR)[0].rpartition("/")
    return (tab, record, column) if tab and record and column else None


def lock_editors(description: str) -> tuple[str, ...]:
    """The people a lock protection was made for (its description says: Google adds others)."""
    people = description.partition(_FOR)[2]
    return tuple(p for p in people.split(",") if p)


def column_letter(index: int) -> str:
    letters, index = "", index + 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def free_sheet_id(taken: Iterable[int], start: int = 1_000_001) -> int:
    used = set(taken)
    while start in used:
        start += 1
    return start
