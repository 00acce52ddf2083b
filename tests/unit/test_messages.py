"""Every Note sentence exists in every locale with the same placeholders."""

from __future__ import annotations

import string

import pytest

from functions.schema import LOCALES
from functions.text.messages import catalogue, say
from tests.builders import invoice, step


def placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(catalogue()))
def test_every_message_exists_in_every_locale_with_the_same_placeholders(key: str) -> None:
    texts = catalogue()[key]
    assert set(texts) == set(LOCALES)
    assert placeholders(texts["en"]) == placeholders(texts["ru"])


def test_russian_books_get_russian_notes() -> None:
    from functions.invoice_flow import plan_invoice
    from functions.model import SheetRow
    from tests.builders import context

    out = plan_invoice(
        "INV-000001", SheetRow(2, invoice(amount="abc", signer=None)), None, context(locale="ru")
    )
    assert "Сумма «abc» — не число" in (out.note or "")
    assert "Выберите подписанта (директор)" in (out.note or "")


def test_english_is_the_fallback_and_fields_are_filled() -> None:
    assert say("de", "fill_in", fields="Amount") == "Fill in: Amount"
    assert step(invoice(amount=None)).note == "Fill in: Amount"
