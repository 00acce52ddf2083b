"""What the double keeps of each spreadsheet: tabs, cells, protections, filter views, charts.

Everything a request may change lives in `Book.sheets` (plus the id counters), so an atomic
`batchUpdate` works on `Book.clone()` and swaps it in only when every sub-request succeeded.
"""

from __future__ import annotations

import copy
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .a1 import Bounds, RangeError, parse_cells, split
from .cells import Cell, ErrorValue, Value, evaluate

JSON = dict[str, Any]
PROTECTED = (
    "You are trying to edit a protected cell or object. Please contact the spreadsheet owner"
    " to remove protection if you need to edit."
)


class ApiError(Exception):
    """An error the double answers with, shaped like Google's `{"error": {...}}` body."""

    def __init__(
        self,
        code: int,
        status: str,
        message: str,
        details: list[JSON] | None = None,
        *,
        errors: list[JSON] | None = None,
    ) -> None:
        super().__init__(message)
        self.code, self.status, self.message = code, status, message
        self.details, self.errors = details, errors

    def body(self) -> JSON:
        """Sheets: code, message, status (+ details); Drive v3: errors, code, message."""
        if self.errors is not None:
            return {"error": {"errors": self.errors, "code": self.code, "message": self.message}}
        error: JSON = {"code": self.code, "message": self.message, "status": self.status}
        if self.details:
            error["details"] = self.details
        return {"error": error}


