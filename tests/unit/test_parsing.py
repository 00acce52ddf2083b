"""Values as people type them."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import get_args

import pytest

from functions.text import parsing
from functions.text.messages import catalogue, problem_text
from functions.text.parsing import ParseProblem, ProblemKind, parse_decimal, same_text, text
from tests.worded_parsing import parse_amount, parse_date, parse_email


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


# Edge cases found by mutation testing (make mutate): each one pins a reading a person relies on.


@pytest.mark.parametrize(
    ("typed", "locale", "expected"),
    [
        ("1,234", "ru", "1.234"),  # a Russian comma is a decimal comma
        ("1,234,567", "ru", "1234567"),  # ...unless it repeats
        ("1.234.567", "en", "1234567"),  # repeated dots group thousands
        ("1.234.567,89", "ru", "1234567.89"),
        ("+5", "en", "5"),
        ("USD 1,234.50", "en", "1234.50"),
    ],
)
def test_separators_are_read_the_way_the_book_s_language_writes_them(
    typed: str, locale: str, expected: str
) -> None:
    assert parse_decimal(typed, locale) == Decimal(expected)


def test_a_comma_group_of_three_is_thousands_when_no_language_is_given() -> None:
    assert parse_decimal("1,234") == Decimal("1234")
    assert parsing.parse_amount("1,234", "Amount") == (Decimal("1234"), None)


@pytest.mark.parametrize("typed", ["1e3", "1_000", "1,234.5,6", "1.234,5.6", "1.2.3.x4"])
def test_scientific_notation_and_mixed_up_separators_are_not_numbers(typed: str) -> None:
    assert parse_decimal(typed) is None


def test_a_whole_number_float_cell_reads_as_its_integer() -> None:
    assert text(3.0) == "3"
    assert text(2.5) == "2.5"


def test_names_match_ignoring_case_and_spaces_but_not_letters() -> None:
    assert same_text(" Anna ", "anna")
    assert not same_text("Anna", "Anne")


def test_an_amount_of_blanks_asks_to_fill_it_in() -> None:
    assert parse_amount("   ", "Amount") == (None, "Fill in: Amount")
    assert parse_date("   ", "Paid on") == (None, "Fill in: Paid on")


def test_amount_problems_speak_the_book_s_language() -> None:
    assert parse_amount("", "Сумма", "ru") == (None, "Заполните: Сумма")
    assert parse_amount("#REF!", "Сумма", "ru") == (None, "Сумма: ошибка формулы #REF!")
    assert parse_amount("0", "Сумма", "ru") == (
        None,
        "Сумма: нужно число больше нуля (сейчас 0)",
    )
    assert parse_amount("1,234", "Сумма", "ru") == (Decimal("1.234"), None)


def test_an_amount_between_zero_and_one_is_a_positive_amount() -> None:
    assert parse_amount("0.5", "Amount") == (Decimal("0.5"), None)
    assert parse_amount(1, "Amount") == (Decimal("1"), None)


def test_a_long_bad_value_is_quoted_up_to_its_first_40_characters() -> None:
    typed = "x" * 39 + "yz" + "w" * 20
    assert parse_amount(typed, "Amount")[1] == f"Amount “{'x' * 39}y” is not a number"
    assert parse_date(typed, "Paid on")[1] == (
        f"Paid on “{'x' * 39}y” is not a date: write it as 28.11.2026 or 2026-11-28"
    )


def test_a_long_bad_email_is_quoted_up_to_its_first_60_characters() -> None:
    typed = "x" * 59 + "yz" + "w" * 20
    assert parse_email(typed, "Email")[1] == (f"Email “{'x' * 59}y” is not a valid email address")


@pytest.mark.parametrize(
    ("serial", "expected"),
    [(1, date(1899, 12, 31)), (2958465, date(9999, 12, 31))],
)
def test_the_first_and_last_excel_serial_dates_are_dates(serial: int, expected: date) -> None:
    assert parse_date(serial, "Paid on") == (expected, None)


@pytest.mark.parametrize("serial", [0, 2958466, -3])
def test_serial_numbers_outside_excel_s_calendar_are_not_dates(serial: int) -> None:
    assert parse_date(serial, "Оплачено", "ru") == (
        None,
        f"Оплачено «{serial}» — не дата: пишите как 28.11.2026 или 2026-11-28",
    )


def test_date_problems_speak_the_book_s_language() -> None:
    assert parse_date(None, "Оплачено", "ru") == (None, "Заполните: Оплачено")
    assert parse_date("вчера", "Оплачено", "ru") == (
        None,
        "Оплачено «вчера» — не дата: пишите как 28.11.2026 или 2026-11-28",
    )


def test_email_problems_speak_the_book_s_language() -> None:
    assert parse_email(" ", "Почта", "ru") == (None, "Заполните: Почта")
    assert parse_email("a@b", "Почта", "ru") == (
        None,
        "Почта «a@b» — неверный адрес электронной почты",
    )


def test_a_parser_tells_its_problem_as_data_the_caller_words() -> None:
    assert parsing.parse_amount("x", "Amount") == (
        None,
        ParseProblem("not_a_number", "Amount", "x"),
    )
    assert parsing.parse_amount(-1, "Amount") == (
        None,
        ParseProblem("not_positive", "Amount", Decimal("-1")),
    )
    assert parsing.parse_date(" ", "Paid on") == (None, ParseProblem("fill_in", "Paid on"))
    assert parsing.parse_email("a@b", "Email") == (None, ParseProblem("bad_email", "Email", "a@b"))


def test_a_problem_keeps_the_whole_typed_value_and_only_its_sentence_shortens_it() -> None:
    typed = "x" * 70
    _, problem = parsing.parse_amount(typed, "Amount")
    assert problem == ParseProblem("not_a_number", "Amount", typed)
    assert problem is not None
    assert problem_text(problem, "en") == f"Amount “{'x' * 40}” is not a number"


def test_every_problem_kind_has_its_sentence_in_the_catalogue() -> None:
    assert set(get_args(ProblemKind)) <= set(catalogue())
