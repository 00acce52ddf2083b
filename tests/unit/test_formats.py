"""Numbers, money, percentages and dates written the book's way, by Babel."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from functions.text import formats
from functions.text.messages import say

NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("locale", "currency", "shown"),
    [
        ("ru", "RUB", f"1{NBSP}234,50{NBSP}₽"),
        ("en", "RUB", f"RUB{NBSP}1,234.50"),
        ("en", "EUR", "€1,234.50"),
        ("ru", "", f"1{NBSP}234,50{NBSP}₽"),  # no currency: the locale's own
        ("en", "usd", "$1,234.50"),
    ],
)
def test_money_is_written_with_its_currency_the_locale_way(
    locale: str, currency: str, shown: str
) -> None:
    assert formats.money(Decimal("1234.5"), currency, locale) == shown


def test_dates_and_times_follow_the_locale() -> None:
    assert formats.day(date(2026, 11, 28), "ru") == "28.11.2026"
    assert formats.day(date(2026, 11, 28), "en") == "Nov 28, 2026"
    moment = datetime(2026, 11, 28, 6, 30, tzinfo=UTC)
    assert formats.moment(moment, "ru", ZoneInfo("Europe/Moscow")) == "28.11.2026 09:30"


def test_percentages_keep_one_decimal_when_there_is_one() -> None:
    assert formats.percent(Decimal("45.5"), "ru") == f"45,5{NBSP}%"
    assert formats.percent(Decimal("45.5"), "en") == "45.5%"
    assert formats.percent(100, "ru") == f"100{NBSP}%"


def test_text_that_is_no_number_or_date_is_shown_as_typed() -> None:
    assert formats.money_text("три сотни", "RUB", "ru") == "три сотни"
    assert formats.date_text("next Tuesday", "ru") == "next Tuesday"
    assert formats.date_text("2026-11-28", "ru") == "28.11.2026"
    assert formats.money_text(f"1{NBSP}234.50", "RUB", "ru") == f"1{NBSP}234,50{NBSP}₽"


def test_notes_write_numbers_and_dates_the_book_way() -> None:
    note = say(
        "ru",
        "paid_before_approval",
        label="Дата оплаты",
        paid=date(2026, 11, 2),
        approved=date(2026, 11, 5),
    )
    assert "02.11.2026" in note
    assert "05.11.2026" in note
    assert say("ru", "not_positive", label="Сумма", value=Decimal("-1234.5")) == (
        f"Сумма: нужно число больше нуля (сейчас -1{NBSP}234,5)"
    )


def test_the_default_currency_follows_the_locale() -> None:
    assert formats.default_currency("ru") == "RUB"
    assert formats.default_currency("en") == "EUR"
