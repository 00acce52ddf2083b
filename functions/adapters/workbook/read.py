"""Reading a worksheet's values fast: the rows a tick reads, as openpyxl's `iter_rows` gives.

openpyxl's read-only parser builds an XML element per cell and (for inline strings, the kind
openpyxl writes) a rich-text object: at ten thousand rows that is most of a tick's time.
`values_by_row` scans the sheet's XML with regular expressions instead, with the same
rules for every kind of cell (shared and inline strings, numbers, dates by their number
format, booleans, errors, formulas' cached values). A sheet it does not expect (namespace
prefixes, CDATA, comments) goes through openpyxl's parser. bench/check_workbook_fast.py and
tests/integration/test_workbook_read.py compare both on every tab.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from typing import Any
from warnings import warn

from openpyxl.utils.cell import column_index_from_string, coordinate_to_tuple
from openpyxl.utils.datetime import from_excel, from_ISO8601
from openpyxl.worksheet._read_only import ReadOnlyWorksheet
from openpyxl.worksheet._reader import WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from functions.model import Cell

Sheet = Any  # an openpyxl read-only worksheet

_ROW = re.compile(rb"<row\b([^>]*?)(?:/>|>(.*?)</row>)", re.S)
_CELL = re.compile(rb"<c\b([^>]*?)(?:/>|>(.*?)</c>)", re.S)
_ATTR = re.compile(rb'\s([A-Za-z:]+)\s*=\s*(?:"([^"]*)"|\'([^\']*)\')')
_VALUE = re.compile(rb"<v\b[^>]*?(?:/>|>(.*?)</v>)", re.S)
_INLINE_STRING = re.compile(rb"<is\b[^>]*?(?:/>|>(.*?)</is>)", re.S)
_PHONETIC = re.compile(rb"<rPh\b.*?</rPh>|<phoneticPr\b[^>]*>", re.S)
_TEXTS = re.compile(rb"<t\b[^>]*?(?:/>|>(.*?)</t>)", re.S)
_ENTITY = re.compile(r"&(?:#(\d+)|#x([0-9A-Fa-f]+)|(amp|lt|gt|quot|apos));")
_NAMED = {"amp": "&", "lt": "<", "gt": ">", "quot": '"', "apos": "'"}
# The usual cell shapes, read without building an attribute dict (most of a read's time).
_COMMON = re.compile(rb' r="([A-Z]{1,3})\d+"(?: s="(\d+)")?(?: t="([A-Za-z]+)")?\s*')
_PLAIN_INLINE = re.compile(rb'<is><t(?: xml:space="preserve")?>([^<]*)</t></is>')
_PLAIN_VALUE = re.compile(rb"<v>([^<&]*)</v>")
_OTHER = object()
_COLUMNS: dict[bytes, int] = {}
_UNEXPECTED = (b"<![CDATA[", b"<!--", b"<?")  # inside sheetData: left to openpyxl's parser


def values_by_row(ws: Sheet) -> Iterator[Sequence[Cell]]:
    """`ws.iter_rows(values_only=True)` of a read-only sheet without dimensions, faster."""
    if not isinstance(ws, ReadOnlyWorksheet):
        yield from ws.iter_rows(values_only=True)
        return
    with ws._get_source() as source:
        xml = source.read()
    start, end = xml.find(b"<sheetData"), xml.rfind(b"</sheetData>")
    if start < 0 or end < 0 or any(xml.find(m, start, end) >= 0 for m in _UNEXPECTED):
        yield from _openpyxl_rows(ws)
        return
    book = ws.parent
    cells = _Cells(ws._shared_strings, book._date_formats, book._timedelta_formats, book.epoch)
    yield from _as_rows(cells.rows(xml, start, end))


def _as_rows(parsed: Iterator[tuple[int, list[tuple[int, Cell]]]]) -> Iterator[Sequence[Cell]]:
    """Rows numbered from 1, gaps filled with empty rows, as openpyxl's iter_rows yields."""
    counter = 1
    for number, cells in parsed:
        while counter < number:  # rows missing from the file read as empty
            counter += 1
            yield ()
        if counter > number:
            continue
        counter += 1
        if not cells:
            yield ()
            continue
        width = cells[-1][0]
        values: list[Cell] = [None] * width
        for column, value in cells:
            if 1 <= column <= width:
                values[column - 1] = value
        yield tuple(values)


