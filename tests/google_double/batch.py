"""`spreadsheets.batchUpdate`: the request kinds sheetflow (and the recordings) use.

Every sub-request runs against a copy of the spreadsheet; the copy replaces the original only
when all of them succeeded, so a batch is atomic like Google's. A kind the double does not
implement is rejected, never ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from .cells import Cell
from .charts import add_chart
from .dimensions import RowOperations
from .discovery import Validator
from .fields import check_mask
from .protection import ProtectionsAndFilters, mask
from .rules import check_condition, check_conditional_rule, check_grid_range
from .state import JSON, Book, Sheet, invalid

Handler = Callable[["Batch", JSON], JSON | None]
_DEFAULT_GRID = {"rowCount": 1000, "columnCount": 26}
_SHEET_FIELDS = {
    "title",
    "index",
    "hidden",
    "tabColor",
    "tabColorStyle",
    "rightToLeft",
    "gridProperties",
    "gridProperties.rowCount",
    "gridProperties.columnCount",
    "gridProperties.frozenRowCount",
    "gridProperties.frozenColumnCount",
    "gridProperties.hideGridlines",
}
_CELL_FIELDS = ("userEnteredValue", "note", "dataValidation", "userEnteredFormat")
_SCHEMA = Validator("sheets.v4")


class Batch(ProtectionsAndFilters, RowOperations):
    """One batchUpdate call by one user."""

    def __init__(self, book: Book, user: str) -> None:
        self.book, self.user, self.where = book, user, ""

    def run(self, requests: list[JSON]) -> list[JSON]:
        replies = []
        for index, request in enumerate(requests):
            kinds = [k for k, v in request.items() if v is not None]
            if len(kinds) != 1:
                raise invalid(f"Invalid requests[{index}]: exactly one request kind must be set.")
            kind = kinds[0]
            self.where = f"requests[{index}].{kind}"
            handler = HANDLERS.get(kind)
            if handler is None:
                raise invalid(f"Invalid {self.where}: not implemented by the Sheets test double.")
            replies.append(handler(self, request[kind]) or {})
        return replies

    def editable(self, sheet: Sheet, cells: list[tuple[int, int]]) -> None:
        self.book.check_edit(self.user, sheet, cells)

    # -- tabs --------------------------------------------------------------------------------
    def add_sheet(self, body: JSON) -> JSON:
        props = copy.deepcopy(body.get("properties") or {})
        taken = self.book.all_ids("sheet")
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = self.book.new_id(taken)
        elif sheet_id in taken:
            raise invalid(f"Invalid {self.where}: A sheet with id {sheet_id} already exists.")
        titles = {s.title.casefold() for s in self.book.sheets}
        title = props.get("title") or _free_title(titles)
        if title.casefold() in titles:
            raise invalid(
                f'Invalid {self.where}: A sheet with the name "{title}" already exists.'
                " Please enter another name."
            )
        grid = {**_DEFAULT_GRID, **(props.get("gridProperties") or {})}
        _check_frozen(grid, self.where)
        index = min(int(props.get("index", len(self.book.sheets))), len(self.book.sheets))
        for sheet in self.book.sheets:
            if sheet.properties["index"] >= index:
                sheet.properties["index"] += 1
        properties: JSON = {
            "sheetId": sheet_id,
            "title": title,
            "index": index,
            "sheetType": props.get("sheetType", "GRID"),
            "gridProperties": {k: v for k, v in grid.items() if v},
        }
        for key in ("hidden", "tabColorStyle", "rightToLeft"):
            if props.get(key):
                properties[key] = props[key]
        self.book.sheets.append(Sheet(properties))
        return {"addSheet": {"properties": copy.deepcopy(properties)}}

    def delete_sheet(self, body: JSON) -> None:
        sheet = self.book.sheet_by_id(int(body.get("sheetId", 0)))
        if len(self.book.sheets) == 1:
            raise invalid(f"Invalid {self.where}: You can't remove all the sheets in a document.")
        if any(_whole(p.get("range", {})) for p in sheet.protected_ranges):
            self._editor_of_all(sheet.protected_ranges)
        self.book.sheets.remove(sheet)
        self.book.reindex()

    def update_sheet_properties(self, body: JSON) -> None:
        given = body.get("properties") or {}
        sheet = self.book.sheet_by_id(int(given.get("sheetId", 0)))
        paths = mask(body.get("fields"), self.where)
        check_mask(paths, _SCHEMA, "SheetProperties", self.where)
        if paths == ["*"]:
            paths = [k for k in given if k != "sheetId"]
        for path in paths:
            if path not in _SHEET_FIELDS:
                raise invalid(f"Invalid {self.where}: field '{path}' is not implemented.")
            self._set_path(sheet, path, given)
        _check_frozen(sheet.properties["gridProperties"], self.where)
        if all(s.hidden for s in self.book.sheets):
            raise invalid(f"Invalid {self.where}: You can't hide all the sheets in a document.")

    def _set_path(self, sheet: Sheet, path: str, given: JSON) -> None:
        head, _, tail = path.partition(".")
        if head == "title":
            title = given.get("title") or ""
            clash = any(
                s.title.casefold() == title.casefold() and s is not sheet for s in self.book.sheets
            )
            if not title or clash:
                raise invalid(
                    f'Invalid {self.where}: A sheet with the name "{title}" already exists.'
                    " Please enter another name."
                )
            sheet.properties["title"] = title
        elif head == "index":
            others = [s for s in self.book.ordered() if s is not sheet]
            others.insert(min(int(given.get("index", 0)), len(others)), sheet)
            for index, item in enumerate(others):
                item.properties["index"] = index
        elif head == "gridProperties":
            grid = sheet.properties["gridProperties"]
            new = given.get("gridProperties") or {}
            for key in [tail] if tail else list(_DEFAULT_GRID) + ["frozenRowCount"]:
                value = new.get(key)
                if value:
                    grid[key] = value
                else:
                    grid.pop(key, None)
            if "rowCount" not in grid or "columnCount" not in grid:
                raise invalid(f"Invalid {self.where}: a sheet must keep at least one row/column.")
            sheet.cells = {
                k: v for k, v in sheet.cells.items() if k[0] < sheet.rows and k[1] < sheet.columns
            }
        elif _pruned_zeros(given.get(head)) in (None, False, {}):
            sheet.properties.pop(head, None)
        else:
            sheet.properties[head] = _pruned_zeros(given[head])

    def update_dimension_properties(self, body: JSON) -> None:
        """Column widths: the range needs a dimension and must lie inside the grid."""
        paths = mask(body.get("fields"), self.where)
        check_mask(paths, _SCHEMA, "DimensionProperties", self.where)
        if body.get("dataSourceSheetRange") is not None or body.get("range") is None:
            raise invalid(f"Invalid {self.where}: range is required.")
        dims = body["range"]
        sheet = self.book.sheet_by_id(int(dims.get("sheetId", 0)))
        dimension = dims.get("dimension", "DIMENSION_UNSPECIFIED")
        if dimension == "DIMENSION_UNSPECIFIED":
            raise invalid(f"Invalid {self.where}: range.dimension must be specified.")
        size = sheet.columns if dimension == "COLUMNS" else sheet.rows
        start, end = int(dims.get("startIndex", 0)), int(dims.get("endIndex", size))
        if start < 0 or end < start:
            raise invalid(f"Invalid {self.where}: range indexes must satisfy 0 <= start <= end.")
        if end > size:
            raise invalid(
                f"Invalid {self.where}: Range ({sheet.title}) exceeds grid limits."
                f" Max rows: {sheet.rows}, max columns: {sheet.columns}"
            )
        if dimension != "COLUMNS" or paths != ["pixelSize"]:
            raise invalid(
                f"Invalid {self.where}: anything but column widths (pixelSize) is not implemented"
                " by the test double."
            )
        size_px = (body.get("properties") or {}).get("pixelSize")
        for col in range(start, end):
            if size_px is None:
                sheet.column_sizes.pop(col, None)
            else:
                sheet.column_sizes[col] = int(size_px)

    def add_chart(self, body: JSON) -> JSON:
        return add_chart(self, body)

    def add_conditional_format_rule(self, body: JSON) -> None:
        """Ranges on one tab inside its grid, a boolean rule Google supports, an index in range."""
        rule = copy.deepcopy(body.get("rule"))
        if not rule:
            raise invalid(f"Invalid {self.where}: rule is required.")
        ranges = rule.get("ranges") or []
        if not ranges:
            raise invalid(f"Invalid {self.where}: at least one range is required.")
        for grid in ranges:
            check_grid_range(self.book, grid, self.where)
        sheet_ids = {int(g.get("sheetId", 0)) for g in ranges}
        if len(sheet_ids) != 1:
            raise invalid(f"Invalid {self.where}: All the ranges must be on the same grid.")
        check_conditional_rule(self.book, rule, self.where)
        sheet = self.book.sheet_by_id(sheet_ids.pop())
        index = int(body.get("index", 0))
        if not 0 <= index <= len(sheet.conditional_formats):
            raise invalid(
                f"Invalid {self.where}: index {index} is outside the sheet's"
                f" {len(sheet.conditional_formats)} conditional format rules."
            )
        rule["booleanRule"] = _pruned_zeros(rule["booleanRule"])  # as Google answers it
        sheet.conditional_formats.insert(index, rule)

    # -- cells -------------------------------------------------------------------------------
    def update_cells(self, body: JSON) -> None:
        paths = _cell_paths(body.get("fields"), self.where)
        rows = body.get("rows") or []
        if (body.get("start") is None) == (body.get("range") is None):
            raise invalid(f"Invalid {self.where}: exactly one of start or range must be set.")
        if body.get("range") is not None:
            grid = body["range"]
            check_grid_range(self.book, grid, self.where)
            sheet = self.book.sheet_by_id(int(grid.get("sheetId", 0)))
            row0, col0 = grid.get("startRowIndex", 0), grid.get("startColumnIndex", 0)
            row1 = grid.get("endRowIndex", sheet.rows)
            col1 = grid.get("endColumnIndex", sheet.columns)
            area = [(r, c) for r in range(row0, row1) for c in range(col0, col1)]
        else:
            start = body["start"]
            sheet = self.book.sheet_by_id(int(start.get("sheetId", 0)))
            row0, col0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
            area = [
                (row0 + i, col0 + j)
                for i, row in enumerate(rows)
                for j, _ in enumerate(row.get("values") or [])
            ]
            if any(r >= sheet.rows or c >= sheet.columns for r, c in area):
                raise invalid(
                    f"Invalid {self.where}: Range exceeds grid limits. Max rows: {sheet.rows},"
                    f" max columns: {sheet.columns}"
                )
        self.editable(sheet, area)
        given = {
            (row0 + i, col0 + j): data
            for i, row in enumerate(rows)
            for j, data in enumerate(row.get("values") or [])
        }
        for key in area:
            _apply_cell(sheet, key, given.get(key) or {}, paths)

    def append_cells(self, body: JSON) -> None:
        sheet = self.book.sheet_by_id(int(body.get("sheetId", 0)))
        paths = _cell_paths(body.get("fields"), self.where)
        rows = body.get("rows") or []
        start = sheet.last_row()
        width = max((len(r.get("values") or []) for r in rows), default=0)
        sheet.grow(start + len(rows), width)
        area = {
            (start + i, j): data
            for i, row in enumerate(rows)
            for j, data in enumerate(row.get("values") or [])
        }
        self.editable(sheet, list(area))
        for key, data in area.items():
            _apply_cell(sheet, key, data, paths)

    def set_data_validation(self, body: JSON) -> None:
        check_grid_range(self.book, body.get("range"), self.where)
        grid: JSON = body["range"]
        sheet = self.book.sheet_by_id(int(grid.get("sheetId", 0)))
        rule = body.get("rule")
        if rule is not None:
            check_condition(self.book, rule.get("condition"), "data validation", self.where)
        row1 = grid.get("endRowIndex", sheet.rows)
        col1 = grid.get("endColumnIndex", sheet.columns)
        for r in range(grid.get("startRowIndex", 0), row1):
            for c in range(grid.get("startColumnIndex", 0), col1):
                _store(sheet, (r, c), replace(sheet.cell(r, c), validation=copy.deepcopy(rule)))


HANDLERS: dict[str, Handler] = {
    "addSheet": Batch.add_sheet,
    "deleteSheet": Batch.delete_sheet,
    "updateSheetProperties": Batch.update_sheet_properties,
    "updateDimensionProperties": Batch.update_dimension_properties,
    "updateCells": Batch.update_cells,
    "appendCells": Batch.append_cells,
    "setDataValidation": Batch.set_data_validation,
    "addProtectedRange": Batch.add_protected_range,
    "updateProtectedRange": Batch.update_protected_range,
    "deleteProtectedRange": Batch.delete_protected_range,
    "addFilterView": Batch.add_filter_view,
    "updateFilterView": Batch.update_filter_view,
    "deleteFilterView": Batch.delete_filter_view,
    "setBasicFilter": Batch.set_basic_filter,
    "clearBasicFilter": Batch.clear_basic_filter,
    "addChart": Batch.add_chart,
    "addConditionalFormatRule": Batch.add_conditional_format_rule,
    "sortRange": Batch.sort_range,  # people's row operations (issue 12: writes on moved rows)
    "insertDimension": Batch.insert_dimension,
    "deleteDimension": Batch.delete_dimension,
    "appendDimension": Batch.append_dimension,  # a Settings Note column added to an old sheet
}


def _free_title(taken: set[str]) -> str:
    number = 1
    while f"sheet{number}" in taken:
        number += 1
    return f"Sheet{number}"


def _check_frozen(grid: JSON, where: str) -> None:
    """Google keeps at least one row and one column unfrozen."""
    if grid.get("frozenRowCount", 0) >= grid["rowCount"]:
        raise invalid(f"Invalid {where}: You can't freeze all visible rows on the sheet.")
    if grid.get("frozenColumnCount", 0) >= grid["columnCount"]:
        raise invalid(f"Invalid {where}: You can't freeze all visible columns on the sheet.")


def _whole(grid: JSON) -> bool:
    return set(grid) <= {"sheetId"}


def _cell_paths(fields: str | None, where: str) -> list[str]:
    paths = mask(fields, where)
    check_mask(paths, _SCHEMA, "CellData", where)
    if paths == ["*"]:
        return list(_CELL_FIELDS)
    for path in paths:
        if path.split(".")[0] not in _CELL_FIELDS:
            raise invalid(f"Invalid {where}: field '{path}' is not implemented by the double.")
    return paths


def _apply_cell(sheet: Sheet, key: tuple[int, int], data: JSON, paths: list[str]) -> None:
    cell = sheet.cell(*key)
    for path in paths:
        head = path.split(".")[0]
        if head == "userEnteredValue":
            entered = data.get("userEnteredValue") or None
            cell = replace(cell, entered=entered, shown=None, is_date=False)
        elif head == "note":
            cell = replace(cell, note=data.get("note") or None)
        elif head == "dataValidation":
            cell = replace(cell, validation=data.get("dataValidation"))
        else:
            cell = replace(cell, fmt=_merge(cell.fmt, data.get("userEnteredFormat"), path))
    _store(sheet, key, cell)


def _merge(old: JSON | None, new: JSON | None, path: str) -> JSON | None:
    """Set `path` (e.g. userEnteredFormat.textFormat.bold) of a format from `new`."""
    parts = path.split(".")[1:]
    if not parts:
        return copy.deepcopy(new) if new else None
    out = copy.deepcopy(old) or {}
    source: Any = new or {}
    target = out
    for part in parts[:-1]:
        source = source.get(part, {}) if isinstance(source, dict) else {}
        target = target.setdefault(part, {})
    if isinstance(source, dict) and parts[-1] in source:
        target[parts[-1]] = copy.deepcopy(source[parts[-1]])
    else:
        target.pop(parts[-1], None)
    return out or None


def _store(sheet: Sheet, key: tuple[int, int], cell: Cell) -> None:
    if cell == Cell():
        sheet.cells.pop(key, None)
    else:
        sheet.cells[key] = cell


def _pruned_zeros(value: Any) -> Any:
    """Proto3 JSON leaves out unset and zero scalars (a colour's `green: 0`)."""
    if isinstance(value, dict):
        kept = {k: _pruned_zeros(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, 0, {}) or v is False}
    return value
