"""Google's answers to the Sheets calls, parsed as documented and recorded (see the parity
tests): tab metadata with its protections and filter views, and cell values, both read as a
stream so that a 100,000-row sheet is never held twice."""

from __future__ import annotations

import io
from collections import deque
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import ijson

from functions.adapters.gsheets.protections import Protection, Protections, shared
from functions.record import share

JSON = dict[str, Any]
Cell = str | int | float | bool | None
Grid = list[list[Cell]]


@dataclass(frozen=True)
class FilterView:
    id: int
    title: str
    range: JSON
    criteria: str = ""  # the per-column criteria, comparable with `criteria_key`


def criteria_key(filter_specs: list[JSON]) -> str:
    return repr(
        sorted((int(s.get("columnIndex", 0)), repr(s.get("filterCriteria"))) for s in filter_specs)
    )


@dataclass(frozen=True)
class Tab:
    """One tab's metadata (no cells)."""

    sheet_id: int
    title: str
    rows: int
    columns: int
    hidden: bool = False
    protections: Sequence[Protection] = ()  # Protections when parsed: compact
    filter_views: tuple[FilterView, ...] = field(default=())


def parse_tabs(answer: JSON) -> list[Tab]:
    """Tabs from a `spreadsheets.get` (or `updatedSpreadsheet`) answer, in tab order."""
    tabs = []
    for sheet in answer.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        found = sheet.get("protectedRanges", [])
        protections = (
            found if isinstance(found, Protections) else Protections(map(_protection, found))
        )
        views = tuple(
            FilterView(
                int(v["filterViewId"]),
                str(v.get("title", "")),
                dict(v.get("range", {})),
                criteria_key(v.get("filterSpecs", [])),
            )
            for v in sheet.get("filterViews", [])
        )
        tabs.append(
            Tab(
                int(props.get("sheetId", 0)),
                str(props.get("title", "")),
                int(grid.get("rowCount", 0)),
                int(grid.get("columnCount", 0)),
                bool(props.get("hidden", False)),
                protections,
                views,
            )
        )
    return tabs


def _protection(found: JSON) -> Protection:
    span = found.get("range", {})
    return Protection(
        int(found["protectedRangeId"]),
        str(found.get("description", "")),
        (shared(tuple(span)), tuple(span.values())),
        shared(tuple(map(share, found.get("editors", {}).get("users", [])))),
    )


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def readable(body: bytes | Readable) -> Readable:
    return io.BytesIO(body) if isinstance(body, bytes) else body


# ijson's paths to the protected ranges of a tab, in a `spreadsheets.get` and a `batchUpdate`
# answer, and to one of them.
_PROTECTION_LISTS = frozenset(
    {"sheets.item.protectedRanges", "updatedSpreadsheet.sheets.item.protectedRanges"}
)
_PROTECTIONS = frozenset(f"{path}.item" for path in _PROTECTION_LISTS)


def parse_spreadsheet(body: bytes | Readable) -> JSON:
    """A `spreadsheets.get` or `batchUpdate` answer's JSON, as received, decoded with each
    tab's protected ranges stored compactly (`Protections`) as they are read: decoded whole,
    an answer with 180,000 locks (100,000 invoices) briefly took 243 MiB more."""
    answer = ijson.ObjectBuilder()
    item: ijson.ObjectBuilder | None = None
    protections = Protections()
    for prefix, event, value in ijson.parse(readable(body), use_float=True):
        if item is None and prefix in _PROTECTIONS and event == "start_map":
            item = ijson.ObjectBuilder()
        if item is None:
            answer.event(event, value)
            if prefix in _PROTECTION_LISTS and event == "start_array":
                # the list just begun becomes a compact store, in its parent and as the
                # builder's open container (each item is added below, never by the builder)
                protections = Protections()
                answer.containers[-2][answer.key] = answer.containers[-1] = protections
            continue
        item.event(event, value)
        if prefix in _PROTECTIONS and event == "end_map":
            protections.append(_protection(item.value))
            item = None
    decoded: JSON = answer.value
    return decoded


# ijson's paths to a value range, one of its rows and one cell of that row.
_RANGE = "valueRanges.item"
_ROW = _RANGE + ".values.item"
_CELL = _ROW + ".item"


def parse_value_ranges(
    body: bytes | Readable, tails: Mapping[int, int] | None = None
) -> list[Grid]:
    """Rows of cells per requested range (a values:batchGet answer's JSON, as received).

    Missing trailing cells are simply absent. Parsed as a stream with repeated texts shared:
    decoded whole, a 100,000 + 100,000-row answer would briefly need ~250 MB more. `tails`
    maps a range's index to how many of its last rows holding a value to keep after its
    first (the Log's end, to replay a journal: the Log holds hundreds of thousands of rows).
    """
    grids: list[Grid] = []
    ends: list[tuple[Grid, deque[list[Cell]]]] = []
    end: deque[list[Cell]] | None = None  # the current range's last rows, if it is a tail
    for row in value_rows(body):
        if row is None:
            grids.append([])
            limit = (tails or {}).get(len(grids) - 1)
            end = None if limit is None else deque(maxlen=limit)
            if end is not None:
                ends.append((grids[-1], end))
        elif end is None or not grids[-1]:
            grids[-1].append(row)  # every row, or a tail's first (the header)
        elif any(v not in ("", None) for v in row):
            end.append(row)
    for grid, rows in ends:
        grid.extend(rows)
    return grids


def value_rows(body: bytes | Readable) -> Iterator[list[Cell] | None]:
    """A values:batchGet answer's rows as they arrive; None where each range begins."""
    row: list[Cell] = []
    for prefix, event, value in ijson.parse(readable(body), use_float=True):
        if prefix == _CELL:
            row.append(share(_cell(value)))
        elif prefix == _ROW:
            if event == "start_array":
                row = []
            else:
                yield row
        elif prefix == _RANGE and event == "start_map":
            yield None


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def parse_version(answer: JSON) -> str:
    """Drive's file version (changes on every edit); modifiedTime if version is absent."""
    return str(answer.get("version") or answer.get("modifiedTime") or "")
