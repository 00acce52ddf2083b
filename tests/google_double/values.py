"""`spreadsheets.values.*`: get, batchGet, update, batchUpdate, append, clear."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

from .a1 import Bounds, a1, column_index, column_letter, quote_title
from .cells import Cell, ErrorValue, entered_value, general, json_number
from .state import JSON, Book, Sheet, invalid

RENDERS = ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA")
INPUTS = ("RAW", "USER_ENTERED")
_CORNER = re.compile(r"([A-Z]+)([0-9]+)")


def render(book: Book, sheet: Sheet, row: int, col: int, how: str, dates: str) -> Any:
    """One cell as the values API returns it ('' for an empty cell)."""
    cell = sheet.cell(row, col)
    if cell.entered is None:
        return ""
    if how == "FORMULA" and "formulaValue" in cell.entered:
        return cell.entered["formulaValue"]
    value = book.value(sheet, row, col)
    formula = "formulaValue" in cell.entered
    if value is None:
        return ""
    if isinstance(value, ErrorValue):
        return value.text
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE") if how == "FORMATTED_VALUE" else value
    if isinstance(value, float):
        if how == "FORMATTED_VALUE":
            return cell.shown if cell.shown is not None and not formula else general(value)
        if cell.is_date and dates == "FORMATTED_STRING" and cell.shown is not None:
            return cell.shown
        return json_number(value)
    return value


def clamp(sheet: Sheet, bounds: Bounds, text: str) -> tuple[int, int, int, int]:
    row0, col0 = bounds.row0 or 0, bounds.col0 or 0
    if row0 >= sheet.rows or col0 >= sheet.columns:
        raise invalid(
            f"Range ({text}) exceeds grid limits. Max rows: {sheet.rows},"
            f" max columns: {sheet.columns}"
        )
    row1 = min(bounds.row1 if bounds.row1 is not None else sheet.rows, sheet.rows)
    col1 = min(bounds.col1 if bounds.col1 is not None else sheet.columns, sheet.columns)
    return row0, row1, col0, col1


def read(book: Book, text: str, how: str, dates: str, major: str) -> JSON:
    sheet, bounds = book.resolve(text)
    row0, row1, col0, col1 = clamp(sheet, bounds, text)
    grid = [
        [render(book, sheet, r, c, how, dates) for c in range(col0, col1)]
        for r in range(row0, min(row1, sheet.last_row()))
    ]
    if major == "COLUMNS":
        grid = [list(column) for column in zip(*grid, strict=False)] if grid else []
    rows = [_trim(row) for row in grid]
    while rows and not rows[-1]:
        rows.pop()
    out: JSON = {"range": a1(sheet.title, row0, row1, col0, col1), "majorDimension": major}
    if rows:
        out["values"] = rows
    return out


def _trim(row: list[Any]) -> list[Any]:
    while row and row[-1] == "":
        row.pop()
    return row


def write(
    book: Book,
    user: str,
    sheet: Sheet,
    start: tuple[int, int],
    values: list[list[Any]],
    option: str,
) -> JSON:
    """Write a block of input values at `start` (null skips a cell, '' clears it)."""
    row0, col0 = start
    height = len(values)
    width = max((len(row) for row in values), default=0)
    if row0 + height > sheet.rows or col0 + width > sheet.columns:
        last = f"{quote_title(sheet.title)}!{column_letter(col0 + width - 1)}{row0 + height}"
        raise invalid(
            f"Range ({last}) exceeds grid limits. Max rows: {sheet.rows},"
            f" max columns: {sheet.columns}"
        )
    targets = [
        (row0 + i, col0 + j)
        for i, row in enumerate(values)
        for j, raw in enumerate(row)
        if raw is not None
    ]
    book.check_edit(user, sheet, targets)
    for i, row in enumerate(values):
        for j, raw in enumerate(row):
            if raw is None:
                continue
            if isinstance(raw, list | dict):
                raise invalid(f"Invalid values[{i}][{j}]: {raw!r}")
            entered, shown, is_date = entered_value(raw, option)
            put(sheet, row0 + i, col0 + j, entered, shown, is_date)
    return {
        "spreadsheetId": book.id,
        "updatedRange": a1(sheet.title, row0, row0 + max(height, 1), col0, col0 + max(width, 1)),
        "updatedRows": len({r for r, _c in targets}),
        "updatedColumns": len({c for _r, c in targets}),
        "updatedCells": len(targets),
    }


def put(
    sheet: Sheet,
    row: int,
    col: int,
    entered: dict[str, Any] | None,
    shown: str | None = None,
    is_date: bool = False,
) -> None:
    cell = replace(sheet.cell(row, col), entered=entered, shown=shown, is_date=is_date)
    if cell == Cell():
        sheet.cells.pop((row, col), None)
    else:
        sheet.cells[(row, col)] = cell


def input_option(value: str | None) -> str:
    if value not in INPUTS:
        raise invalid(f"Invalid valueInputOption: {value or 'INPUT_VALUE_OPTION_UNSPECIFIED'}")
    return value


def _oriented(body: JSON) -> list[list[Any]]:
    values: list[list[Any]] = body.get("values") or []
    if body.get("majorDimension") == "COLUMNS":
        width = max((len(column) for column in values), default=0)
        return [[column[i] if i < len(column) else None for column in values] for i in range(width)]
    return values


def update(book: Book, user: str, text: str, option: str, body: JSON) -> JSON:
    """values.update: a one-cell range is an anchor; a larger range must hold the data."""
    if body.get("range") not in (None, text):
        raise invalid(
            f"Requested writing within range [{text}], but tried writing to row [{body['range']}]"
        )
    sheet, bounds = book.resolve(text)
    row0, row1, col0, col1 = clamp(sheet, bounds, text)
    values = _oriented(body)
    single = bounds.row1 == (bounds.row0 or 0) + 1 and bounds.col1 == (bounds.col0 or 0) + 1
    if not single:
        if len(values) > row1 - row0:
            raise invalid(
                f"Requested writing within range [{text}], but tried writing to row"
                f" [{row0 + len(values)}]"
            )
        width = max((len(row) for row in values), default=0)
        if width > col1 - col0:
            raise invalid(
                f"Requested writing within range [{text}], but tried writing to column"
                f" [{column_letter(col0 + width - 1)}]"
            )
    return write(book, user, sheet, (row0, col0), values, option)


def append(book: Book, user: str, text: str, option: str, insert: str, body: JSON) -> JSON:
    """values.append: find the table the range starts in and write below its last row."""
    sheet, bounds = book.resolve(text)
    row0, row1, col0, col1 = clamp(sheet, bounds, text)
    table = _table(sheet, row0, row1, col0, col1)
    values = _oriented(body)
    width = max((len(row) for row in values), default=0)
    if table is None:
        start = (row0, col0)
    else:
        start = (table[1], table[2])
    if insert == "INSERT_ROWS":
        _insert_rows(sheet, start[0], len(values))
    sheet.grow(start[0] + len(values), start[1] + width)
    out: JSON = {"spreadsheetId": book.id}
    if table is not None:
        out["tableRange"] = a1(sheet.title, *table)
    out["updates"] = write(book, user, sheet, start, values, option)
    return out


def _table(sheet: Sheet, row0: int, row1: int, col0: int, col1: int) -> tuple[int, ...] | None:
    """Bounds of the block of filled cells Google appends below.

    From a one-cell range, the block touching that cell; from a larger range, the block
    holding its last filled cell (Google picks `C1`, not `A1`, when B1 is empty).
    """
    filled = {
        key
        for key, cell in sheet.cells.items()
        if cell.has_value and row0 <= key[0] < row1 and col0 <= key[1] < col1
    }
    if not filled:
        return None
    single = row1 - row0 == 1 and col1 - col0 == 1
    seed = min(filled) if single else max(filled)
    seen, todo = {seed}, [seed]
    while todo:
        r, c = todo.pop()
        for key in ((r + 1, c), (r - 1, c), (r, c + 1), (r, c - 1)):
            if key in filled and key not in seen:
                seen.add(key)
                todo.append(key)
    rows = [r for r, _c in seen]
    cols = [c for _r, c in seen]
    return min(rows), max(rows) + 1, min(cols), max(cols) + 1


def _insert_rows(sheet: Sheet, at: int, count: int) -> None:
    moved = {((r + count) if r >= at else r, c): cell for (r, c), cell in sheet.cells.items()}
    sheet.cells = moved
    sheet.grow(sheet.rows + count, sheet.columns)


def clear(book: Book, user: str, text: str) -> JSON:
    sheet, bounds = book.resolve(text)
    row0, row1, col0, col1 = clamp(sheet, bounds, text)
    targets = [
        key
        for key, cell in sheet.cells.items()
        if cell.has_value and row0 <= key[0] < row1 and col0 <= key[1] < col1
    ]
    book.check_edit(user, sheet, targets)
    for row, col in targets:
        put(sheet, row, col, None)
    return {"spreadsheetId": book.id, "clearedRange": a1(sheet.title, row0, row1, col0, col1)}


def batch_update(book: Book, user: str, body: JSON) -> JSON:
    option = input_option(body.get("valueInputOption"))
    responses = [
        update(book, user, str(item.get("range", "")), option, item)
        for item in body.get("data") or []
    ]
    written = [_extent(r) for r in responses if r["updatedCells"]]
    return {
        "spreadsheetId": book.id,
        "totalUpdatedRows": len({(t, r) for t, rows, _cols in written for r in rows}),
        "totalUpdatedColumns": len({(t, c) for t, _rows, cols in written for c in cols}),
        "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
        "totalUpdatedSheets": len({t for t, _rows, _cols in written}),
        "responses": responses,
    }


def _extent(response: JSON) -> tuple[str, range, range]:
    """(tab, rows, columns) of an `updatedRange` such as `Sheet1!A1:D4`."""
    title, _, cells = str(response["updatedRange"]).rpartition("!")
    corners = [m.groups() for part in cells.split(":") if (m := _CORNER.fullmatch(part))]
    (c0, r0), (c1, r1) = corners[0], corners[-1]
    return (
        title,
        range(int(r0), int(r1) + 1),
        range(column_index(c0), column_index(c1) + 1),
    )
