"""Worksheet XML, edited in place for the fast write path.

`SheetXml` holds cell edits for one worksheet and renders them in one pass over its rows,
copying every other byte as it was (`package.Package` reads and writes the zip's parts). What
openpyxl would write differently, or what it cannot read, raises `Unsupported`.
"""

from __future__ import annotations

import bisect
import math
import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.utils import get_column_letter
from openpyxl.utils.datetime import to_excel

from functions.adapters.workbook.package import Unsupported
from functions.model import Stored

MAX_TEXT = 32767
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
ATTR = re.compile(rb'\b([A-Za-z:]+)="([^"]*)"')
_REF = re.compile(rb"([A-Z]+)([0-9]+)")
_VALUED = re.compile(rb"<v>[^<]|<is>|<f[ >/]")
DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"\s*/>')


class StyleVariants(Protocol):
    """The book's cell styles (`xf.Styles`), as a sheet needs them to restyle its cells."""

    def variant(self, index: int, op: str) -> int:
        """The style `index` with one more op applied (added to styles.xml if new)."""


# --- one worksheet -------------------------------------------------------------------------


KEEP = object()


@dataclass
class CellEdit:
    value: Any = KEEP  # a Stored value, or KEEP
    styles: list[str] = field(default_factory=list)  # style ops, in order
    style: int | None = None  # the xf the ops lead to (resolved before rendering)


