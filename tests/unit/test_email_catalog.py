"""Every text of every email has its Russian in the gettext catalog (Babel + Jinja2 i18n)."""

from __future__ import annotations

import re

import pytest
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

from functions.notify import TEMPLATE_NAMES, EmailRenderer
from functions.text.catalog import DEFAULT_TEMPLATES_DIR, catalog_path
from tests.unit.test_notify import SENT_AT, invoice, make_intent, parse, parts, render

METHODS = [("**.j2", "jinja2"), ("**.html", "jinja2"), ("**.txt", "jinja2")]
OPTIONS = {"**.j2": {"extensions": "jinja2.ext.i18n"}}
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def template_texts() -> set[str]:
    """What `make catalog` extracts: every `_()` in the templates."""
    found = extract_from_dir(str(DEFAULT_TEMPLATES_DIR), METHODS, options_map=OPTIONS)
    return {message for _, _, message, _, _ in found if isinstance(message, str)}


def catalog(locale: str) -> Catalog:
    with catalog_path(DEFAULT_TEMPLATES_DIR, locale).open("rb") as handle:
        return read_po(handle, locale=locale)


def test_the_templates_have_texts_to_translate() -> None:
    assert len(template_texts()) > 30


def test_every_email_text_has_a_russian_translation_that_is_not_fuzzy() -> None:
    ru = catalog("ru")
    missing = sorted(
        text for text in template_texts() if not (m := ru.get(text)) or not m.string or m.fuzzy
    )
    assert not missing, f"add these to {catalog_path(DEFAULT_TEMPLATES_DIR, 'ru')}: {missing}"


def test_the_catalog_holds_no_text_the_templates_no_longer_use() -> None:
    stale = {m.id for m in catalog("ru") if m.id} - template_texts()
    assert not stale


def test_every_translation_keeps_the_placeholders_of_its_english_text() -> None:
    for message in catalog("ru"):
        if not message.id or message.id == "Dear %(name)s,":
            continue  # "Уважаемые коллеги!" greets a supplier without its name, as Russians write
        assert set(PLACEHOLDER.findall(str(message.id))) == set(
            PLACEHOLDER.findall(str(message.string))
        ), message.id


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_a_russian_email_has_no_english_sentence_left(template: str) -> None:
    context = None
    if template == "deal_payment":
        context = {
            "company": "Acme",
            "recipient_name": "Дана",
            "currency": "RUB",
            "deal": {
                "id": "D-1",
                "deal": "Поставка",
                "manager": "Майк",
                "stage": "Оплата",
                "amount": "20000",
                "paid": "6 000.00",
                "change": "6 000.00",
                "pct": "30",
                "previous_pct": "0",
                "order_no": "З-1",
                "invoice_no": "С-1",
                "direction": "increase",
            },
        }
    text, html = parts(parse(render(make_intent(template, context=context), "ru")))
    for typed in (*invoice().values(), "Acme Trading", "Dana Director"):
        text = text.replace(typed, "")
    english = re.compile(r"\b(Hello|Invoice|Please|sent|Amount|Supplier|Manager|Deal|Paid|Kind)\b")
    assert not english.findall(text)
    assert 'lang="ru"' in html


def test_the_po_file_is_the_catalog_no_compiled_file_is_kept() -> None:
    assert not list(DEFAULT_TEMPLATES_DIR.rglob("*.mo"))
    rendered = EmailRenderer().render(
        make_intent(), locale="ru", sender="robot@acme.example", sent_at=SENT_AT
    )
    assert rendered.subject.startswith("Счёт № NW-7781")
