"""The fast write path of the `.xlsx` backend: patch only the cells a tick changes.

openpyxl's full load and save of a workbook cost seconds per ten thousand rows (every cell of
every tab, the Log included, is parsed and written again). A tick changes a few cells, appends
a few Log rows and rewrites the small queue tabs, so when the book is still the one the tick
read (same SHA-256), `fast_apply` edits those cells in the sheets' XML and copies everything
else byte for byte: people's formulas (with their cached values), styles, validations,
protections and whatever openpyxl does not understand all stay exactly as they were.

It makes the same decisions as the openpyxl path (`workbook._Writer`), from the values the
read saw: compare-and-set, rows found by ID (the planned row first), ID assignments first,
people's cells unlocked on rows below the prepared ones, locks with a style of their own, Log
rows below the last filled row, queue tabs rewritten. Anything it does not handle — a journal
replay (no fingerprint), report tabs, dropdown lists, new rows (RowAppend), queue tabs to
add, remove or move, a formula in a cell to write, merged cells, an unusual XML layout —
makes it return None, and the caller uses the openpyxl path.
"""

from __future__ import annotations

import bisect
import functools
import math
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from io import BytesIO
from posixpath import join, normpath
from typing import Any
from xml.etree import ElementTree

from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE
from openpyxl.utils import get_column_letter

from ..messages import say
from ..model import (
    Cell,
    CellLock,
    CellWrite,
    LogEntry,
    QueueView,
    SheetChanges,
    Stored,
    TableRead,
    stored,
)
from ..parsing import text
from ..schema import Locale, Schema, Tab

DATA_ROWS = 1000  # as workbook_layout.DATA_ROWS (rows prepared with unlocked people's cells)
PROTECTED_TABS = frozenset({"invoices", "deals", "log"})
MAIN_TABS = ("invoices", "deals", "people", "settings", "log")
_MAX_TEXT = 32767
_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"
_ROW = re.compile(rb"<row\b([^>]*?)(/?)>")
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(rb'\b([A-Za-z:]+)="([^"]*)"')
_REF = re.compile(rb"([A-Z]+)([0-9]+)")
_VALUED = re.compile(rb"<v>[^<]|<is>|<f[ >/]")
_DIMENSION = re.compile(rb'<dimension ref="([A-Z]+)([0-9]+)(?::([A-Z]+)([0-9]+))?"\s*/>')


class Unsupported(Exception):
    """Something the fast path does not handle: the openpyxl path takes over."""


@dataclass
class SeenTab:
    """One tab as the tick read it: its columns (0-based positions) and non-blank rows."""

    table: TableRead
    positions: dict[str, int]


@dataclass
class Seen:
    """What `WorkbookBook.read` saw, kept for a fast apply of that same file."""

    fingerprint: str
    locale: Locale
    tabs: dict[str, SeenTab]
    log_title: str | None
    log_header: tuple[object, ...]


def fast_apply(
    data: bytes, seen: Seen, changes: SheetChanges, schema: Schema
) -> tuple[bytes, list[str]] | None:
    """The patched workbook and the skipped writes, or None when the openpyxl path must run."""
    if changes.reports or changes.lists is not None or changes.appends:
        return None  # new rows (rare: a file in the invoices folder) take the openpyxl path
    if any(_date_cell(w, schema) for w in changes.writes):
        return None  # a date cell needs a date style: openpyxl's path writes one
    tabs = seen.tabs
    if any(w.tab in tabs and w.column not in tabs[w.tab].positions for w in changes.writes):
        return None  # a column the book lacks (a Settings Note): openpyxl's path adds it
    try:
        return _Patch(data, seen, schema).run(changes)
    except Unsupported:
        return None


def _date_cell(write: CellWrite, schema: Schema) -> bool:
    return schema.tab(write.tab).column(write.column).type == "date" and isinstance(
        write.value, str
    )


# --- the workbook package ------------------------------------------------------------------


