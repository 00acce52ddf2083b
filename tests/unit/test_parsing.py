"""Values as people type them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest

from functions.parsing import parse_amount, parse_date, parse_decimal, parse_email


@pytest.mark.parametrize(
    ("typed", "locale", "expected"),
    [
        ("1 234,50", "en", "1234.50"),
        ("1\u00a0234,50", "ru", "1234.50"),
        ("1,234.50", "en", "1234.50"),
        ("1.234,50", "ru", "1234.50"),
        ("1,234", "en", "1234"),
        ("1,5", "ru", "1.5"),
        ("1,234,567", "en", "1234567"),
        ("€ 99.90", "en", "99.90"),
        ("99,90 руб.", "ru", "99.90"),
        (42, "en", "42"),
        (0.1, "en", "0.1"),
    ],
)
def test_numbers_typed_in_any_common_style(typed: object, locale: str, expected: str) -> None:
    assert parse_decimal(typed, locale) == Decimal(expected)  # type: ignore[arg-type]


@pytest.mark.parametrize("typed", ["abc", "1.2.3,4,5x", "", True, "--5", "=1+1"])
def test_non_numbers_are_not_numbers(typed: object) -> None:
    assert parse_decimal(typed) is None  # type: ignore[arg-type]


def test_amount_problems_name_the_column() -> None:
    assert parse_amount("x", "Amount")[1] == "Amount “x” is not a number"
    assert parse_amount(-1, "Amount")[1] == "Amount must be more than zero (it is -1)"


@pytest.mark.parametrize(
    "typed",
    [
        "28.11.2026",
        "2026-11-28",
        "28/11/2026",
        46354,
        46354.0,
        datetime(2026, 11, 28, 15, 0),
        date(2026, 11, 28),
    ],
)
def test_dates_in_every_accepted_form(typed: object) -> None:
    assert parse_date(typed, "Paid on") == (date(2026, 11, 28), None)  # type: ignore[arg-type]


def test_a_bad_date_says_how_to_write_one() -> None:
    _, problem = parse_date("32.01.2026", "Paid on")
    assert problem
    assert "write it as 28.11.2026 or 2026-11-28" in problem


@pytest.mark.parametrize(
    "typed", ["a@b", "a b@c.de", "x@y.z\r\nBcc: evil@x.com", "<a@b.cd>", "a@b@c.de"]
)
def test_bad_emails_are_refused(typed: str) -> None:
    assert parse_email(typed, "Email")[0] is None


def test_good_email_is_trimmed() -> None:
    assert parse_email("  billing@acme.example ", "Email") == ("billing@acme.example", None)
