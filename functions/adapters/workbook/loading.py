"""Loading and saving a workbook with openpyxl, its formulas' last results kept.

openpyxl writes formulas without their computed values, so until a person reopened the file
the next read (data_only) would see None where Paid % was: `with_cached_values` puts the last
values back into the saved file.
"""

from __future__ import annotations

import re
import warnings
import zipfile
from datetime import date, datetime, time, timedelta
from io import BytesIO
from typing import Any

from openpyxl import load_workbook
from openpyxl.utils.datetime import to_excel

Sheet = Any  # openpyxl is untyped: a Worksheet
Book = Any  # an openpyxl Workbook


def workbook_bytes(wb: Book) -> bytes:
    buffer = BytesIO()
    wb.save(buffer)
    return buffer.getvalue()


CachedValues = dict[str, dict[str, tuple[str, str]]]  # tab title → cell → (t attribute, text)
_FORMULA_CELL = re.compile(
    r'<c r="([A-Z]+[0-9]+)"([^>]*)>(<f[^>]*>[^<]*</f>|<f[^>]*/>)(?:<v\s*/>|<v></v>)</c>'
)


def load(data: bytes, *, read_only: bool, data_only: bool) -> Book:
    with warnings.catch_warnings():
        # Files saved by Excel or LibreOffice carry extensions openpyxl warns about and drops.
        warnings.simplefilter("ignore", UserWarning)
        return load_workbook(BytesIO(data), read_only=read_only, data_only=data_only)


def existing_cells(ws: Sheet) -> list[tuple[tuple[int, int], Any]]:
    """Existing cells only: openpyxl's public iterators create a cell for every gap."""
    return list(ws._cells.items())


def cached_values(wb: Book, data: bytes) -> CachedValues:
    """The last computed value of every formula cell in `wb` (loaded from `data`)."""
    formulas = {
        ws.title: {cell.coordinate for _key, cell in existing_cells(ws) if cell.data_type == "f"}
        for ws in wb.worksheets
    }
    formulas = {title: cells for title, cells in formulas.items() if cells}
    values: CachedValues = {}
    if not formulas:
        return values
    computed = load(data, read_only=True, data_only=True)
    try:
        for title, coordinates in formulas.items():
            found = values.setdefault(title, {})
            for row in computed[title].iter_rows():
                for cell in row:
                    coordinate: str = getattr(cell, "coordinate", "")
                    if coordinate in coordinates:
                        encoded = encode_cached(cell.value, cell.data_type, computed.epoch)
                        if encoded is not None:
                            found[coordinate] = encoded
    finally:
        computed.close()
    return values


def encode_cached(value: object, data_type: str, epoch: datetime) -> tuple[str, str] | None:
    """A formula's last value as it is stored in the sheet XML: (t attribute, text)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "b", "1" if value else "0"
    if isinstance(value, int | float):
        return "", repr(value)
    if isinstance(value, datetime | date | time | timedelta):
        return "", repr(to_excel(value, epoch))
    escaped = str(value).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return ("e" if data_type == "e" else "str"), escaped


def with_cached_values(data: bytes, wb: Book, cached: CachedValues) -> bytes:
    """Put formulas' last values back into a workbook openpyxl just saved as `data`."""
    parts = {
        wb[title].path.lstrip("/"): values
        for title, values in cached.items()
        if values and title in wb.sheetnames
    }
    if not parts:
        return data
    out = BytesIO()
    with (
        zipfile.ZipFile(BytesIO(data)) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename in parts:
                body = _fill_values(body.decode("utf-8"), parts[info.filename]).encode("utf-8")
            target.writestr(info, body)
    return out.getvalue()


def _fill_values(xml: str, values: dict[str, tuple[str, str]]) -> str:
    def fill(match: re.Match[str]) -> str:
        coordinate, attributes, formula = match.group(1), match.group(2), match.group(3)
        found = values.get(coordinate)
        if found is None or ' t="' in attributes:
            return match.group(0)
        kind, text = found
        kind_attr = f' t="{kind}"' if kind else ""
        return f'<c r="{coordinate}"{attributes}{kind_attr}>{formula}<v>{text}</v></c>'

    return _FORMULA_CELL.sub(fill, xml)
