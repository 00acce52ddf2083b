"""Spreadsheet metadata (`spreadsheets.get`) and Drive file metadata (`files.get`)."""

from __future__ import annotations

import copy
from datetime import datetime
from typing import Any

from .state import JSON, Book, Sheet

_WHITE: dict[str, float] = {"red": 1, "green": 1, "blue": 1}
_THEME: list[tuple[str, dict[str, float]]] = [
    ("TEXT", {}),
    ("BACKGROUND", _WHITE),
    ("ACCENT1", {"red": 0.25882354, "green": 0.52156866, "blue": 0.95686275}),
    ("ACCENT2", {"red": 0.91764706, "green": 0.2627451, "blue": 0.20784314}),
    ("ACCENT3", {"red": 0.9843137, "green": 0.7372549, "blue": 0.015686275}),
    ("ACCENT4", {"red": 0.20392157, "green": 0.65882355, "blue": 0.3254902}),
    ("ACCENT5", {"red": 1, "green": 0.42745098, "blue": 0.003921569}),
    ("ACCENT6", {"red": 0.27450982, "green": 0.7411765, "blue": 0.7764706}),
    ("LINK", {"red": 0.06666667, "green": 0.33333334, "blue": 0.8}),
]
DRIVE_FIELDS = ("kind", "id", "name", "mimeType", "version", "createdTime", "modifiedTime")
SHEETS_MIME = "application/vnd.google-apps.spreadsheet"


def spreadsheet(book: Book, user: str) -> JSON:
    """The spreadsheet as `spreadsheets.get` (no grid data) shows it to `user`."""
    return {
        "spreadsheetId": book.id,
        "properties": {
            "title": book.title,
            "locale": book.locale,
            "autoRecalc": "ON_CHANGE",
            "timeZone": book.time_zone,
            "defaultFormat": _default_format(),
            "spreadsheetTheme": {
                "primaryFontFamily": "Arial",
                "themeColors": [
                    {"colorType": kind, "color": {"rgbColor": dict(rgb)}} for kind, rgb in _THEME
                ],
            },
        },
        "sheets": [_sheet(book, sheet, user) for sheet in book.ordered()],
        "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{book.id}/edit",
    }


def _default_format() -> JSON:
    return {
        "backgroundColor": dict(_WHITE),
        "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
        "verticalAlignment": "BOTTOM",
        "wrapStrategy": "OVERFLOW_CELL",
        "textFormat": {
            "foregroundColor": {},
            "fontFamily": "arial,sans,sans-serif",
            "fontSize": 10,
            "bold": False,
            "italic": False,
            "strikethrough": False,
            "underline": False,
            "foregroundColorStyle": {"rgbColor": {}},
        },
        "backgroundColorStyle": {"rgbColor": dict(_WHITE)},
    }


def grid_out(grid: JSON) -> JSON:
    """Google leaves `sheetId` out of a GridRange when it is 0 (the proto default)."""
    return {k: v for k, v in grid.items() if not (k == "sheetId" and v == 0)}


def protected_range(book: Book, stored: JSON, user: str) -> JSON:
    can_edit = user == book.owner or user in stored.get("editors", {}).get("users", [])
    out: JSON = {"protectedRangeId": stored["protectedRangeId"]}
    if "range" in stored:
        out["range"] = grid_out(stored["range"])
    for key in ("description", "warningOnly"):
        if stored.get(key):
            out[key] = stored[key]
    if stored.get("unprotectedRanges"):
        out["unprotectedRanges"] = [grid_out(g) for g in stored["unprotectedRanges"]]
    if can_edit:
        out["requestingUserCanEdit"] = True
        out["editors"] = copy.deepcopy(stored.get("editors", {}))
    return out


def filter_view(view: JSON) -> JSON:
    out = copy.deepcopy(view)
    out["range"] = grid_out(out.get("range", {}))
    specs = out.get("filterSpecs") or []
    if specs:
        out["criteria"] = {str(s["columnIndex"]): s.get("filterCriteria", {}) for s in specs}
    return out


def _sheet(book: Book, sheet: Sheet, user: str) -> JSON:
    props = copy.deepcopy(sheet.properties)
    if not props.get("hidden"):
        props.pop("hidden", None)
    out: JSON = {"properties": props}
    if sheet.basic_filter is not None:
        basic = copy.deepcopy(sheet.basic_filter)
        basic["range"] = grid_out(basic.get("range", {}))
        out["basicFilter"] = basic
    if sheet.protected_ranges:
        out["protectedRanges"] = [protected_range(book, p, user) for p in sheet.protected_ranges]
    if sheet.filter_views:
        out["filterViews"] = [filter_view(v) for v in sheet.filter_views]
    if sheet.charts:
        out["charts"] = copy.deepcopy(sheet.charts)
    if sheet.conditional_formats:
        out["conditionalFormats"] = [
            {**copy.deepcopy(r), "ranges": [grid_out(g) for g in r["ranges"]]}
            for r in sheet.conditional_formats
        ]
    return out


def _time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def drive_file(book: Book, fields: list[str] | None) -> JSON:
    everything: dict[str, Any] = {
        "kind": "drive#file",
        "id": book.id,
        "name": book.title,
        "mimeType": SHEETS_MIME,
        "version": str(book.version),
        "createdTime": _time(book.created),
        "modifiedTime": _time(book.modified),
    }
    wanted = fields or ["kind", "id", "name", "mimeType"]
    return {k: v for k, v in everything.items() if k in wanted}
