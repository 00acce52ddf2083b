"""The `.xlsx` package for the fast write path: its zip parts read, patched ones written back.

What it cannot read (or what openpyxl would write differently) raises `Unsupported`, and the
caller takes openpyxl's full load and save instead.
"""

from __future__ import annotations

import re
import zipfile
from collections.abc import Callable
from io import BytesIO
from posixpath import join, normpath
from xml.etree import ElementTree

from functions.adapters.workbook.read import inline_text

MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG_REL = "http://schemas.openxmlformats.org/package/2006/relationships"


class Unsupported(Exception):
    """Something the fast path does not handle: the openpyxl path takes over."""


class Package:
    """The zip parts, the sheets' titles → part names, and the parts patched so far."""

    def __init__(self, data: bytes) -> None:
        try:
            self.zip = zipfile.ZipFile(BytesIO(data))
            workbook = ElementTree.fromstring(self.zip.read("xl/workbook.xml"))
            rels = ElementTree.fromstring(self.zip.read("xl/_rels/workbook.xml.rels"))
        except (zipfile.BadZipFile, KeyError, ElementTree.ParseError) as exc:
            raise Unsupported from exc
        properties = workbook.find(f"{{{MAIN}}}workbookPr")
        if properties is not None and properties.get("date1904") in ("1", "true"):
            raise Unsupported  # dates counted from 1904 (old Mac Excel): rare, left to openpyxl
        targets = {
            r.get("Id"): r.get("Target", "") for r in rels.iter(f"{{{_PKG_REL}}}Relationship")
        }
        self.sheets: list[tuple[str, str]] = []  # (title, part name) in tab order
        self.states: dict[str, str] = {}  # title → visible, hidden or veryHidden
        for sheet in workbook.iter(f"{{{MAIN}}}sheet"):
            target = targets.get(sheet.get(f"{{{_REL}}}id"))
            if not target:
                raise Unsupported
            part = target.lstrip("/") if target.startswith("/") else normpath(join("xl", target))
            self.sheets.append((sheet.get("name", ""), part))
            self.states[sheet.get("name", "")] = sheet.get("state", "visible")
        self.patched: dict[str, bytes | Callable[[], bytes]] = {}
        self._shared: list[str] | None = None

    def cell_text(self, cell: tuple[dict[bytes, bytes], bytes | None, bytes]) -> str | None:
        """A text cell's text: inline (as openpyxl writes) or shared (as LibreOffice does)."""
        attrs, inner, _element = cell
        kind = attrs.get(b"t")
        if kind == b"s":
            found = re.fullmatch(rb"<v>(\d+)</v>", inner or b"")
            strings = self.shared_strings()
            if found is None or int(found.group(1)) >= len(strings):
                return None
            return strings[int(found.group(1))]
        if kind == b"inlineStr":
            return inline_text(inner)
        return None

    def shared_strings(self) -> list[str]:
        if self._shared is None:
            try:
                root = ElementTree.fromstring(self.zip.read("xl/sharedStrings.xml"))
            except (KeyError, ElementTree.ParseError):
                root = None
            self._shared = (
                []
                if root is None
                else [
                    "".join(t.text or "" for t in si.iter(f"{{{MAIN}}}t"))
                    for si in root.iter(f"{{{MAIN}}}si")
                ]
            )
        return self._shared

    def state_of(self, title: str) -> str | None:
        return self.states.get(title)

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