class SheetXml:
    """Cell edits on one worksheet's XML, applied in one pass over its rows."""

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        start = xml.find(b"<sheetData")
        if start < 0:
            raise Unsupported
        open_end = xml.find(b">", start) + 1
        self.empty_data: tuple[int, int] | None
        if xml[open_end - 2 : open_end] == b"/>":
            self.data_span = (open_end, open_end)
            self.empty_data = (start, open_end)
        else:
            close = xml.find(b"</sheetData>", open_end)
            if close < 0:
                raise Unsupported
            self.data_span = (open_end, close)
            self.empty_data = None
        self.edits: dict[int, dict[int, CellEdit]] = {}
        self._rows: dict[int, tuple[int, int, int, bool]] | None = None  # row → spans
        self._cells: dict[int, dict[int, tuple[dict[bytes, bytes], bytes | None, bytes]]] = {}
        # Appending to a long Log only needs the rows from its last filled one on.
        self._scan_from: tuple[int, int] | None = None  # (XML position, row number)

    # -- reading the XML --------------------------------------------------------------------
    def rows(self) -> dict[int, tuple[int, int, int, bool]]:
        """Row number → (start, end of open tag, end, self-closing), for every row element."""
        if self._rows is None:
            found: dict[int, tuple[int, int, int, bool]] = {}
            start, end = self.data_span
            if self._scan_from is not None:
                start = self._scan_from[0]
            for match in _ROW.finditer(self.xml, start, end):
                r = re.search(rb'\br="(\d+)"', match.group(1))
                if r is None:
                    raise Unsupported
                closed = match.group(2) == b"/"
                finish = match.end() if closed else self.xml.find(b"</row>", match.end()) + 6
                if finish < match.end():
                    raise Unsupported
                found[int(r.group(1))] = (match.start(), match.end(), finish, closed)
            self._rows = found
        return self._rows

    def cells_of(self, row: int) -> dict[int, tuple[dict[bytes, bytes], bytes | None, bytes]]:
        """Column (1-based) → (attributes, inner XML or None, the element) of one row's cells."""
        if row not in self._cells:
            self._cells[row] = self._parse_cells(row)
        return self._cells[row]

    def _parse_cells(self, row: int) -> dict[int, tuple[dict[bytes, bytes], bytes | None, bytes]]:
        span = self.rows().get(row)
        cells = {}
        if span is not None and not span[3]:
            for match in _CELL.finditer(self.xml, span[1], span[2] - 6):
                attrs = dict(ATTR.findall(match.group(1)))
                ref = _REF.fullmatch(attrs.get(b"r", b""))
                if ref is None or int(ref.group(2)) != row:
                    raise Unsupported
                cells[column_number(ref.group(1))] = (attrs, match.group(2), match.group(0))
        return cells

    def cell(self, row: int, col: int) -> tuple[dict[bytes, bytes], bytes | None, bytes] | None:
        """One cell, found without keeping its whole row parsed (a 100k-row tick touches
        most rows once: their parsed cells would take gigabytes)."""
        if row in self._cells:
            return self._cells[row].get(col)
        span = self.rows().get(row)
        if span is None or span[3]:
            return None
        start, end = span[1], span[2]
        if self.xml.count(b"<c ", start, end) != self.xml.count(b'<c r="', start, end):
            return self.cells_of(row).get(col)  # cells written another way: parse the row
        at = self.xml.find(b'<c r="' + _ref(row, col) + b'"', start, end)
        match = _CELL.match(self.xml, at) if at >= 0 else None
        if match is None:
            return None
        return dict(ATTR.findall(match.group(1))), match.group(2), match.group(0)

    def has_formula(self, row: int, col: int) -> bool:
        found = self.cell(row, col)
        return found is not None and found[1] is not None and b"<f" in found[1]

    def last_valued_row(self) -> int:
        """The last row holding a value (1 when none): where the Log continues."""
        start, end = self.data_span
        position = end
        while True:
            found = self.xml.rfind(b"<row", start, position)
            if found < 0:
                return 1
            if _VALUED.search(self.xml, found, position):
                r = re.match(rb'<row\b[^>]*?\br="(\d+)"', self.xml[found : found + 200])
                if r is None:
                    raise Unsupported
                if self._rows is None and not self.edits:
                    self._scan_from = (found, int(r.group(1)))
                return max(1, int(r.group(1)))
            position = found

    def last_cell_row(self) -> int:
        """openpyxl's `max_row` after loading: the last row with a cell element (1 if none)."""
        start, end = self.data_span
        found = self.xml.rfind(b"<c ", start, end)
        if found < 0:
            return 1
        ref = _REF.match(self.xml, found + len(b'<c r="'))
        if not self.xml.startswith(b'<c r="', found) or ref is None:
            raise Unsupported
        return max(1, int(ref.group(2)))

    # -- editing ----------------------------------------------------------------------------
    def edit(self, row: int, col: int) -> CellEdit:
        if self._scan_from is not None and row <= self._scan_from[1]:
            self._scan_from, self._rows, self._cells = None, None, {}  # index every row
        cells = self.edits.setdefault(row, {})
        found = cells.get(col)
        if found is None:
            found = cells[col] = CellEdit()
        return found

    def render(self) -> bytes:
        if not self.edits:
            return self.xml
        rows = self.rows()
        cursor = self.data_span[0]
        inserts: list[tuple[int, bytes]] = []
        replaced: list[tuple[int, int, bytes]] = []
        ordered = sorted(rows)
        for row in sorted(self.edits):
            if row in rows:
                start, _open_end, end, _closed = rows[row]
                replaced.append((start, end, self._row_xml(row)))
            else:
                index = bisect.bisect_right(ordered, row)
                at = rows[ordered[index]][0] if index < len(ordered) else self.data_span[1]
                inserts.append((at, self._row_xml(row)))
        changes = sorted(
            [(s, e, xml) for s, e, xml in replaced] + [(at, at, xml) for at, xml in inserts],
            key=lambda item: (item[0], item[1]),
        )
        view = memoryview(self.xml)  # slices without copies: one copy, into the result
        pieces: list[bytes | memoryview] = []
        for start, end, xml in changes:
            pieces.append(view[cursor:start])
            pieces.append(xml)
            cursor = end
        pieces.append(view[cursor : self.data_span[1]])
        head, tail = self.xml[: self.data_span[0]], view[self.data_span[1] :]
        if self.empty_data is not None:
            s, e = self.empty_data
            head = self.xml[:s] + b"<sheetData>"
            tail = memoryview(b"</sheetData>" + self.xml[e:])
            pieces = [xml for _s, _e, xml in changes]
        widest = max(max(cells) for cells in self.edits.values())
        return b"".join([_grow_dimension(head, max(self.edits), widest), *pieces, tail])

    def resolve_styles(self, styles: StyleVariants) -> None:
        """Work out each restyled cell's xf now, so styles.xml is final before any rendering."""
        for row, edits in self.edits.items():
            for col, edit in edits.items():
                if edit.styles:
                    found = self.cell(row, col)
                    style = -1 if found is None else int(found[0].get(b"s", b"0"))
                    for op in edit.styles:
                        style = styles.variant(style, op)
                    edit.style = style

    def _row_xml(self, row: int) -> bytes:
        rows = self.rows()
        cells = self._cells.pop(row, None) or self._parse_cells(row)
        out: dict[int, bytes] = {col: element for col, (_a, _i, element) in cells.items()}
        for col, edit in self.edits[row].items():
            attrs, inner, _element = cells.get(col, ({}, None, b""))
            style = int(attrs.get(b"s", b"0")) if col in cells else -1
            if edit.styles:
                if edit.style is None:
                    raise Unsupported  # resolve_styles first
                style = edit.style
            if edit.value is KEEP:
                out[col] = cell_xml(row, col, style, attrs, inner)
            elif edit.value is None and style == -1:
                continue  # openpyxl saves no element for an empty cell without a style
            else:
                out[col] = value_xml(row, col, style, edit.value)
        if row in rows:
            start, open_end, _end, closed = rows[row]
            tag = self.xml[start:open_end]
            attrs_text = re.sub(rb'\s+spans="[^"]*"', b"", tag[4 : -2 if closed else -1]).rstrip()
        else:
            attrs_text = b' r="' + str(row).encode() + b'"'
        return b"<row" + attrs_text + b">" + b"".join(out[c] for c in sorted(out)) + b"</row>"


