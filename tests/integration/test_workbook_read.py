"""The workbook's own sheet reader gives exactly what openpyxl's `iter_rows` gives.

A tick reads Invoices and Deals with `workbook_read.values_by_row` (a scan of the sheet's
XML, several times faster than openpyxl's parser). Here a sheet holds every kind of cell a
person's office program or openpyxl may write, and both readers must agree on each value.
"""

from __future__ import annotations

import io
import re
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from functions.adapters.workbook.read import values_by_row

ROWS = (
    b'<row r="1">'
    b'<c r="A1" t="inlineStr"><is><t xml:space="preserve"> a &amp; b &lt;c&gt; &quot;q&quot;'
    b" &#13;&#10;x\r\ny\rz &#x41; </t></is></c>"
    b'<c r="B1" t="inlineStr"><is><r><rPr><b/></rPr><t>bo</t></r><r><t>ld</t></r>'
    b'<rPh sb="0" eb="1"><t>phonetic</t></rPh></is></c>'
    b'<c r="C1" t="inlineStr"><is><t>plain</t><r><t> and a run</t></r></is></c>'
    b'<c r="D1" t="b"><v>1</v></c><c r="E1" t="e"><v>#N/A</v></c>'
    b'<c r="F1" t="str"><f>A1&amp;"x"</f><v>a &amp; text result</v></c>'
    b'<c r="G1"><f>1+1</f><v>2</v></c><c r="H1" s="1"><v>46297</v></c>'
    b'<c r="I1" s="2"><v>1.25</v></c><c r="J1" t="d"><v>2026-10-02T00:00:00</v></c>'
    b'<c r="K1"><v>1.5E3</v></c><c r="L1"><v></v></c><c r="M1" s="3"/>'
    b'<c r="N1" t="n"><v>-7</v></c><c r="O1" s="1"><f>TODAY()</f><v>46300.5</v></c>'
    b"</row>"
    b'<row r="3" spans="1:4" ht="20" customHeight="1">'
    b'<c t="inlineStr" r="B3"><is><t>attributes in another order</t></is></c>'
    b"<c r='C3'><v>5</v></c><c><v>6</v></c>"
    b'<c r="E3" t="inlineStr"><is><t/></is></c><c r="F3" t="inlineStr"/>'
    b"</row>"
    b'<row><c r="A4" t="inlineStr"><is><t>a row without its number</t></is></c></row>'
    b'<row r="7"/>'
    b'<row r="9"><c r="AB9" s="1"><v>46297.25</v></c><c r="AC9" s="2"><v>0.5</v></c></row>'
)


def _book(tmp_path: Path) -> Path:
    """A book whose style 1 is a date, 2 a duration ([h]:mm), 3 a plain bold font."""
    wb = openpyxl.Workbook()
    ws = wb.active
    ws["A1"] = datetime(2026, 1, 1)
    ws["A1"].number_format = "DD.MM.YYYY"
    ws["B1"] = timedelta(hours=1)
    ws["B1"].number_format = "[h]:mm"
    ws["C1"] = "x"
    ws["C1"].font = openpyxl.styles.Font(bold=True)
    buffer = io.BytesIO()
    wb.save(buffer)
    out = io.BytesIO()
    with (
        zipfile.ZipFile(buffer) as source,
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            body = source.read(info)
            if info.filename == "xl/worksheets/sheet1.xml":
                body = re.sub(
                    rb"<sheetData>.*</sheetData>",
                    b"<sheetData>" + ROWS + b"</sheetData>",
                    body,
                    flags=re.S,
                )
                body = re.sub(rb'<dimension ref="[^"]*"/>', b'<dimension ref="A1:AC9"/>', body)
            target.writestr(info, body)
    path = tmp_path / "kinds.xlsx"
    path.write_bytes(out.getvalue())
    return path


def _both(path: Path) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        ws = book.active
        ws.reset_dimensions()
        ours = [tuple(row) for row in values_by_row(ws)]
        ws.reset_dimensions()
        theirs = [tuple(row) for row in ws.iter_rows(values_only=True)]
    finally:
        book.close()
    return ours, theirs


def test_every_kind_of_cell_reads_as_openpyxl_reads_it(tmp_path: Path) -> None:
    ours, theirs = _both(_book(tmp_path))
    assert ours == theirs
    first = ours[0]
    assert first[0] == ' a & b <c> "q" \r\nx\ny\nz A '  # references kept, line ends normalised
    assert first[1:3] == ("bold", "plain and a run")  # runs joined, phonetic hints left out
    assert first[7] == datetime(2026, 10, 2)
    assert first[8] == timedelta(hours=30)
    assert ours[2][1:3] == ("attributes in another order", 5)
    assert ours[2][3] == 6
    assert len(ours) == 9
    assert ours[6] == ()


def test_a_sheet_with_an_xml_comment_among_its_rows_goes_through_openpyxl(tmp_path: Path) -> None:
    path = _book(tmp_path)
    data = path.read_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        parts = {info.filename: source.read(info) for info in source.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"]
    parts["xl/worksheets/sheet1.xml"] = sheet.replace(b"<sheetData>", b"<sheetData><!-- a note -->")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as target:
        for name, body in parts.items():
            target.writestr(name, body)
    path.write_bytes(out.getvalue())
    ours, theirs = _both(path)
    assert ours == theirs
    assert ours[0][1] == "bold"
