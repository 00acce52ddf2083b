"""The cell formats of an `.xlsx` (styles.xml's cellXfs), as the fast write path changes them.

A cell's look and lock live in one `<xf>` it points at; to lock a cell or give it a number
format, the fast path points it at a variant of its xf (an identical one if the book has it,
else one appended), judging "styled" exactly as openpyxl's `cell.has_style` does.
"""

from __future__ import annotations

import re
from typing import Any
from xml.etree import ElementTree

from openpyxl.styles.numbers import BUILTIN_FORMATS_REVERSE

from functions.adapters.workbook.package import MAIN, Unsupported
from functions.adapters.workbook.xml import ATTR, escape

FORMAT = "format:"  # the style op giving a cell a number format: "format:" + its code


class Styles:
    """cellXfs of styles.xml: openpyxl's `has_style`, and variants with another protection or
    number format (numFmts gains the formats the book does not have yet).

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
        self.formats: dict[str, str] = {}  # format code → numFmtId, the book's own formats
        for found in re.finditer(rb"<numFmt\b[^>]*>", xml):
            attrs = dict(ATTR.findall(found.group(0)))
            code = ElementTree.fromstring(found.group(0).rstrip(b"/>") + b"/>").get("formatCode")
            number = attrs.get(b"numFmtId", b"").decode()
            if code in BUILTIN_FORMATS_REVERSE:
                self.builtin[number] = str(BUILTIN_FORMATS_REVERSE[code])
            if code is not None and number.isdigit():
                self.formats.setdefault(code, number)
        self.added: list[bytes] = []
        self.added_formats: list[tuple[str, str]] = []  # (numFmtId, format code)
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
        """The xf of a cell with xf `index` after `op`: lock, unlock, unlock_if_plain, or
        `format:CODE` (openpyxl's `cell.number_format = CODE`)."""
        key = (index, op)
        if key not in self._variants:
            self._variants[key] = self._make_variant(index, op)
        return self._variants[key]

    def _make_variant(self, index: int, op: str) -> int:
        element = self._element(index)
        if op.startswith(FORMAT):
            return self._with_format(index, element, op.removeprefix(FORMAT))
        if op == "unlock_if_plain":
            if self.has_style(element):
                return index
            op = "unlock"
        locked = op == "lock"
        attrs = dict(element.attrib)
        children = [c for c in element if _local(c.tag) not in ("alignment", "protection")]
        alignment = element.find(f"{{{MAIN}}}alignment")
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
        return self._index_of(b"".join(parts))

    def _with_format(self, index: int, element: ElementTree.Element, code: str) -> int:
        number = self.format_id(code)
        if index != -1 and element.get("numFmtId", "0") == number:
            return index
        attrs = {**element.attrib, "numFmtId": number, "applyNumberFormat": "1"}
        parts = [b"<xf", *(_attr(k, v) for k, v in attrs.items())]
        children = [_plain_xml(c) for c in element]
        parts += [b">", *children, b"</xf>"] if children else [b"/>"]
        return self._index_of(b"".join(parts))

    def format_id(self, code: str) -> str:
        """The numFmtId of a format code: builtin, the book's own, or one added (from 164)."""
        if code in BUILTIN_FORMATS_REVERSE:
            return str(BUILTIN_FORMATS_REVERSE[code])
        if code not in self.formats:
            taken = [int(n) for n in self.formats.values()]
            self.formats[code] = str(max([163, *taken]) + 1)
            self.added_formats.append((self.formats[code], code))
        return self.formats[code]

    def _index_of(self, xml: bytes) -> int:
        every = self.xfs + self.added
        for existing, candidate in enumerate(every):  # an identical xf may already exist
            if _same_xf(candidate, xml):
                return existing
        self.added.append(xml)
        return len(every)

    def render(self) -> bytes | None:
        if not self.added and not self.added_formats:
            return None
        start, end = self.span
        body = self.xml[start:end] + b"".join(self.added)
        head = re.sub(
            rb'(<cellXfs\b[^>]*?\bcount=")\d+(")',
            lambda m: m.group(1) + str(len(self.xfs) + len(self.added)).encode() + m.group(2),
            self.xml[:start],
        )
        return self._with_formats(head) + body + self.xml[end:]

    def _with_formats(self, head: bytes) -> bytes:
        """numFmts (before cellXfs in styles.xml) with the added formats at its end."""
        if not self.added_formats:
            return head
        added = b"".join(
            b"<numFmt" + _attr("numFmtId", n) + _attr("formatCode", c) + b"/>"
            for n, c in self.added_formats
        )
        found = re.search(rb"<numFmts\b([^>]*?)(/?)>", head)
        if found is None:
            if b"<numFmts" in self.xml:
                raise Unsupported  # numFmts after cellXfs: not a layout we patch
            sheet = re.search(rb"<styleSheet\b[^>]*>", head)
            if sheet is None:
                raise Unsupported
            wrapped = b'<numFmts count="%d">' % len(self.added_formats) + added + b"</numFmts>"
            return head[: sheet.end()] + wrapped + head[sheet.end() :]
        count = len(re.findall(rb"<numFmt\b", head)) + len(self.added_formats)
        attrs = re.sub(rb'\s*\bcount="\d*"', b"", found.group(1))
        opened = b"<numFmts" + attrs + b' count="%d">' % count
        if found.group(2):  # <numFmts/>: empty
            return head[: found.start()] + opened + added + b"</numFmts>" + head[found.end() :]
        close = head.find(b"</numFmts>", found.end())
        if close < 0:
            raise Unsupported
        return head[: found.start()] + opened + head[found.end() : close] + added + head[close:]


def _xf_element(xml: bytes) -> ElementTree.Element:
    """One `<xf>` of cellXfs, parsed in the main namespace it was written in."""
    return ElementTree.fromstring(xml.replace(b"<xf", b'<xf xmlns="' + MAIN.encode() + b'"', 1))


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _attr(key: str, value: str) -> bytes:
    return b" " + key.encode() + b'="' + escape(value, attribute=True) + b'"'


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
        + escape(element.text or "")
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