def column_number(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def _grow_dimension(head: bytes, row: int, col: int) -> bytes:
    match = DIMENSION.search(head)
    if match is None:
        return head
    first_col, first_row = match.group(1), int(match.group(2))
    last_col = match.group(3) or match.group(1)
    last_row = int(match.group(4) or match.group(2))
    last_row = max(last_row, row)
    last_col = str(get_column_letter(max(column_number(last_col), col))).encode()
    ref = first_col + str(first_row).encode() + b":" + last_col + str(last_row).encode()
    return head[: match.start()] + b'<dimension ref="' + ref + b'"/>' + head[match.end() :]


def escape(value: str, *, attribute: bool = False) -> bytes:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return value.encode("utf-8")


def _ref(row: int, col: int) -> bytes:
    return str(get_column_letter(col)).encode() + str(row).encode()


def _style_attr(style: int) -> bytes:
    return b' s="' + str(style).encode() + b'"' if style > 0 else b""


def cell_xml(
    row: int, col: int, style: int, attrs: dict[bytes, bytes], inner: bytes | None
) -> bytes:
    """A cell with its value kept and maybe another style."""
    head = b'<c r="' + _ref(row, col) + b'"' + _style_attr(style)
    for key, value in attrs.items():
        if key not in (b"r", b"s"):
            head += b" " + key + b'="' + value + b'"'
    return head + (b"/>" if inner is None else b">" + inner + b"</c>")


def value_xml(row: int, col: int, style: int, value: Stored | datetime) -> bytes:
    """A cell holding `value` as `workbook_layout.put` writes it (text always stays text), or
    a datetime as openpyxl writes one: its serial number (1900 date system)."""
    head = b'<c r="' + _ref(row, col) + b'"' + _style_attr(style)
    if value is None or value == "":  # openpyxl keeps no value for an empty text
        return head + b"/>"
    if isinstance(value, str):
        cleaned = ILLEGAL_CHARACTERS_RE.sub("", value)[:MAX_TEXT]
        return (
            head
            + b' t="inlineStr"><is><t xml:space="preserve">'
            + escape(cleaned)
            + b"</t></is></c>"
        )
    if isinstance(value, bool):
        return head + b' t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise Unsupported
        value = to_excel(value)
    if isinstance(value, int | float) and math.isfinite(value):
        return head + b' t="n"><v>' + (b"%.16g" % value) + b"</v></c>"  # as openpyxl writes
    raise Unsupported
