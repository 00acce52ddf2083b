"""The supplier invoice the demo drops into its invoices folder: a one-page PDF with text.

Written by hand (a PDF is short text for one page of Helvetica lines) so the demo needs no
PDF-writing library at run time.
"""

from __future__ import annotations

import io

LINES = (
    "Acme Steel GmbH",
    "Industriestrasse 7, 40210 Duesseldorf, Germany",
    "VAT No: DE811234567",
    "INVOICE",
    "Invoice No: A-1017",
    "Invoice Date: 20.11.2026",
    "Bill To: Northwind Trading",
    "Steel beams HEB 200, 2 pcs             1,234.50",
    "Total Due: EUR 1,234.50",
)


def invoice_pdf(lines: tuple[str, ...] = LINES) -> bytes:
    def escaped(line: str) -> str:
        return line.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")

    text = "\n".join(f"({escaped(line)}) Tj 0 -18 Td" for line in lines)
    content = f"BT /F1 11 Tf 60 780 Td\n{text}\nET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
    ]
    return pdf_bytes(objects)


def pdf_bytes(objects: list[bytes]) -> bytes:
    """A one-file PDF from its numbered objects (1 is the catalog): header, xref, trailer."""
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(out.tell())
        out.write(f"{number} 0 obj\n".encode() + body + b"\nendobj\n")
    xref = out.tell()
    out.write(f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode())
    out.writelines(f"{offset:010d} 00000 n \n".encode() for offset in offsets)
    trailer = f"trailer\n<< /Size {len(objects) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
    out.write(trailer.encode())
    return out.getvalue()
