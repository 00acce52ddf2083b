"""Supplier invoices as real PDFs (fpdf2), for the invoices folder tests and the demo.

A Russian "Счёт на оплату" in its usual layout, a common English invoice, a scan (an image
only, no text layer), a password-protected PDF and a corrupt one. Cyrillic needs a Unicode
font: DejaVu Sans (Debian's fonts-dejavu-core, installed by .ci/run).
"""

from __future__ import annotations

import zlib
from pathlib import Path

from fpdf import FPDF

from functions.demo.invoice import pdf_bytes

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def _pdf() -> FPDF:
    pdf = FPDF()
    pdf.add_page()
    pdf.add_font("DejaVu", fname=str(FONT))
    pdf.set_font("DejaVu", size=11)
    return pdf


def _lines(pdf: FPDF, lines: list[str]) -> bytes:
    for line in lines:
        pdf.cell(0, 7, line, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def russian_invoice(number: str = "47", day: str = "15 ноября 2026 г.") -> bytes:
    return _lines(
        _pdf(),
        [
            'ООО "Ромашка"',
            "ИНН 7701234567 КПП 770101001",
            "Банк получателя: ПАО Сбербанк г. Москва, БИК 044525225",
            f"Счёт на оплату № {number} от {day}",
            'Поставщик (Исполнитель): ООО "Ромашка", ИНН 7701234567, КПП 770101001,'
            " 101000, Москва, ул. Мясницкая, д. 1",
            'Покупатель (Заказчик): ООО "Нордвинд", ИНН 7807654321',
            "№  Товары (работы, услуги)     Кол-во  Ед.  Цена       Сумма",
            "1  Бумага офисная А4           50      пач. 250,00     12 500,00",
            "Итого: 12 500,00",
            "В том числе НДС (20%): 2 083,33",
            "Всего к оплате: 12 500,00",
            "Всего наименований 1, на сумму 12 500,00 руб.",
            "Двенадцать тысяч пятьсот рублей 00 копеек",
        ],
    )


def english_invoice(number: str = "INV-2026-0042") -> bytes:
    return _lines(
        _pdf(),
        [
            "Acme Supplies Ltd",
            "12 Harbour Road, Bristol BS1 4XX, United Kingdom",
            "VAT No: GB123456789",
            "INVOICE",
            f"Invoice No: {number}",
            "Invoice Date: November 14, 2026",
            "Bill To: Northwind GmbH, Berliner Str. 5, Berlin",
            "Description                 Qty   Unit price   Amount",
            "Steel brackets              100   9.50         950.00",
            "Subtotal: 950.00",
            "VAT 20%: 190.00",
            "Total Due: EUR 1,140.00",
        ],
    )


def scanned_invoice() -> bytes:
    """A page holding one grey image and no text: what a scanner without OCR makes."""
    pixels = zlib.compress(bytes([200]) * (40 * 40))
    stream = (
        b"<< /Type /XObject /Subtype /Image /Width 40 /Height 40 /ColorSpace /DeviceGray"
        b" /BitsPerComponent 8 /Filter /FlateDecode /Length " + str(len(pixels)).encode() + b" >>"
    )
    content = b"q 400 0 0 400 100 300 cm /Im0 Do Q"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R"
        b" /Resources << /XObject << /Im0 5 0 R >> >> >>",
        b"<< /Length " + str(len(content)).encode() + b" >>\nstream\n" + content + b"\nendstream",
        stream + b"\nstream\n" + pixels + b"\nendstream",
    ]
    return pdf_bytes(objects)


def protected_invoice() -> bytes:
    pdf = _pdf()
    pdf.set_encryption(owner_password="owner", user_password="secret")
    return _lines(pdf, ["Invoice No: SECRET-1", "Total Due: EUR 10.00"])


def corrupt_invoice() -> bytes:
    return b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n" + b"\x00garbage" * 50
