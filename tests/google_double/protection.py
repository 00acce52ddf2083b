"""batchUpdate kinds about protection and filtering: protected ranges, filter views."""

from __future__ import annotations

import copy
import re
from typing import Any

from .cells import evaluate
from .meta import filter_view, grid_out
from .rules import check_condition, check_grid_range, check_protected_range
from .state import JSON, PROTECTED, ApiError, Book, Sheet, invalid


def mask(fields: str | None, where: str) -> list[str]:
    paths = [p.strip().replace("/", ".") for p in (fields or "").split(",") if p.strip()]
    if not paths:
        raise invalid(f"Invalid {where}: At least one field must be specified.")
    return paths


class ProtectionsAndFilters:
    """Mixed into `Batch`: works on `self.book` as `self.user`, naming `self.where`."""

    book: Book
    user: str
    where: str

    # -- protection --------------------------------------------------------------------------
    def add_protected_range(self, body: JSON) -> JSON:
        given = copy.deepcopy(body.get("protectedRange") or {})
        check_protected_range(given, self.where)
        check_grid_range(self.book, given.get("range"), self.where)
        sheet = self.book.sheet_by_id(int(given["range"].get("sheetId", 0)))
        taken = self.book.all_ids("protection")
        pid = given.get("protectedRangeId")
        if pid in taken:
            raise invalid(f"Invalid {self.where}: A protected range with id {pid} already exists.")
        _check_editors(given.get("editors"), self.where)
        stored: JSON = {"protectedRangeId": pid or self.book.new_id(taken)}
        for key in ("range", "description", "warningOnly", "unprotectedRanges"):
            if given.get(key) not in (None, "", False, []):
                stored[key] = given[key]
        users = list((given.get("editors") or {}).get("users") or [])
        for person in (self.book.owner, self.user):  # Google adds the owner and the requester
            if person not in users:
                users.append(person)
        stored["editors"] = {"users": users}
        domain = (given.get("editors") or {}).get("domainUsersCanEdit")
        if domain is not None:
            stored["editors"]["domainUsersCanEdit"] = bool(domain)
        sheet.protected_ranges.append(stored)
        reply = {k: copy.deepcopy(v) for k, v in stored.items() if k != "editors"}
        reply["range"] = grid_out(reply["range"])
        reply["requestingUserCanEdit"] = True
        reply["editors"] = _pruned(given.get("editors") or {})
        return {"addProtectedRange": {"protectedRange": _pruned(reply)}}

    def update_protected_range(self, body: JSON) -> None:
        given = body.get("protectedRange") or {}
        sheet, stored = self._protection(given.get("protectedRangeId"))
        self._editor_of_all([stored])
        for path in mask(body.get("fields"), self.where):
            if path not in ("range", "description", "warningOnly", "editors", "unprotectedRanges"):
                raise invalid(f"Invalid {self.where}: field '{path}' is not implemented.")
            if path == "editors":
                _check_editors(given.get("editors"), self.where)
            if given.get(path) in (None, "", False, []):
                stored.pop(path, None)
            else:
                stored[path] = copy.deepcopy(given[path])
        check_protected_range({**stored, "editors": None}, self.where)
        check_grid_range(self.book, stored.get("range"), self.where)
        target = self.book.sheet_by_id(int(stored["range"].get("sheetId", 0)))
        if target is not sheet:
            sheet.protected_ranges.remove(stored)
            target.protected_ranges.append(stored)

    def delete_protected_range(self, body: JSON) -> None:
        sheet, stored = self._protection(body.get("protectedRangeId"))
        self._editor_of_all([stored])
        sheet.protected_ranges.remove(stored)

    def _protection(self, pid: Any) -> tuple[Sheet, JSON]:
        for sheet in self.book.sheets:
            for stored in sheet.protected_ranges:
                if stored["protectedRangeId"] == pid:
                    return sheet, stored
        raise invalid(f"Invalid {self.where}: No protected range with id: {pid}")

    def _editor_of_all(self, protections: list[JSON]) -> None:
        if self.user == self.book.owner:
            return
        for stored in protections:
            if self.user not in stored.get("editors", {}).get("users", []):
                raise ApiError(403, "PERMISSION_DENIED", PROTECTED)

    # -- filters -----------------------------------------------------------------------------
    def add_filter_view(self, body: JSON) -> JSON:
        view = copy.deepcopy(body.get("filter") or {})
        taken = self.book.all_ids("filter")
        if view.get("filterViewId") in taken:
            raise invalid(f"Invalid {self.where}: A filter view with that id already exists.")
        view["filterViewId"] = view.get("filterViewId") or self.book.new_id(taken)
        sheet = self._check_filter(view)
        view["range"] = _bounded(sheet, view["range"])
        sheet.filter_views.append(view)
        return {"addFilterView": {"filter": filter_view(view)}}

    def update_filter_view(self, body: JSON) -> None:
        given = body.get("filter") or {}
        sheet, stored = self._filter_view(given.get("filterViewId"))
        for path in mask(body.get("fields"), self.where):
            if path not in ("title", "range", "filterSpecs", "sortSpecs", "criteria"):
                raise invalid(f"Invalid {self.where}: field '{path}' is not implemented.")
            if given.get(path) is None:
                stored.pop(path, None)
            else:
                stored[path] = copy.deepcopy(given[path])
        target = self._check_filter(stored)
        stored["range"] = _bounded(target, stored["range"])
        if target is not sheet:
            sheet.filter_views.remove(stored)
            target.filter_views.append(stored)

    def delete_filter_view(self, body: JSON) -> None:
        sheet, stored = self._filter_view(body.get("filterId"))
        sheet.filter_views.remove(stored)

    def _filter_view(self, fid: Any) -> tuple[Sheet, JSON]:
        for sheet in self.book.sheets:
            for view in sheet.filter_views:
                if view["filterViewId"] == fid:
                    return sheet, view
        raise invalid(f"Invalid {self.where}: No filter with id: {fid}")

    def _check_filter(self, view: JSON) -> Sheet:
        check_grid_range(self.book, view.get("range"), self.where)
        sheet = self.book.sheet_by_id(int(view["range"].get("sheetId", 0)))
        width = view["range"].get("endColumnIndex", sheet.columns)
        for spec in view.get("filterSpecs") or []:
            if not 0 <= int(spec.get("columnIndex", -1)) < width:
                raise invalid(f"Invalid {self.where}: filter column is outside the range.")
            condition = (spec.get("filterCriteria") or {}).get("condition")
            if condition is not None:
                check_condition(self.book, condition, "filters", self.where)
        return sheet

    def set_basic_filter(self, body: JSON) -> None:
        given = copy.deepcopy(body.get("filter") or {})
        check_grid_range(self.book, given.get("range"), self.where)
        sheet = self.book.sheet_by_id(int(given["range"].get("sheetId", 0)))
        given["range"] = _bounded(sheet, given["range"])
        sheet.basic_filter = given

    def clear_basic_filter(self, body: JSON) -> None:
        self.book.sheet_by_id(int(body.get("sheetId", 0))).basic_filter = None