def invalid(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


@dataclass
class Sheet:
    properties: JSON
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    protected_ranges: list[JSON] = field(default_factory=list)
    filter_views: list[JSON] = field(default_factory=list)
    basic_filter: JSON | None = None
    column_sizes: dict[int, int] = field(default_factory=dict)
    charts: list[JSON] = field(default_factory=list)  # EmbeddedChart, as Google answers it
    conditional_formats: list[JSON] = field(default_factory=list)  # ConditionalFormatRule, in order

    @property
    def id(self) -> int:
        return int(self.properties["sheetId"])

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @property
    def rows(self) -> int:
        return int(self.properties["gridProperties"]["rowCount"])

    @property
    def columns(self) -> int:
        return int(self.properties["gridProperties"]["columnCount"])

    @property
    def hidden(self) -> bool:
        return bool(self.properties.get("hidden"))

    @property
    def frozen_rows(self) -> int:
        return int(self.properties["gridProperties"].get("frozenRowCount", 0))

    def clone(self) -> Sheet:
        return Sheet(
            copy.deepcopy(self.properties),
            dict(self.cells),  # cells are immutable: sharing them is safe
            copy.deepcopy(self.protected_ranges),
            copy.deepcopy(self.filter_views),
            copy.deepcopy(self.basic_filter),
            dict(self.column_sizes),
            copy.deepcopy(self.charts),
            copy.deepcopy(self.conditional_formats),
        )

    def cell(self, row: int, col: int) -> Cell:
        return self.cells.get((row, col), _EMPTY)

    def last_row(self) -> int:
        """Number of rows up to the last one holding a value (0 when empty)."""
        return max((r + 1 for (r, _c), cell in self.cells.items() if cell.has_value), default=0)

    def last_column(self) -> int:
        return max((c + 1 for (_r, c), cell in self.cells.items() if cell.has_value), default=0)

    def grow(self, rows: int, columns: int) -> None:
        grid = self.properties["gridProperties"]
        grid["rowCount"] = max(self.rows, rows)
        grid["columnCount"] = max(self.columns, columns)


_EMPTY = Cell()


@dataclass
class Book:
    """One spreadsheet file."""

    id: str
    title: str
    owner: str
    writers: set[str]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    sheets: list[Sheet] = field(default_factory=list)
    version: int = 1
    created: datetime = field(default_factory=lambda: datetime.now(UTC))
    modified: datetime = field(default_factory=lambda: datetime.now(UTC))
    ids: random.Random = field(default_factory=lambda: random.Random(7))
    planned_ids: list[int] = field(default_factory=list)  # tests may fix the next new ids

    def clone(self) -> Book:
        twin = copy.copy(self)
        twin.sheets = [sheet.clone() for sheet in self.sheets]
        twin.ids = random.Random()
        twin.ids.setstate(self.ids.getstate())
        twin.planned_ids = list(self.planned_ids)
        return twin

    def touch(self) -> None:
        """Every change bumps the Drive version and modification time."""
        self.version += 1
        self.modified = datetime.now(UTC)

    def new_id(self, taken: set[int]) -> int:
        while self.planned_ids:
            planned = self.planned_ids.pop(0)
            if planned not in taken:
                return planned
        while True:
            candidate = self.ids.randrange(1, 2**31 - 1)
            if candidate not in taken:
                return candidate

    # -- finding tabs ----------------------------------------------------------------------
    def sheet_by_id(self, sheet_id: int) -> Sheet:
        for sheet in self.sheets:
            if sheet.id == sheet_id:
                return sheet
        raise invalid(f"No grid with id: {sheet_id}")

    def sheet_by_title(self, title: str) -> Sheet:
        for sheet in self.sheets:
            if sheet.title == title:
                return sheet
        raise KeyError(title)

    def ordered(self) -> list[Sheet]:
        return sorted(self.sheets, key=lambda s: int(s.properties["index"]))

    def reindex(self) -> None:
        for index, sheet in enumerate(self.ordered()):
            sheet.properties["index"] = index

    def resolve(self, text: str) -> tuple[Sheet, Bounds]:
        """A1 text → (tab, bounds); a range naming no tab means the first one."""
        try:
            title, cells = split(text, [s.title for s in self.sheets])
            if title is None:
                sheet = self.ordered()[0]
            else:
                sheet = self.sheet_by_title(title)
            return sheet, parse_cells(cells)
        except (RangeError, KeyError):
            raise invalid(f"Unable to parse range: {text}") from None

    def all_ids(self, kind: str) -> set[int]:
        if kind == "sheet":
            return {s.id for s in self.sheets}
        if kind == "chart":
            return {int(c["chartId"]) for s in self.sheets for c in s.charts}
        key = "protectedRangeId" if kind == "protection" else "filterViewId"
        items = (
            (p for s in self.sheets for p in s.protected_ranges)
            if kind == "protection"
            else (v for s in self.sheets for v in s.filter_views)
        )
        return {int(item[key]) for item in items}

    # -- effective values --------------------------------------------------------------------
    def value(self, sheet: Sheet, row: int, col: int, depth: int = 0) -> Value | ErrorValue:
        cell = sheet.cell(row, col)
        entered = cell.entered
        if entered is None:
            return None
        if "formulaValue" in entered:
            if depth > 50:
                return ErrorValue("REF", "Circular dependency detected.")
            return evaluate(
                entered["formulaValue"],
                lambda r, c: self.value(sheet, r, c, depth + 1),
                locale=self.locale,
            )
        if "numberValue" in entered:
            return float(entered["numberValue"])
        if "boolValue" in entered:
            return bool(entered["boolValue"])
        return str(entered.get("stringValue", ""))

    # -- protection ------------------------------------------------------------------------
    def may_edit(self, user: str, sheet: Sheet, row: int, col: int) -> bool:
        if user == self.owner:
            return True
        for protection in sheet.protected_ranges:
            if protection.get("warningOnly"):
                continue
            if not covers(protection, row, col):
                continue
            if not self.is_editor(user, protection):
                return False
        return True

    def is_editor(self, user: str, protection: JSON) -> bool:
        """Listed editors; with domainUsersCanEdit, anyone of the owner's domain too."""
        editors = protection.get("editors", {})
        if user == self.owner or user in editors.get("users", []):
            return True
        same_domain = user.rpartition("@")[2] == self.owner.rpartition("@")[2]
        return bool(editors.get("domainUsersCanEdit")) and same_domain

    def check_edit(self, user: str, sheet: Sheet, cells: list[tuple[int, int]]) -> None:
        if user == self.owner or not sheet.protected_ranges:
            return
        for row, col in cells:
            if not self.may_edit(user, sheet, row, col):
                raise ApiError(403, "PERMISSION_DENIED", PROTECTED)


def inside(grid: JSON, row: int, col: int) -> bool:
    """Whether a GridRange (unbounded sides allowed) contains the cell."""
    return grid.get("startRowIndex", 0) <= row < grid.get("endRowIndex", 2**31) and grid.get(
        "startColumnIndex", 0
    ) <= col < grid.get("endColumnIndex", 2**31)


def covers(protection: JSON, row: int, col: int) -> bool:
    if not inside(protection.get("range", {}), row, col):
        return False
    return not any(inside(hole, row, col) for hole in protection.get("unprotectedRanges", []))
