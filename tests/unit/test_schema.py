"""Every schema file validates and is consistent with itself."""

from __future__ import annotations

import pytest

from functions.schema import (
    LOCALES,
    TAB_FILES,
    book_locale,
    find_title,
    invoices_titles,
    load_schema,
)

SCHEMA = load_schema()
LIST_TABS = {"directors", "accountants", "managers"}


@pytest.mark.parametrize("tab", TAB_FILES)
def test_every_tab_has_unique_keys_and_headers_in_every_locale(tab: str) -> None:
    columns = SCHEMA.tab(tab).columns
    assert len({c.key for c in columns}) == len(columns)
    for locale in LOCALES:
        headers = [c.header[locale].casefold() for c in columns]
        assert len(set(headers)) == len(headers), (tab, locale)


def test_every_dropdown_names_a_known_list() -> None:
    for tab in TAB_FILES:
        for column in SCHEMA.tab(tab).columns:
            if column.dropdown:
                assert column.dropdown in LIST_TABS | set(SCHEMA.labels.choices), column.key


def test_tab_titles_differ_between_locales_only_in_words() -> None:
    titles = {locale: [SCHEMA.tab(t).title[locale] for t in TAB_FILES] for locale in LOCALES}
    assert all(len(set(names)) == len(TAB_FILES) for names in titles.values())


def test_every_choice_has_words_in_every_locale() -> None:
    for name, choices in SCHEMA.labels.choices.items():
        for key, words in choices.items():
            assert set(words) == set(LOCALES), (name, key)
            assert all(words[locale] for locale in LOCALES)


def test_a_tab_is_found_by_its_title_exactly_first_then_ignoring_case_and_spaces() -> None:
    assert find_title(["invoices ", "Invoices"], "Invoices") == "Invoices"
    assert find_title(["Deals", " INVOICES "], "Invoices") == " INVOICES "
    assert find_title(["Deals"], "Invoices") is None


def test_a_book_speaks_the_language_of_its_invoices_tab() -> None:
    schema = load_schema()
    assert book_locale(["Settings", "invoices"], schema) == "en"
    assert book_locale([schema.tab("invoices").title["ru"]], schema) == "ru"
    assert book_locale(["Sheet1"], schema) is None
    assert invoices_titles(schema).startswith('"Invoices" or "')