_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def _check_editors(editors: JSON | None, where: str) -> None:
    """Editors are people or groups Google knows: a word like "default" is refused."""
    for key in ("users", "groups"):
        for email in (editors or {}).get(key) or []:
            if not _EMAIL.fullmatch(str(email)):
                raise invalid(f"Invalid {where}: Invalid email address: {email}")


def _bounded(sheet: Sheet, grid: JSON) -> JSON:
    """Filters keep explicit bounds: an open side becomes the grid's edge."""
    return {
        **grid,
        "startRowIndex": grid.get("startRowIndex", 0),
        "endRowIndex": grid.get("endRowIndex", sheet.rows),
        "startColumnIndex": grid.get("startColumnIndex", 0),
        "endColumnIndex": grid.get("endColumnIndex", sheet.columns),
    }


def _pruned(value: Any) -> Any:
    """Google leaves empty lists and unset fields out of its JSON."""
    if isinstance(value, dict):
        return {k: _pruned(v) for k, v in value.items() if v is not None and v != []}
    return value


def visible_rows(book: Book, sheet: Sheet, view: JSON) -> list[int]:
    """1-based rows a filter view shows (the range's first row is its header)."""
    grid = view.get("range", {})
    first = grid.get("startRowIndex", 0)
    last = min(grid.get("endRowIndex", sheet.rows), sheet.last_row())
    shown = []
    for row in range(first + 1, last):
        ok = True
        for spec in view.get("filterSpecs") or []:
            criteria = spec.get("filterCriteria") or {}
            col = int(spec["columnIndex"])
            value = book.value(sheet, row, col)
            if str(value if value is not None else "") in (criteria.get("hiddenValues") or []):
                ok = False
            condition = criteria.get("condition") or {}
            if condition.get("type") == "CUSTOM_FORMULA":
                formula = condition["values"][0]["userEnteredValue"]
                result = evaluate(
                    formula, lambda r, c: book.value(sheet, r, c), row - first - 1, book.locale
                )
                ok = ok and result is True
        if ok:
            shown.append(row + 1)
    return shown
