"""`addChart`: embedded basic charts (bar, column, line, ...) overlaid on a grid.

The body has already passed the discovery schema (unknown fields, wrong types and enums are
refused before this runs). On top of it, the rules Google documents in the field
descriptions are checked: one chart kind per spec, at most one domain ("Only a single domain
is supported"), source ranges on existing tabs and inside the grid, each source one row or
one column ("Exactly one dimension must have a length of 1" — a single cell is accepted),
all sources of a list along the same dimension, the domain and every series with the same
number of sources, a chartId not already taken, and an anchor cell inside its tab that the
requester may edit (a chart cannot be dropped on a tab protected against them). What the
double does not fake — other chart kinds, data-source charts, charts on a sheet of their
own — is refused as not implemented, never accepted.

The chart is kept on the tab of its anchor cell, so `spreadsheets.get` lists it under
`sheets[].charts` and `deleteSheet` removes it with the tab. The stored (and replied)
chart is proto3 JSON like every answer (zero, false and empty fields left out) and carries
the documented defaults Google fills in: an overlay of 600 × 371 pixels.
No recorded session contains a chart: the answers' shape is checked against the discovery
document's `AddChartResponse` and `Spreadsheet` schemas instead (tests/google_double).
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any, Protocol

from .discovery import document
from .rules import check_grid_range
from .state import JSON, Book, Sheet, invalid

_SIZE = {"widthPixels": 600, "heightPixels": 371}  # OverlayPosition's documented defaults


class _Batch(Protocol):
    book: Book
    user: str
    where: str

    def editable(self, sheet: Sheet, cells: list[tuple[int, int]]) -> None: ...


@cache
def chart_kinds() -> tuple[str, ...]:
    """The ChartSpec fields that each hold one kind of chart (basicChart, pieChart, ...)."""
    spec = document("sheets.v4")["schemas"]["ChartSpec"]["properties"]
    return tuple(name for name in spec if name.endswith("Chart") and "$ref" in spec[name])


def add_chart(batch: _Batch, body: JSON) -> JSON:
    where = batch.where
    chart = copy.deepcopy(body.get("chart") or {})
    if not chart:
        raise invalid(f"Invalid {where}: chart is required.")
    taken = batch.book.all_ids("chart")
    chart_id = chart.get("chartId")
    if chart_id is not None and int(chart_id) in taken:
        raise invalid(f"Invalid {where}: An object with id {chart_id} already exists.")
    spec = chart.get("spec") or {}
    _check_spec(batch.book, spec, where)
    sheet, position = _position(batch, chart.get("position") or {}, where)
    stored: JSON = {
        "chartId": int(chart_id) if chart_id is not None else batch.book.new_id(taken),
        "spec": _spec_out(spec),
        "position": position,
    }
    sheet.charts.append(stored)
    return {"addChart": {"chart": copy.deepcopy(stored)}}


def _check_spec(book: Book, spec: JSON, where: str) -> None:
    kinds = [kind for kind in chart_kinds() if spec.get(kind) is not None]
    if len(kinds) != 1:
        raise invalid(f"Invalid {where}: exactly one chart type (e.g. basicChart) must be set.")
    if kinds[0] != "basicChart":
        raise invalid(f"Invalid {where}: {kinds[0]} is not implemented by the Sheets test double.")
    if spec.get("dataSourceChartProperties") is not None:
        raise invalid(f"Invalid {where}: data source charts are not implemented by the double.")
    basic = spec["basicChart"]
    if basic.get("chartType") in (None, "BASIC_CHART_TYPE_UNSPECIFIED"):
        raise invalid(f"Invalid {where}: basicChart.chartType must be specified.")
    domains = basic.get("domains") or []
    if len(domains) > 1:
        raise invalid(f"Invalid {where}: Only a single domain is supported.")
    counts = {
        _sources(book, (item.get(key) or {}), f"{where}.basicChart.{key}", where)
        for key, items in (("domain", domains), ("series", basic.get("series") or []))
        for item in items
    }
    if len(counts) > 1:
        raise invalid(
            f"Invalid {where}: the domain and all series must have the same number of"
            " source ranges."
        )


def _sources(book: Book, data: JSON, what: str, where: str) -> int:
    """Check one ChartData's source ranges; their number."""
    others = [k for k in ("columnReference", "groupRule", "aggregateType") if data.get(k)]
    if others:
        raise invalid(f"Invalid {what}: {others[0]} is not implemented by the test double.")
    sources = (data.get("sourceRange") or {}).get("sources") or []
    if not sources:
        raise invalid(f"Invalid {what}: a source range is required.")
    flat: set[str] = set()
    for grid in sources:
        check_grid_range(book, grid, where)
        sheet = book.sheet_by_id(int(grid.get("sheetId", 0)))
        rows = grid.get("endRowIndex", sheet.rows) - grid.get("startRowIndex", 0)
        columns = grid.get("endColumnIndex", sheet.columns) - grid.get("startColumnIndex", 0)
        if rows != 1 and columns != 1:
            raise invalid(
                f"Invalid {what}: a chart source range must be one row or one column"
                " (exactly one dimension must have a length of 1)."
            )
        if rows != columns:  # a single cell runs along either dimension
            flat.add("row" if rows == 1 else "column")
    if len(flat) > 1:
        raise invalid(f"Invalid {what}: all sources must have the same dimension with length 1.")
    return len(sources)


def _position(batch: _Batch, position: JSON, where: str) -> tuple[Sheet, JSON]:
    chosen = [k for k in ("sheetId", "overlayPosition", "newSheet") if position.get(k)]
    if position.get("sheetId") == 0:
        chosen.insert(0, "sheetId")
    if len(chosen) != 1:
        raise invalid(
            f"Invalid {where}: exactly one of position.sheetId, position.overlayPosition or"
            " position.newSheet must be set."
        )
    if chosen[0] != "overlayPosition":
        raise invalid(
            f"Invalid {where}: charts on a sheet of their own are not implemented by the double."
        )
    overlay = position["overlayPosition"]
    anchor = overlay.get("anchorCell")
    if not anchor:
        raise invalid(f"Invalid {where}: overlayPosition.anchorCell is required.")
    sheet = batch.book.sheet_by_id(int(anchor.get("sheetId", 0)))
    row, col = int(anchor.get("rowIndex", 0)), int(anchor.get("columnIndex", 0))
    if not (0 <= row < sheet.rows and 0 <= col < sheet.columns):
        raise invalid(
            f"Invalid {where}: the anchor cell ({sheet.title}) exceeds grid limits."
            f" Max rows: {sheet.rows}, max columns: {sheet.columns}"
        )
    batch.editable(sheet, [(row, col)])
    placed: JSON = _proto3({**_SIZE, **overlay})
    return sheet, {"overlayPosition": placed}


def _spec_out(spec: JSON) -> JSON:
    """The spec as Google answers it: proto3 JSON, so no zero, false or empty fields."""
    out: JSON = _proto3(spec)
    return out


def _proto3(value: Any) -> Any:
    if isinstance(value, dict):
        kept = {k: _proto3(v) for k, v in value.items()}
        return {k: v for k, v in kept.items() if v not in (None, 0, False, "", [], {})}
    if isinstance(value, list):
        return [_proto3(v) for v in value]
    return value