class _Package:
    """The zip parts, the sheets' titles → part names, and the parts patched so far."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(BytesIO(data))
            workbook = ElementTree.fromstring(self.zip.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
            raise Unsupported from exc
        targets = {
            r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")
        }
        self.sheets: list[tuple[str, str]] = []  # (title, part name) in tab order
        for sheet in workbook.iter(f"{{{_MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{_REL}}}id"))
            if not target:
                raise Unsupported
            part = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            self.sheets.append((sheet.get("name", ""), part))
        self.patched: dict[str, bytes | Callable[[], bytes]] = {}

    def part_of(self, title: str) -> str:
        for name, part in self.sheets:
            if name == title:
                return part
        raise Unsupported

    def read(self, part: str) -> bytes:
        patched = self.patched.get(part)
        if isinstance(patched, bytes):
            return patched
        try:
            return self.zip.read(part)
        except KeyError as exc:
            raise Unsupported from exc

    def styles_part(self) -> str:
        rels = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        for r in rels.iter(f"{{{_PKG_REL}}}Relationship"):
            if r.get("Type", "").endswith("/styles"):
                target = r.get("Target", "")
                return target.lstrip("/") if target.startswith("/") else join("xl", target)
        raise Unsupported

    def save(self) -> bytes:
        """The new zip; a patched part given as a function is rendered when its turn comes
        (and freed after), so a 100k-row book never holds every sheet's XML twice at once."""
        out = BytesIO()
        # Deflate level 1: a third of the time of the default level for a file ~20 % larger
        # (the sheets' XML is most of a tick's write); office programs re-save at their own.
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
            for info in self.zip.infolist():
                patched = self.patched.pop(info.filename, None)
                body = patched() if callable(patched) else patched
                if body is None:
                    body = self.zip.read(info)
                target.writestr(info, body, compress_type=zipfile.ZIP_DEFLATED, compresslevel=1)
                del body, patched
        return out.getvalue()


# --- styles --------------------------------------------------------------------------------


