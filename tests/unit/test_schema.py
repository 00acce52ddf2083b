"""Every schema file validates and is consistent with itself."""

from __future__ import annotations

import pytest

from functions.schema import LOCALES, TAB_FILES, load_schema

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
