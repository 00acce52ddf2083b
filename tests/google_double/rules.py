"""Documented rules the discovery schema cannot express, checked like Google does.

Condition arity and where each condition type is allowed are read from the discovery
document's own enum descriptions ("Requires a single ConditionValue", "Supported by data
validation ..."), so the double follows the published text rather than a hand-made table.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from .a1 import RangeError, parse_cells, split
from .discovery import document
from .state import JSON, Book, invalid

Arity = tuple[int, int | None]
_ARITY = (
    (r"Requires a single ConditionValue", (1, 1)),
    (r"Requires exactly two ConditionValues", (2, 2)),
    (r"Requires no ConditionValues", (0, 0)),
    (r"Requires at least one ConditionValue", (1, None)),
    (r"Supports zero, one or two ConditionValues", (0, 2)),
    (r"Supports any number of condition values", (1, None)),
)


@cache
def conditions() -> dict[str, tuple[Arity, frozenset[str]]]:
    """Condition type → (allowed number of values, contexts that support it)."""
    spec = document("sheets.v4")["schemas"]["BooleanCondition"]["properties"]["type"]
    table: dict[str, tuple[Arity, frozenset[str]]] = {}
    for name, text in zip(spec["enum"], spec["enumDescriptions"], strict=True):
        arity: Arity = (0, None)
        for pattern, found in _ARITY:
            if re.search(pattern, text):
                arity = found
                break
        supported = re.search(r"Supported by ([^.]*)\.", text)
        where = supported.group(1) if supported else ""
        contexts = frozenset(
            c for c in ("data validation", "conditional formatting", "filters") if c in where
        )
        table[name] = (arity, contexts)
    return table


def check_condition(book: Book, condition: JSON | None, context: str, where: str) -> None:
    if not condition:
        raise invalid(f"Invalid {where}: a condition is required.")
    kind = condition.get("type", "CONDITION_TYPE_UNSPECIFIED")
    if kind not in conditions() or kind == "CONDITION_TYPE_UNSPECIFIED":
        raise invalid(f"Invalid {where}: condition type must be specified.")
    (low, high), contexts = conditions()[kind]
    if context not in contexts:
        raise invalid(f"Invalid {where}: {kind} is not supported by {context}.")
    values = condition.get("values") or []
    if len(values) < low or (high is not None and len(values) > high):
        raise invalid(f"Invalid {where}: {kind} has the wrong number of condition values.")
    texts = [str(v.get("userEnteredValue", "")) for v in values]
    if kind == "ONE_OF_LIST" and any(t.startswith("=") for t in texts):
        raise invalid(f"Invalid {where}: formulas are not supported in ONE_OF_LIST values.")
    if kind == "ONE_OF_RANGE":
        _check_range_reference(book, texts[0], where)
    if kind == "CUSTOM_FORMULA" and not texts[0].startswith(("=", "+")):
        raise invalid(f"Invalid {where}: a custom formula must start with '='.")


def _check_range_reference(book: Book, text: str, where: str) -> None:
    try:
        title, cells = split(text.lstrip("="), [s.title for s in book.sheets])
        parse_cells(cells)
        if title is not None:
            book.sheet_by_title(title)
    except (RangeError, KeyError):
        raise invalid(f"Invalid {where}: invalid range in condition value: {text}") from None


def check_protected_range(protected: JSON, where: str) -> None:
    if protected.get("warningOnly") and protected.get("editors") is not None:
        raise invalid(
            f"Invalid {where}: ProtectedRange is warningOnly. Editors cannot be set on it."
        )
    sources = [k for k in ("range", "namedRangeId", "tableId") if protected.get(k) is not None]
    if len(sources) != 1:
        raise invalid(
            f"Invalid {where}: exactly one of range, namedRangeId or tableId is required."
        )
    if protected.get("unprotectedRanges") and not _whole_sheet(protected.get("range") or {}):
        raise invalid(
            f"Invalid {where}: Unprotected ranges are only supported on protected sheets."
        )


def _whole_sheet(grid: JSON) -> bool:
    return not any(
        k in grid for k in ("startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
    )


def check_grid_range(book: Book, grid: Any, where: str) -> None:
    """The range's tab exists and its indexes are ordered and inside the grid."""
    if not isinstance(grid, dict):
        raise invalid(f"Invalid {where}: a range is required.")
    sheet = book.sheet_by_id(int(grid.get("sheetId", 0)))
    for start, end, size in (
        ("startRowIndex", "endRowIndex", sheet.rows),
        ("startColumnIndex", "endColumnIndex", sheet.columns),
    ):
        low, high = grid.get(start), grid.get(end)
        if low is not None and low < 0:
            raise invalid(f"Invalid {where}: {start} must be >= 0.")
        if low is not None and high is not None and high < low:
            raise invalid(f"Invalid {where}: {end} must be >= {start}.")
        if (high is not None and high > size) or (low is not None and low >= size > 0):
            raise invalid(
                f"Invalid {where}: Range ({sheet.title}) exceeds grid limits."
                f" Max rows: {sheet.rows}, max columns: {sheet.columns}"
            )


# What a conditional format may change (BooleanRule.format in the discovery document: "bold,
# italic, strikethrough, foreground color and, background color").
_CONDITIONAL_FORMAT = {
    "backgroundColor",
    "backgroundColorStyle",
    "textFormat.bold",
    "textFormat.italic",
    "textFormat.strikethrough",
    "textFormat.foregroundColor",
    "textFormat.foregroundColorStyle",
}


def check_conditional_rule(book: Book, rule: JSON, where: str) -> None:
    """A boolean rule: a condition conditional formatting supports, and a format it may set."""
    if rule.get("gradientRule") is not None:
        if rule.get("booleanRule") is not None:
            raise invalid(f"Invalid {where}: only one of booleanRule or gradientRule may be set.")
        raise invalid(f"Invalid {where}: gradientRule is not implemented by the test double.")
    boolean = rule.get("booleanRule")
    if boolean is None:
        raise invalid(f"Invalid {where}: one of booleanRule or gradientRule is required.")
    check_condition(book, boolean.get("condition"), "conditional formatting", where)
    fmt = boolean.get("format")
    if not fmt:
        raise invalid(f"Invalid {where}: a boolean rule needs a format.")
    paths = _paths(fmt)
    unsupported = sorted(p for p in paths if p not in _CONDITIONAL_FORMAT)
    if unsupported:
        raise invalid(
            f"Invalid {where}: conditional formats can only set bold, italic, strikethrough,"
            f" foreground and background colour, not {', '.join(unsupported)}."
        )


def _paths(fmt: JSON, prefix: str = "") -> list[str]:
    out = []
    for key, value in fmt.items():
        path = f"{prefix}{key}"
        if key == "textFormat" and isinstance(value, dict):
            out += _paths(value, "textFormat.")
        else:
            out.append(path)
    return out
