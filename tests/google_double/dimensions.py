"""batchUpdate kinds people use to reorganise rows: sortRange, insertDimension, deleteDimension.

Sorting moves cell contents (values, formats, validation) between rows of the range;
protected ranges and filter views stay where they are. Inserting or deleting rows shifts
every cell below, and Google adjusts the row bounds of protected ranges and filter views.
A whole-tab protection (no bounds) blocks these operations for anyone not among its
editors; protections of column ranges do not (people may still sort, insert and delete rows
while the automation's columns stay theirs to type in only for the listed editors).
"""

from __future__ import annotations

from typing import Any

from .rules import check_grid_range
from .state import JSON, PROTECTED, ApiError, Book, Sheet, invalid

_BOUNDS = ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")


class RowOperations:
    """Mixed into `Batch`: works on `self.book` as `self.user`, naming `self.where`."""

    book: Book
    user: str
    where: str

    def sort_range(self, body: JSON) -> None:
        grid = body.get("range")
        check_grid_range(self.book, grid, self.where)
        assert grid is not None  # check_grid_range refuses a request without a range
        sheet = self.book.sheet_by_id(int(grid.get("sheetId", 0)))
        self._structural(sheet)
        row0, row1 = grid.get("startRowIndex", 0), grid.get("endRowIndex", sheet.rows)
        col0 = grid.get("startColumnIndex", 0)
        col1 = grid.get("endColumnIndex", sheet.columns)
        specs = body.get("sortSpecs") or []
        if not specs:
            raise invalid(f"Invalid {self.where}: sortSpecs must be set.")
        rows = [
            {c: sheet.cells[(r, c)] for c in range(col0, col1) if (r, c) in sheet.cells}
            for r in range(row0, row1)
        ]
        order = list(range(row1 - row0))
        for spec in reversed(specs):  # stable sorts, the last key first
            col = int(spec.get("dimensionIndex", 0))

            def rank(index: int, col: int = col) -> tuple[bool, Any]:
                value = self.book.value(sheet, row0 + index, col)
                return (isinstance(value, str), value)

            blank = [i for i in order if self.book.value(sheet, row0 + i, col) in (None, "")]
            filled = [i for i in order if i not in set(blank)]
            filled.sort(key=rank, reverse=spec.get("sortOrder") == "DESCENDING")
            order = filled + blank  # blank cells sort last either way, as in Sheets
        for r in range(row0, row1):
            for c in range(col0, col1):
                sheet.cells.pop((r, c), None)
        for target, source in enumerate(order):
            for c, cell in rows[source].items():
                sheet.cells[(row0 + target, c)] = cell

    def insert_dimension(self, body: JSON) -> None:
        sheet, start, end = self._rows(body.get("range") or {})
        count = end - start
        self._structural(sheet)
        if start > sheet.rows:
            raise invalid(f"Invalid {self.where}: range is outside the grid.")
        sheet.cells = {
            ((r + count if r >= start else r), c): cell for (r, c), cell in sheet.cells.items()
        }
        sheet.properties["gridProperties"]["rowCount"] = sheet.rows + count
        for grid in _row_ranges(sheet):
            if grid.get("startRowIndex", -1) >= start:
                grid["startRowIndex"] += count
            if grid.get("endRowIndex", -1) > start:
                grid["endRowIndex"] += count

    def append_dimension(self, body: JSON) -> None:
        """AppendDimensionRequest: rows or columns added at the end of a tab; nothing moves."""
        sheet = self.book.sheet_by_id(int(body.get("sheetId", 0)))
        count = {"ROWS": "rowCount", "COLUMNS": "columnCount"}.get(str(body.get("dimension")))
        if count is None:
            raise invalid(f"Invalid {self.where}: dimension must be ROWS or COLUMNS.")
        length = int(body.get("length", 0))
        if length <= 0:
            raise invalid(f"Invalid {self.where}: length must be greater than 0.")
        sheet.properties["gridProperties"][count] += length

    def delete_dimension(self, body: JSON) -> None:
        sheet, start, end = self._rows(body.get("range") or {})
        count = end - start
        self._structural(sheet)
        if end > sheet.rows:
            raise invalid(f"Invalid {self.where}: range is outside the grid.")
        if count >= sheet.rows - sheet.frozen_rows:
            raise invalid(f"Invalid {self.where}: You can't delete all the rows on the sheet.")
        kept: dict[tuple[int, int], Any] = {}
        for (r, c), cell in sheet.cells.items():
            if r < start:
                kept[(r, c)] = cell
            elif r >= end:
                kept[(r - count, c)] = cell
        sheet.cells = kept
        sheet.properties["gridProperties"]["rowCount"] = sheet.rows - count
        for grid in _row_ranges(sheet):
            for side in ("startRowIndex", "endRowIndex"):
                if side in grid:
                    value = grid[side]
                    grid[side] = value if value <= start else max(start, value - count)

    def _rows(self, dims: JSON) -> tuple[Sheet, int, int]:
        if dims.get("dimension") != "ROWS":
            raise invalid(
                f"Invalid {self.where}: columns are not implemented by the Sheets test double."
            )
        sheet = self.book.sheet_by_id(int(dims.get("sheetId", 0)))
        start, end = int(dims.get("startIndex", 0)), int(dims.get("endIndex", 0))
        if not 0 <= start < end:
            raise invalid(f"Invalid {self.where}: startIndex must be less than endIndex.")
        return sheet, start, end

    def _structural(self, sheet: Sheet) -> None:
        """A whole-tab protection stops anyone but its editors from moving rows."""
        if self.user == self.book.owner:
            return
        for protection in sheet.protected_ranges:
            grid = protection.get("range", {})
            whole = not any(k in grid for k in _BOUNDS)
            if (
                whole
                and not protection.get("warningOnly")
                and not self.book.is_editor(self.user, protection)
            ):
                raise ApiError(403, "PERMISSION_DENIED", PROTECTED)


def _row_ranges(sheet: Sheet) -> list[JSON]:
    grids = [p.get("range", {}) for p in sheet.protected_ranges]
    grids += [h for p in sheet.protected_ranges for h in p.get("unprotectedRanges", [])]
    grids += [v.get("range", {}) for v in sheet.filter_views]
    if sheet.basic_filter:
        grids.append(sheet.basic_filter.get("range", {}))
    grids += [g for rule in sheet.conditional_formats for g in rule["ranges"]]
    return grids
