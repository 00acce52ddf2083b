"""A1 notation as the Sheets API reads and writes it: `'My tab'!A2:H`, `Sheet1`, `B:B`, `3:3`."""

from __future__ import annotations

import re
from dataclasses import dataclass

_CELL = re.compile(r"^\$?([A-Za-z]{0,3})\$?([0-9]*)$")
_PLAIN_TITLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_LOOKS_LIKE_CELL = re.compile(r"[A-Za-z]{1,3}[0-9]+|[Rr][0-9]*[Cc][0-9]*")


class RangeError(ValueError):
    """The text is not a range of an existing sheet."""


@dataclass(frozen=True)
class Bounds:
    """0-based half-open bounds; None means unbounded on that side."""

    row0: int | None
    row1: int | None
    col0: int | None
    col1: int | None


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def column_index(letters: str) -> int:
    value = 0
    for char in letters.upper():
        value = value * 26 + ord(char) - 64
    return value - 1


def quote_title(title: str) -> str:
    """A title as Google writes it in ranges: bare when plain, else single-quoted."""
    if _PLAIN_TITLE.fullmatch(title) and not _LOOKS_LIKE_CELL.fullmatch(title):
        return title
    return "'" + title.replace("'", "''") + "'"


def split(text: str, titles: list[str]) -> tuple[str | None, str]:
    """(sheet title or None, cell part) of a range; a bare sheet title has an empty cell part."""
    text = text.strip()
    if text.startswith("'"):
        end = 1
        while True:
            end = text.find("'", end)
            if end < 0:
                raise RangeError(text)
            if text[end + 1 : end + 2] == "'":
                end += 2
                continue
            break
        title = text[1:end].replace("''", "'")
        rest = text[end + 1 :]
        if rest and not rest.startswith("!"):
            raise RangeError(text)
        return title, rest[1:]
    if "!" in text:
        title, _, cells = text.rpartition("!")
        return title, cells
    if text in titles:
        return text, ""
    return None, text


def parse_cells(cells: str) -> Bounds:
    if cells == "":
        return Bounds(None, None, None, None)
    first, _, second = cells.partition(":")
    start = _CELL.match(first)
    if start is None or (not start.group(1) and not start.group(2)):
        raise RangeError(cells)
    if not second:
        if not start.group(1) or not start.group(2):
            raise RangeError(cells)
        row, col = int(start.group(2)) - 1, column_index(start.group(1))
        return Bounds(row, row + 1, col, col + 1)
    end = _CELL.match(second)
    if end is None or (not end.group(1) and not end.group(2)):
        raise RangeError(cells)
    col0 = column_index(start.group(1)) if start.group(1) else None
    row0 = int(start.group(2)) - 1 if start.group(2) else None
    col1 = column_index(end.group(1)) + 1 if end.group(1) else None
    row1 = int(end.group(2)) if end.group(2) else None
    if row0 is None and row1 is not None and not start.group(1):
        raise RangeError(cells)
    if (row0 is not None and row0 < 0) or (row1 is not None and row1 < 1):
        raise RangeError(cells)
    # `A1:B` and `B:B` run to the end; `1:2` spans every column; reversed corners are swapped.
    if row0 is not None and row1 is not None and row1 <= row0:
        row0, row1 = row1 - 1, row0 + 1
    if col0 is not None and col1 is not None and col1 <= col0:
        col0, col1 = col1 - 1, col0 + 1
    return Bounds(row0, row1, col0, col1)


def a1(title: str, row0: int, row1: int, col0: int, col1: int) -> str:
    """`Sheet1!A1:D4` (or `Sheet1!D4` for one cell), 0-based half-open input."""
    start = f"{column_letter(col0)}{row0 + 1}"
    end = f"{column_letter(col1 - 1)}{row1}"
    cells = start if start == end else f"{start}:{end}"
    return f"{quote_title(title)}!{cells}"
