"""The parsers with their problem worded the way a Note says it, for tests that read sentences.

`functions.text.parsing` returns a problem as data and its caller words it with
`messages.problem_text`; these do both, so a test can state the sentence a person reads.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TypeVar

from functions.model import Cell
from functions.text import parsing
from functions.text.messages import problem_text

T = TypeVar("T")
Worded = tuple[T | None, str | None]


def worded(parsed: parsing.Parsed[T], locale: str) -> Worded[T]:
    """A parser's answer with its problem (if any) as the sentence the Note shows."""
    value, problem = parsed
    if problem is None:
        return value, None
    return None, problem_text(problem, locale)


def parse_amount(value: Cell, label: str, locale: str = "en") -> Worded[Decimal]:
    return worded(parsing.parse_amount(value, label, locale), locale)


def parse_date(value: Cell, label: str, locale: str = "en") -> Worded[date]:
    return worded(parsing.parse_date(value, label, locale), locale)


def parse_email(value: Cell, label: str, locale: str = "en") -> Worded[str]:
    return worded(parsing.parse_email(value, label, locale), locale)
