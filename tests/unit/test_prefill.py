"""Invoice fields from PDF text: the Russian "Счёт на оплату" and common English invoices."""

from __future__ import annotations

import pytest

from functions.invoices.prefill import read_invoice

RUSSIAN = """ООО "Ромашка"
ИНН 7701234567 КПП 770101001
Счёт на оплату № 128/А от «3» декабря 2026 г.
Поставщик: ООО "Ромашка", ИНН 7701234567, КПП 770101001, Москва
Покупатель: ООО "Нордвинд", ИНН 7807654321
Итого: 1 250,00
Всего к оплате: 1 500,50
Всего наименований 2, на сумму 1 500,50 руб."""


def test_a_russian_invoice_gives_its_number_date_supplier_inn_total_and_roubles() -> None:
    found = read_invoice(RUSSIAN)
    assert found.values == {
        "invoice_no": "128/А",
        "invoice_date": "2026-12-03",
        "supplier": 'ООО "Ромашка"',
        "amount": 1500.5,
        "currency": "RUB",
    }
    assert (found.tax_id, found.layout) == ("7701234567", "ru")


def test_the_buyers_inn_is_never_taken_for_the_suppliers() -> None:
    text = RUSSIAN.replace('Поставщик: ООО "Ромашка", ИНН 7701234567,', "Поставщик: ИП Петров,")
    text = text.replace("ИНН 7701234567 КПП", "КПП")
    found = read_invoice(text)
    assert (found.tax_id, found.values["supplier"]) == (None, "ИП Петров")


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Счёт на оплату № 5 от 01.02.2026", "2026-02-01"),
        ("Счет на оплату №5 от 2026-02-01", "2026-02-01"),
        ("СЧЁТ НА ОПЛАТУ № 5 от 1 мая 2026 г.", "2026-05-01"),
        ("Счёт № 5 от 31 марта 2026", "2026-03-31"),
    ],
)
def test_russian_dates_in_every_usual_spelling(line: str, expected: str) -> None:
    assert read_invoice(line).values["invoice_date"] == expected


@pytest.mark.parametrize(
    ("text", "amount", "currency"),
    [
        ("INVOICE\nInvoice #: 77\nSubtotal: $90.00\nTotal: $100.00", 100.0, "USD"),
        ("Invoice\nInvoice number 77\nTotal 1.000,00 EUR\nAmount due: 1.190,00 EUR", 1190.0, "EUR"),
        ("INVOICE\nInvoice No. 77\nBalance due £2,500.00", 2500.0, "GBP"),
    ],
)
def test_english_totals_prefer_the_amount_due_and_find_the_currency(
    text: str, amount: float, currency: str
) -> None:
    found = read_invoice(text)
    assert (found.values["amount"], found.values["currency"]) == (amount, currency)
    assert found.values["invoice_no"] == "77"


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("Invoice Date: 14 Nov 2026", "2026-11-14"),
        ("Invoice date: November 4th, 2026", "2026-11-04"),
        ("Date of issue: 2026-11-14", "2026-11-14"),
        ("Invoice Date: 14/11/2026", "2026-11-14"),
    ],
)
def test_english_dates(line: str, expected: str) -> None:
    assert read_invoice("INVOICE\n" + line).values["invoice_date"] == expected


def test_an_impossible_date_is_left_blank_rather_than_guessed() -> None:
    assert "invoice_date" not in read_invoice("INVOICE\nInvoice Date: 31.02.2026").values


def test_text_that_is_no_invoice_gives_nothing() -> None:
    found = read_invoice("Minutes of the board meeting\nTotal attendance: 5")
    assert (found.values, found.tax_id, found.layout) == ({}, None, "")


def test_a_supplier_line_wins_over_the_first_line() -> None:
    found = read_invoice("Page 1 of 2\nINVOICE\nSupplier: Baltic Paper AS\nInvoice No: 9")
    assert found.values["supplier"] == "Baltic Paper AS"
