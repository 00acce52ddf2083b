"""Reading values the way people type them: amounts, dates, emails, percentages.

Every parser returns `(value, problem)`: a parsed value, or None and a `ParseProblem` saying
what is wrong as data. The caller words it (`messages.problem_text`), so this floor writes no
sentence and imports nothing above it. Nothing here changes what is in the cell; the typed text
stays as it was.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Literal, TypeVar

from functions.model import Cell

# What can be wrong with a typed value; each is also the key of its sentence in messages.yaml.
ProblemKind = Literal[
    "fill_in",
    "formula_error",
    "formula_uncomputed",
    "not_a_number",
    "not_positive",
    "not_a_date",
    "bad_email",
]


@dataclass(frozen=True)
class ParseProblem:
    """Why a typed value could not be read: what is wrong, under which label, with what value.

    `value` is the value in question, whole: the typed text, or the number read (not positive, or
    outside Excel's calendar); `fill_in` has none. How much a sentence quotes is the wording's.
    """

    kind: ProblemKind
    label: str
    value: object = None


T = TypeVar("T")
Parsed = tuple[T, None] | tuple[None, ParseProblem]
# The shape every parser shares, so a caller can keep a table of columns and their parsers.
# `locale` is how numbers are read (`1,234` is a thousand in en); dates and emails read alike.
Parser = Callable[[Cell, str, str], Parsed[object]]

_EXCEL_EPOCH = date(1899, 12, 30)
_SPACES = re.compile(r"[\s\u00a0\u202f']+")
_EMAIL = re.compile(r"^[^@\s<>()\[\],;:\"]+@[^@\s<>()\[\],;:\"]+\.[^@\s<>()\[\],;:\"]{2,}$")
_DATE_FORMATS = (
    "%d.%m.%Y",
    "%Y-%m-%d",
    "%d/%m/%Y",
    "%d.%m.%y",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M",
)
_FORMULA_ERRORS = ("#REF!", "#DIV/0!", "#VALUE!", "#N/A", "#NAME?", "#NUM!", "#NULL!")


def is_formula_error(value: Cell) -> bool:
    return isinstance(value, str) and value.strip().upper() in _FORMULA_ERRORS


def text(value: Cell) -> str:
    """A cell as trimmed text ('' for empty)."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime | date):
        return value.isoformat()
    return str(value).strip()


def parse_decimal(value: Cell, locale: str = "en") -> Decimal | None:
    """A number from a cell or from text such as `1 234,50`, `1,234.50` or `1.234,50`."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return Decimal(str(value))
    if not isinstance(value, str):
        return None
    # Currency signs or codes (and a leading +) around the number go.
    raw = re.sub(r"^[^\d\-]+|[^\d]+$", "", _SPACES.sub("", value))
    if not raw or not re.fullmatch(r"-?[\d.,]+", raw):
        return None
    comma, dot = raw.rfind(","), raw.rfind(".")
    if "," in raw and "." in raw:  # the later separator is the decimal one
        thousands = "." if comma > dot else ","
        raw = raw.replace(thousands, "").replace(",", ".")
    elif "," in raw:
        groups = raw.split(",")
        thousands_like = len(groups) > 2 or (len(groups[-1]) == 3 and locale == "en")
        raw = raw.replace(",", "") if thousands_like else raw.replace(",", ".")
    elif raw.count(".") > 1:
        raw = raw.replace(".", "")
    try:
        return Decimal(raw)
    except InvalidOperation:
        return None


def parse_amount(value: Cell, label: str, locale: str = "en") -> Parsed[Decimal]:
    """A positive money amount."""
    if value is None or text(value) == "":
        return None, ParseProblem("fill_in", label)
    if is_formula_error(value):
        return None, ParseProblem("formula_error", label, text(value))
    if isinstance(value, str) and value.lstrip().startswith("="):  # read back uncomputed
        return None, ParseProblem("formula_uncomputed", label, text(value))
    number = parse_decimal(value, locale)
    if number is None:
        return None, ParseProblem("not_a_number", label, text(value))
    if number <= 0:
        return None, ParseProblem("not_positive", label, number)
    return number, None


def parse_date(value: Cell, label: str, locale: str = "en") -> Parsed[date]:
    """A calendar date from a date cell, an Excel serial number or text (28.11.2026, 2026-11-28).

    `locale` is unused (dates read alike in every locale): it keeps the shared `Parser` shape.
    """
    if value is None or text(value) == "":
        return None, ParseProblem("fill_in", label)
    if isinstance(value, datetime):
        return value.date(), None
    if isinstance(value, date):
        return value, None
    if isinstance(value, int | float) and not isinstance(value, bool):
        if 1 <= value < 2958466:  # Excel's valid serial range (1900-01-01 .. 9999-12-31)
            return _EXCEL_EPOCH + timedelta(days=int(value)), None
        return None, ParseProblem("not_a_date", label, value)
    raw = str(value).strip()
    for fmt in _DATE_FORMATS:
        try:
            return datetime.strptime(raw, fmt).date(), None
        except ValueError:
            continue
    return None, ParseProblem("not_a_date", label, raw)


def parse_email(value: Cell, label: str, locale: str = "en") -> Parsed[str]:
    """An email address, trimmed (`locale` unused: it keeps the shared `Parser` shape)."""
    raw = text(value)
    if not raw:
        return None, ParseProblem("fill_in", label)
    if not _EMAIL.fullmatch(raw):
        return None, ParseProblem("bad_email", label, raw)
    return raw, None


def format_money(amount: Decimal) -> str:
    """`1 234.50`: thin and unambiguous in both locales."""
    return f"{amount:,.2f}".replace(",", "\u00a0")


def same_text(a: Cell, b: Cell) -> bool:
    """Names and emails match ignoring case and surrounding spaces."""
    return text(a).casefold() == text(b).casefold()
