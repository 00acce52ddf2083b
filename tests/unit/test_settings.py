"""Settings that explain themselves: every key written by init, nothing silently made up."""

from __future__ import annotations

from functions.directory import FALLBACK_SENDER, read_settings, settings_rows
from functions.model import SheetRow, TableRead
from functions.schema import load_schema

SCHEMA = load_schema()


def table(pairs: dict[str, str]) -> TableRead:
    rows = tuple(
        SheetRow(n, {"key": k, "value": v}) for n, (k, v) in enumerate(pairs.items(), start=2)
    )
    return TableRead("settings", "Settings", ("key", "value"), rows)


def test_init_writes_every_key_with_its_default_and_a_description_in_the_books_language() -> None:
    rows = settings_rows(SCHEMA, "ru")
    assert rows[0] == ["Ключ", "Значение", "Примечание", "Описание"]
    keys = [r[0] for r in rows[1:]]
    assert keys == [label["ru"] for label in SCHEMA.labels.settings_keys.values()]
    by_key = {r[0]: r for r in rows[1:]}
    assert by_key["Валюта"][1] == "RUB"
    assert by_key["Часовой пояс"][1] == "Europe/Moscow"
    assert all(r[3] for r in rows[1:]), "every key says what it means"
    assert not any(r[2] for r in rows[1:]), "the Note stays empty until there is a problem"


def test_given_values_replace_the_defaults() -> None:
    rows = settings_rows(SCHEMA, "en", {"company": "Northwind", "currency": "USD"})
    assert {r[0]: r[1] for r in rows[1:]}["Currency"] == "USD"
    assert {r[0]: r[1] for r in rows[1:]}["Company"] == "Northwind"


def test_empty_sender_currency_and_time_zone_are_said_in_plain_words() -> None:
    settings, problems = read_settings(table({"Компания": "Ромашка"}), SCHEMA, "ru")

    assert settings.currency == "RUB"  # the locale's currency, and said so
    assert settings.sender == FALLBACK_SENDER
    assert len(problems) == 3
    assert any("«Отправитель»" in p and FALLBACK_SENDER in p for p in problems)
    assert any("«Валюта»" in p and "RUB" in p for p in problems)
    assert any("«Часовой пояс»" in p and "UTC" in p for p in problems)


def test_filled_settings_raise_nothing() -> None:
    pairs = {"Sender": "billing@acme.example", "Currency": "EUR", "Time zone": "Europe/Berlin"}
    settings, problems = read_settings(table(pairs), SCHEMA, "en")
    assert problems == []
    assert (settings.sender, settings.currency) == ("billing@acme.example", "EUR")


def test_an_unknown_time_zone_is_said_in_the_books_language() -> None:
    _, problems = read_settings(table({"Часовой пояс": "Марс/Олимп"}), SCHEMA, "ru")
    assert any("Марс/Олимп" in p and "неизвестный часовой пояс" in p for p in problems)


def test_a_sender_with_a_display_name_and_a_lower_case_currency_are_fine() -> None:
    pairs = {
        "Sender": "Northwind Billing <billing@northwind.example>",
        "Currency": "usd",
        "Time zone": "Europe/Berlin",
    }
    settings, problems = read_settings(table(pairs), SCHEMA, "en")
    assert problems == []
    assert settings.sender == "Northwind Billing <billing@northwind.example>"


def test_bad_sender_currency_and_reply_to_fall_back_and_say_what_is_used() -> None:
    pairs = {
        "Sender": "billing@acme.example\r\nBcc: evil@x.com",
        "Currency": "Euro",
        "Time zone": "Europe/Berlin",
        "Reply to": "the boss",
    }
    settings, problems = read_settings(table(pairs), SCHEMA, "en")
    assert settings.sender == FALLBACK_SENDER
    assert settings.currency == "EUR"
    assert settings.reply_to == ""
    assert len(problems) == 3
    assert any("is not a currency code" in p and "taken as EUR" in p for p in problems)
    assert any("“the boss” is not an email address" in p for p in problems)
    assert not any("\n" in p or "\r" in p for p in problems), "a typed line break stays out"