class _Cells:
    """openpyxl's `WorkSheetParser.parse_row` and `parse_cell` (data only), on the XML text."""

    def __init__(self, shared: Sequence[str], dates: Any, durations: Any, epoch: Any) -> None:
        self.shared, self.dates, self.durations, self.epoch = shared, dates, durations, epoch

    def rows(
        self, xml: bytes, start: int, end: int
    ) -> Iterator[tuple[int, list[tuple[int, Cell]]]]:
        row_counter = 0
        for row in _ROW.finditer(xml, start, end):
            attrs = _attrs(row.group(1))
            number = attrs.get("r")
            row_counter = _row_number(number) if number is not None else row_counter + 1
            col_counter = 0
            cells: list[tuple[int, Cell]] = []
            for cell in _CELL.finditer(row.group(2) or b""):
                common = _COMMON.fullmatch(cell.group(1))
                if common is not None:  # r, s, t in the order openpyxl and LibreOffice write
                    letters, style, kind = common.groups()
                    col_counter = _column(letters)
                    value = self.common(style, kind, cell.group(2))
                    if value is not _OTHER:
                        cells.append((col_counter, value))
                        continue
                cell_attrs = _attrs(cell.group(1))
                ref = cell_attrs.get("r")
                if ref:
                    col_counter = coordinate_to_tuple(ref)[1]
                else:
                    col_counter += 1
                cells.append((col_counter, self.value(cell_attrs, cell.group(2))))
            yield row_counter, cells

    def common(self, style: bytes | None, kind: bytes | None, inner: bytes | None) -> Any:
        """The value of a cell of the usual shapes, or _OTHER (then `value` decides)."""
        if inner is None:
            return None
        if kind == b"inlineStr":
            text = _PLAIN_INLINE.fullmatch(inner)
            return _OTHER if text is None else _text(text.group(1))
        number = _PLAIN_VALUE.fullmatch(inner)
        if number is None:
            return _OTHER
        if kind is None or kind == b"n":
            if style is not None and int(style) in self.dates:
                return _OTHER
            return _cast_number(number.group(1).decode()) if number.group(1) else None
        if kind == b"s" and number.group(1):
            return self.shared[int(number.group(1))]
        return _OTHER

    def value(self, attrs: dict[str, str], inner: bytes | None) -> Cell:
        kind = attrs.get("t", "n")
        if kind == "inlineStr":
            return inline_text(inner)
        found = _VALUE.search(inner or b"")
        text = _text(found.group(1) or b"") if found is not None else ""
        if not text:
            return None
        if kind == "n":
            number = _cast_number(text)
            style = int(attrs.get("s") or 0)
            if style in self.dates:
                try:
                    return from_excel(  # type: ignore[no-any-return]
                        number, self.epoch, timedelta=style in self.durations
                    )
                except (OverflowError, ValueError):
                    warn(
                        f"Cell {attrs.get('r')} is marked as a date but the serial value"
                        f" {number} is outside the limits for dates.",
                        stacklevel=2,
                    )
                    return "#VALUE!"
            return number
        if kind == "s":
            return self.shared[int(text)]
        if kind == "b":
            return bool(int(text))
        if kind == "d":
            return from_ISO8601(text)  # type: ignore[no-any-return]
        return text  # str (a formula's text result), e (an error), or an unknown kind


def inline_text(inner: bytes | None) -> str | None:
    """An inline string's text: its runs joined, phonetic hints left out (openpyxl's rule)."""
    found = _INLINE_STRING.search(inner or b"")
    if found is None:
        return None
    body = _PHONETIC.sub(b"", found.group(1) or b"")
    return "".join(_text(t.group(1) or b"") for t in _TEXTS.finditer(body))


def _column(letters: bytes) -> int:
    found = _COLUMNS.get(letters)
    if found is None:
        found = _COLUMNS[letters] = column_index_from_string(letters.decode())
    return found


def _attrs(raw: bytes) -> dict[str, str]:
    return {
        key.decode(): _text(double if double or not single else single)
        for key, double, single in _ATTR.findall(b" " + raw)
    }


def _row_number(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        value = float(text)
        if not value.is_integer():
            raise ValueError(f"{text} is not a valid row number") from None
        return int(value)


def _cast_number(value: str) -> int | float:
    if "." in value or "E" in value or "e" in value:
        return float(value)
    return int(value)


def _text(raw: bytes) -> str:
    """XML character data as a parser gives it: line ends normalised, references resolved."""
    text = raw.decode("utf-8")
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "&" in text:
        text = _ENTITY.sub(_entity, text)
    return text


def _entity(match: re.Match[str]) -> str:
    decimal, hexadecimal, name = match.groups()
    if name:
        return _NAMED[name]
    return chr(int(decimal) if decimal else int(hexadecimal, 16))


_INLINE, _TEXT, _RUN = (f"{{{SHEET_MAIN_NS}}}{tag}" for tag in ("is", "t", "r"))


class _SheetParser(WorkSheetParser):  # type: ignore[misc]
    """openpyxl's sheet parser, but an inline string's value is taken as its text directly.

    openpyxl first builds a rich-text object for every inline-string cell (the kind openpyxl
    itself writes) and then joins its texts: most of the time of reading a 10k-row tab. The
    value is the same: the plain `<t>` text followed by each run's `<t>` text.
    """

    def parse_cell(self, element: Any) -> dict[str, Any]:
        if element.get("t") != "inlineStr" or not self.data_only or self.rich_text:
            return super().parse_cell(element)  # type: ignore[no-any-return]
        coordinate = element.get("r")
        style_id = element.get("s", 0)
        if style_id:
            style_id = int(style_id)
        if coordinate:
            row, column = coordinate_to_tuple(coordinate)
            self.col_counter = column
        else:
            self.col_counter += 1
            row, column = self.row_counter, self.col_counter
        value, data_type = None, "inlineStr"
        child = element.find(_INLINE)
        if child is not None:
            texts = [child.findtext(_TEXT) or ""]
            texts += [run.findtext(_TEXT) or "" for run in child.findall(_RUN)]
            value, data_type = "".join(texts), "s"
        return {
            "row": row,
            "column": column,
            "value": value,
            "data_type": data_type,
            "style_id": style_id,
        }


def _openpyxl_rows(ws: Sheet) -> Iterator[Sequence[Cell]]:
    """The rows through openpyxl's own parser (with the inline-string shortcut above)."""
    book = ws.parent
    with ws._get_source() as source:
        parser = _SheetParser(
            source,
            ws._shared_strings,
            data_only=book.data_only,
            epoch=book.epoch,
            date_formats=book._date_formats,
            timedelta_formats=book._timedelta_formats,
        )
        parsed = ((n, [(c["column"], c["value"]) for c in cells]) for n, cells in parser.parse())
        yield from _as_rows(parsed)