class _Styles:
    """cellXfs of styles.xml: openpyxl's `has_style`, and variants with another protection.

    Style index -1 stands for a cell that does not exist yet: openpyxl creates it unstyled.
    """

    def __init__(self, xml: bytes) -> None:
        self.xml = xml
        match = re.search(rb"<cellXfs\b[^>]*>(.*?)</cellXfs>", xml, re.S)
        if match is None:
            raise Unsupported
        self.span = match.span(1)
        body = match.group(1)
        self.xfs: list[bytes] = re.findall(rb"<xf\b[^>]*?/>|<xf\b.*?</xf>", body, re.S)
        if body.count(b"<xf") != len(self.xfs):
            raise Unsupported
        # Custom number formats that are builtin ones count as the builtin (openpyxl does so).
        self.builtin: dict[str, str] = {}
        for found in re.finditer(rb"<numFmt\b[^>]*>", xml):
            attrs = dict(_ATTR.findall(found.group(0)))
            code = ElementTree.fromstring(found.group(0).rstrip(b"/>") + b"/>").get("formatCode")
            if code in BUILTIN_FORMATS_REVERSE:
                self.builtin[attrs.get(b"numFmtId", b"").decode()] = str(
                    BUILTIN_FORMATS_REVERSE[code]
                )
        self.added: list[bytes] = []
        self._variants: dict[tuple[int, str], int] = {}

    def _element(self, index: int) -> ElementTree.Element:
        if index == -1:
            return _xf_element(b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>')
        xfs = self.xfs + self.added
        if not 0 <= index < len(xfs):
            raise Unsupported
        return _xf_element(xfs[index])

    def has_style(self, element: ElementTree.Element) -> bool:
        """openpyxl's `cell.has_style`: any of font, fill, border, number format, xfId,
        pivotButton, quotePrefix set, or an alignment or protection other than the defaults."""
        number = element.get("numFmtId", "0")
        if self.builtin.get(number, number) not in ("0", ""):
            return True
        for name in ("fontId", "fillId", "borderId", "xfId"):
            if element.get(name, "0") not in ("0", ""):
                return True
        if _flag(element.get("pivotButton")) or _flag(element.get("quotePrefix")):
            return True
        for child in element:
            kind = _local(child.tag)
            if kind == "alignment" and any(
                v not in ("0", "false", "") for v in child.attrib.values()
            ):
                return True
            if kind == "protection" and (
                child.get("locked", "1") in ("0", "false") or _flag(child.get("hidden"))
            ):
                return True
        return False

    def variant(self, index: int, op: str) -> int:
        """The xf of a cell with xf `index` after `op`: lock, unlock or unlock_if_plain."""
        key = (index, op)
        if key not in self._variants:
            self._variants[key] = self._make_variant(index, op)
        return self._variants[key]

    def _make_variant(self, index: int, op: str) -> int:
        element = self._element(index)
        if op == "unlock_if_plain":
            if self.has_style(element):
                return index
            op = "unlock"
        locked = op == "lock"
        attrs = dict(element.attrib)
        children = [c for c in element if _local(c.tag) not in ("alignment", "protection")]
        alignment = element.find(f"{{{_MAIN}}}alignment")
        flags = {"locked": "1" if locked else "0", "hidden": "0"}
        protection = ElementTree.Element("protection", flags)
        attrs["applyProtection"] = "1"
        probe = ElementTree.Element("xf", attrs)
        if alignment is not None:
            probe.append(alignment)
        probe.append(protection)
        if locked and not self.has_style(probe):  # as set_locked: a style of its own
            alignment = ElementTree.Element("alignment", {"vertical": "bottom"})
            attrs["applyAlignment"] = "1"
        parts = [b"<xf", *(_attr(k, v) for k, v in attrs.items()), b">"]
        if alignment is not None:
            parts.append(_plain_xml(alignment))
        parts.append(_plain_xml(protection))
        parts += [_plain_xml(c) for c in children]
        parts.append(b"</xf>")
        xml = b"".join(parts)
        every = self.xfs + self.added
        for existing, candidate in enumerate(every):  # an identical xf may already exist
            if _same_xf(candidate, xml):
                return existing
        self.added.append(xml)
        return len(every)

    def render(self) -> bytes | None:
        if not self.added:
            return None
        start, end = self.span
        body = self.xml[start:end] + b"".join(self.added)
        head = re.sub(
            rb'(<cellXfs\b[^>]*?\bcount=")\d+(")',
            lambda m: m.group(1) + str(len(self.xfs) + len(self.added)).encode() + m.group(2),
            self.xml[:start],
        )
        return head + body + self.xml[end:]


def _xf_element(xml: bytes) -> ElementTree.Element:
    """One `<xf>` of cellXfs, parsed in the main namespace it was written in."""
    return ElementTree.fromstring(xml.replace(b"<xf", b'<xf xmlns="' + _MAIN.encode() + b'"', 1))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(key: str, value: str) -> bytes:
    return b" " + key.encode() + b'="' + _escape(value, attribute=True) + b'"'


def _plain_xml(element: ElementTree.Element) -> bytes:
    """An element without namespace prefixes (the default namespace is the sheet's main one)."""
    parts = [b"<" + _local(element.tag).encode()]
    parts += [_attr(_local(k), v) for k, v in element.attrib.items()]
    inner = [_plain_xml(c) for c in element]
    if not inner and not element.text:
        return b"".join(parts) + b"/>"
    return (
        b"".join(parts)
        + b">"
        + _escape(element.text or "")
        + b"".join(inner)
        + b"</"
        + _local(element.tag).encode()
        + b">"
    )


def _same_xf(a: bytes, b: bytes) -> bool:
    def canon(xml: bytes) -> tuple[Any, ...]:
        element = _xf_element(xml)
        return (
            sorted(element.attrib.items()),
            sorted((_local(c.tag), sorted(c.attrib.items())) for c in element),
        )

    return canon(a) == canon(b)


def _flag(value: str | None) -> bool:
    return value in ("1", "true")


# --- one worksheet -------------------------------------------------------------------------


_KEEP = object()


@dataclass
class _CellEdit:
    value: Any = _KEEP  # a Stored value, or _KEEP
    styles: list[str] = field(default_factory=list)  # style ops, in order
    style: int | None = None  # the xf the ops lead to (resolved before rendering)


class _Sheet:
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
        self.edits: dict[int, dict[int, _CellEdit]] = {}
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
        if row in self._cells:
            return self._cells[row]
        span = self.rows().get(row)
        cells = {}
        if span is not None and not span[3]:
            for match in _CELL.finditer(self.xml, span[1], span[2] - 6):
                attrs = dict(_ATTR.findall(match.group(1)))
                ref = _REF.fullmatch(attrs.get(b"r", b""))
                if ref is None or int(ref.group(2)) != row:
                    raise Unsupported
                cells[_column(ref.group(1))] = (attrs, match.group(2), match.group(0))
        self._cells[row] = cells
        return cells

    def has_formula(self, row: int, col: int) -> bool:
        found = self.cells_of(row).get(col)
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

    # -- editing ----------------------------------------------------------------------------
    def edit(self, row: int, col: int) -> _CellEdit:
        if self._scan_from is not None and row <= self._scan_from[1]:
            self._scan_from, self._rows, self._cells = None, None, {}  # index every row
        return self.edits.setdefault(row, {}).setdefault(col, _CellEdit())

    def render(self, styles: _Styles | None) -> bytes:
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
                replaced.append((start, end, self._row_xml(row, styles)))
            else:
                index = bisect.bisect_right(ordered, row)
                at = rows[ordered[index]][0] if index < len(ordered) else self.data_span[1]
                inserts.append((at, self._row_xml(row, styles)))
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

    def resolve_styles(self, styles: _Styles) -> None:
        """Work out each restyled cell's xf now, so styles.xml is final before any rendering."""
        for row, edits in self.edits.items():
            cells = self.cells_of(row)
            for col, edit in edits.items():
                if edit.styles:
                    style = int(cells[col][0].get(b"s", b"0")) if col in cells else -1
                    for op in edit.styles:
                        style = styles.variant(style, op)
                    edit.style = style

    def _row_xml(self, row: int, styles: _Styles | None) -> bytes:
        rows = self.rows()
        cells = dict(self.cells_of(row))
        out: dict[int, bytes] = {col: element for col, (_a, _i, element) in cells.items()}
        for col, edit in self.edits[row].items():
            attrs, inner, _element = cells.get(col, ({}, None, b""))
            style = int(attrs.get(b"s", b"0")) if col in cells else -1
            if edit.styles:
                if edit.style is None:
                    raise Unsupported  # resolve_styles first
                style = edit.style
            if edit.value is _KEEP:
                out[col] = _cell_xml(row, col, style, attrs, inner)
            elif edit.value is None and style == -1:
                continue  # openpyxl saves no element for an empty cell without a style
            else:
                out[col] = _value_xml(row, col, style, edit.value)
        if row in rows:
            start, open_end, _end, closed = rows[row]
            tag = self.xml[start:open_end]
            attrs_text = re.sub(rb'\s+spans="[^"]*"', b"", tag[4 : -2 if closed else -1]).rstrip()
        else:
            attrs_text = b' r="' + str(row).encode() + b'"'
        return b"<row" + attrs_text + b">" + b"".join(out[c] for c in sorted(out)) + b"</row>"


def _column(letters: bytes) -> int:
    number = 0
    for char in letters:
        number = number * 26 + (char - 64)
    return number


def _grow_dimension(head: bytes, row: int, col: int) -> bytes:
    match = _DIMENSION.search(head)
    if match is None:
        return head
    first_col, first_row = match.group(1), int(match.group(2))
    last_col = match.group(3) or match.group(1)
    last_row = int(match.group(4) or match.group(2))
    last_row = max(last_row, row)
    last_col = str(get_column_letter(max(_column(last_col), col))).encode()
    ref = first_col + str(first_row).encode() + b":" + last_col + str(last_row).encode()
    return head[: match.start()] + b'<dimension ref="' + ref + b'"/>' + head[match.end() :]


def _escape(value: str, *, attribute: bool = False) -> bytes:
    value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    value = value.replace("\r", "&#13;")
    if attribute:
        value = value.replace('"', "&quot;").replace("\n", "&#10;").replace("\t", "&#9;")
    return value.encode("utf-8")


def _ref(row: int, col: int) -> bytes:
    return str(get_column_letter(col)).encode() + str(row).encode()


def _style_attr(style: int) -> bytes:
    return b' s="' + str(style).encode() + b'"' if style > 0 else b""


def _cell_xml(
    row: int, col: int, style: int, attrs: dict[bytes, bytes], inner: bytes | None
) -> bytes:
    """A cell with its value kept and maybe another style."""
    head = b'<c r="' + _ref(row, col) + b'"' + _style_attr(style)
    for key, value in attrs.items():
        if key not in (b"r", b"s"):
            head += b" " + key + b'="' + value + b'"'
    return head + (b"/>" if inner is None else b">" + inner + b"</c>")


def _value_xml(row: int, col: int, style: int, value: Stored) -> bytes:
    """A cell holding `value` as `workbook_layout.put` writes it: text always stays text."""
    head = b'<c r="' + _ref(row, col) + b'"' + _style_attr(style)
    if value is None or value == "":  # openpyxl keeps no value for an empty text
        return head + b"/>"
    if isinstance(value, str):
        cleaned = ILLEGAL_CHARACTERS_RE.sub("", value)[:_MAX_TEXT]
        return (
            head
            + b' t="inlineStr"><is><t xml:space="preserve">'
            + _escape(cleaned)
            + b"</t></is></c>"
        )
    if isinstance(value, bool):
        return head + b' t="b"><v>' + (b"1" if value else b"0") + b"</v></c>"
    if isinstance(value, int):
        return head + b' t="n"><v>' + str(value).encode() + b"</v></c>"
    if isinstance(value, float) and math.isfinite(value):
        return head + b' t="n"><v>' + repr(value).encode() + b"</v></c>"
    raise Unsupported


# --- one apply -----------------------------------------------------------------------------


class _Grid:
    """A tab's cells as read, changed as writes are planned (as `gsheets_grid.TabGrid`)."""

    def __init__(self, seen: SeenTab, tab: Tab) -> None:
        self.tab, self.title = tab, seen.table.title
        self.columns = {key: index + 1 for key, index in seen.positions.items()}
        self.rows: dict[int, Mapping[str, Cell]] = {r.number: r.values for r in seen.table.rows}
        self._ids: dict[str, int] | None = None

    def value(self, row: int, key: str) -> Cell:
        return self.rows.get(row, {}).get(key)

    def put(self, row: int, key: str, value: Stored) -> None:
        self.rows[row] = {**self.rows.get(row, {}), key: value}  # the read's rows stay as read
        if key == self.tab.id_column:
            self._ids = None

    def row_of(self, record: str, hint: int | None) -> int | None:
        """The row holding this ID: the planned row if it still does, else the first one."""
        id_key = self.tab.id_column
        if id_key is None:
            return None
        if hint is not None and text(self.value(hint, id_key)) == record:
            return hint
        if self._ids is None:
            self._ids = {}
            for row in sorted(self.rows):
                found = text(self.rows[row].get(id_key))
                if row > 1 and found:
                    self._ids.setdefault(found, row)
        return self._ids.get(record)


class _Patch:
    def __init__(self, data: bytes, seen: Seen, schema: Schema) -> None:
        self.seen, self.schema, self.locale = seen, schema, seen.locale
        self.package = _Package(data)
        self.sheets: dict[str, _Sheet] = {}  # part name → its edits
        self.grids: dict[str, _Grid] = {}
        self._styles: _Styles | None = None

    def sheet(self, title: str) -> _Sheet:
        part = self.package.part_of(title)
        if part not in self.sheets:
            sheet = _Sheet(self.package.read(part))
            if b"<mergeCell " in sheet.xml:
                raise Unsupported  # the openpyxl path splits merged cells it writes into
            self.sheets[part] = sheet
        return self.sheets[part]

    def styles(self) -> _Styles:
        if self._styles is None:
            self._styles = _Styles(self.package.read(self.package.styles_part()))
        return self._styles

    def grid(self, key: str) -> _Grid:
        if key not in self.grids:
            seen = self.seen.tabs.get(key)
            if seen is None:
                raise Unsupported
            self.grids[key] = _Grid(seen, self.schema.tab(key))
        return self.grids[key]

    def run(self, changes: SheetChanges) -> tuple[bytes, list[str]]:
        skipped = [m for w in _ids_first(changes.writes, self.schema) if (m := self.write(w))]
        for lock in changes.locks:
            self.lock(lock)
        if changes.log:
            self.append_log(changes.log)
        if changes.queues is not None:
            self.queues(changes.queues)
        styles = self._styles
        if styles is not None:
            for sheet in self.sheets.values():
                sheet.resolve_styles(styles)
            rendered = styles.render()
            if rendered is not None:
                self.package.patched[self.package.styles_part()] = rendered
        for part in list(self.sheets):
            self.package.patched[part] = functools.partial(self._render, part)
        return self.package.save(), skipped

    def _render(self, part: str) -> bytes:
        sheet = self.sheets.pop(part)  # its XML is freed once rendered
        return sheet.render(self._styles)

    # -- as workbook._Writer ----------------------------------------------------------------
    def write(self, write: CellWrite) -> str | None:
        grid = self.grid(write.tab)
        header = grid.tab.column(write.column).header[self.locale]
        label = f"{write.record or say(self.locale, 'write_row_label', row=write.row)} {header}"
        row = write.row if write.record is None else grid.row_of(write.record, write.row)
        if row is None:
            return say(self.locale, "write_row_gone", label=label)
        sheet = self.sheet(grid.title)
        col = grid.columns[write.column]
        if sheet.has_formula(row, col):
            raise Unsupported  # openpyxl would compare with the formula's text
        current = stored(grid.value(row, write.column))
        if current == stored(write.value):
            return None
        if current != write.expected:
            return say(self.locale, "write_kept_persons_value", label=label)
        sheet.edit(row, col).value = write.value
        grid.put(row, write.column, write.value)
        if row > DATA_ROWS and grid.tab.key in PROTECTED_TABS:
            self._unlock_people_cells(grid, sheet, row)
        return None

    def _unlock_people_cells(self, grid: _Grid, sheet: _Sheet, row: int) -> None:
        for key, col in grid.columns.items():
            if grid.tab.column(key).owner == "people":
                sheet.edit(row, col).styles.append("unlock_if_plain")
                self.styles()

    def lock(self, lock: CellLock) -> None:
        grid = self.grid(lock.tab)
        row = grid.row_of(lock.record, None)
        if row is None:
            return
        sheet = self.sheet(grid.title)
        sheet.edit(row, grid.columns[lock.column]).styles.append(
            "lock" if lock.locked and not lock.editors else "unlock"  # as WorkbookBook.lock
        )
        self.styles()

    def append_log(self, entries: Sequence[LogEntry]) -> None:
        title = self.seen.log_title
        if title is None:
            raise Unsupported  # the openpyxl path creates the Log tab
        tab = self.schema.tab("log")
        try:
            positions = _positions(self.seen.log_header, tab, self.locale)
        except KeyError:  # as the openpyxl path: the schema's order when headers are odd
            positions = {column.key: index for index, column in enumerate(tab.columns)}
        columns = [positions[column.key] + 1 for column in tab.columns]
        sheet = self.sheet(title)
        last = sheet.last_valued_row()
        for offset, entry in enumerate(entries, start=1):
            for col, value in zip(columns, entry.as_row(), strict=True):
                sheet.edit(last + offset, col).value = value

    def queues(self, views: Sequence[QueueView]) -> None:
        """Rewrite the rows of each queue tab, when the tabs are already the ones wanted."""
        prefix = self.schema.labels.queue_title[self.locale].split("{name}")[0]
        titles = [title for title, _part in self.package.sheets]
        others = [t for t in titles if not t.startswith(prefix)]
        main = [self.schema.tab(key).title[self.locale] for key in MAIN_TABS]
        position = max((others.index(t) for t in main if t in others), default=-1) + 1
        wanted: list[str] = []
        for view in views:
            wanted.append(_unique_title(view.title, others + wanted))
        if others[:position] + wanted + others[position:] != titles:
            raise Unsupported  # tabs to add, remove or move: the openpyxl path does that
        for title, view in zip(wanted, views, strict=True):
            part = self.package.part_of(title)
            sheet = _Sheet(self.package.read(part))
            header = sheet.cells_of(1)
            bold = int(next(iter(header.values()))[0].get(b"s", b"0")) if header else 0
            self.package.patched[part] = _queue_xml(sheet, view, bold)


def _queue_xml(sheet: _Sheet, view: QueueView, bold: int) -> bytes:
    rows = [
        b'<row r="1">'
        + b"".join(_value_xml(1, c, bold, h) for c, h in enumerate(view.headers, start=1))
        + b"</row>"
    ]
    for r, values in enumerate(view.rows, start=2):
        cells = [_value_xml(r, c, 0, v) for c, v in enumerate(values, start=1) if v is not None]
        rows.append(b'<row r="' + str(r).encode() + b'">' + b"".join(cells) + b"</row>")
    xml = sheet.xml
    if sheet.empty_data is not None:
        start, end = sheet.empty_data
    else:
        start = xml.find(b"<sheetData")
        end = sheet.data_span[1] + len(b"</sheetData>")
    head = _frozen_header(xml[:start])
    width = max(len(view.headers), 1)
    last = str(get_column_letter(width)).encode() + str(len(view.rows) + 1).encode()
    match = _DIMENSION.search(head)
    if match is not None:
        head = head[: match.start()] + b'<dimension ref="A1:' + last + b'"/>' + head[match.end() :]
    return head + b"<sheetData>" + b"".join(rows) + b"</sheetData>" + xml[end:]


def _frozen_header(head: bytes) -> bytes:
    """Queue tabs keep their header row frozen (as the openpyxl path makes them)."""
    if b"<pane" in head:
        return head
    view = re.search(rb"<sheetView\b[^>]*?(/?)>", head)
    if view is None:
        raise Unsupported
    pane = b'<pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/>'
    if view.group(1):  # <sheetView .../>
        opened = view.group(0)[:-2].rstrip() + b">"
        return head[: view.start()] + opened + pane + b"</sheetView>" + head[view.end() :]
    return head[: view.end()] + pane + head[view.end() :]


def _positions(header: Sequence[object], tab: Tab, locale: Locale) -> dict[str, int]:
    seen: dict[str, int] = {}
    for index, value in enumerate(header):
        if value is not None:
            seen.setdefault(str(value).strip().casefold(), index)
    return {c.key: seen[c.header[locale].strip().casefold()] for c in tab.columns}


def _unique_title(title: str, taken: Iterable[str]) -> str:
    used = {t.casefold() for t in taken}
    candidate, number = title, 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number})"
        candidate = title[: 31 - len(suffix)] + suffix
    return candidate


def _ids_first(writes: Iterable[CellWrite], schema: Schema) -> list[CellWrite]:
    def assigns_id(write: CellWrite) -> bool:
        return write.record is None and write.column == schema.tab(write.tab).id_column

    return sorted(writes, key=lambda write: not assigns_id(write))


__all__ = ["Seen", "SeenTab", "Unsupported", "fast_apply"]
