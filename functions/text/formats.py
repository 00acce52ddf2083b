"""Numbers, money, percentages and dates as a reader of the book's language writes them (Babel).

ru: `1 234,50 ₽`, `45,5 %`, `28.11.2026`; en: `RUB 1,234.50`, `45.5%`, `Nov 28, 2026`. Used by the
emails, the Notes, the Log and the reports, so a figure looks the same wherever it is read.
Texts that do not parse are shown as typed: formatting never hides what a person wrote.
"""

from __future__ import annotations

import re
from datetime import date, datetime, tzinfo
from decimal import Decimal
from functools import cache

from babel import Locale as BabelLocale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import (
    format_currency,
    format_decimal,
    format_percent,
    get_currency_symbol,
    is_currency,
)

from functions.text.parsing import parse_date, parse_decimal, text

NBSP = "\u00a0"
_ISO_DAY = re.compile(r"\d{4}-\d{2}-\d{2}(T00:00:00)?")  # a date cell as the snapshot keeps it
# Babel writes `RUB1,234.50`; CLDR's currency spacing asks for a space after a letter code.
_DATE_FORMAT = {"ru": "short", "en": "medium"}
_DATETIME_FORMAT = {"ru": "dd.MM.yyyy HH:mm", "en": "MMM d, yyyy HH:mm"}
# The spreadsheet's own number formats (openpyxl / Sheets patterns) for the same locale.
SHEET_DATE_FORMAT = {"ru": "DD.MM.YYYY", "en": "YYYY-MM-DD"}
SHEET_DATETIME_FORMAT = {"ru": "DD.MM.YYYY HH:MM", "en": "YYYY-MM-DD HH:MM"}
SHEET_MONEY_FORMAT = "#,##0.00"
SHEET_PERCENT_FORMAT = "0.0%"


def _babel(locale: str) -> str:
    return "ru_RU" if locale == "ru" else "en_US"


@cache
def _percent_pattern(locale: str) -> str:
    """The locale's percent pattern with one optional decimal: `#,##0.#%` / `#,##0.# %`."""
    pattern = BabelLocale.parse(_babel(locale)).percent_formats[None].pattern
    return str(pattern).replace("0", "0.#", 1)


def default_currency(locale: str) -> str:
    """The currency a book in `locale` means when it says none: RUB for ru, EUR otherwise."""
    return "RUB" if locale == "ru" else "EUR"


def known_currency(code: str) -> bool:
    """A currency code Babel knows (EUR, RUB, USD…), as typed in Settings."""
    return is_currency(code.strip().upper())


def number(value: Decimal | float | int, locale: str) -> str:
    """`1 234,5` / `1,234.5`: grouped, as many decimals as the value has (up to 3)."""
    return format_decimal(value, locale=_babel(locale))


def money(value: Decimal | float | int, currency: str, locale: str) -> str:
    """`1 234,50 ₽` / `RUB 1,234.50`; a currency Babel does not know is written as its code."""
    code = (currency or "").strip().upper() or default_currency(locale)
    shown = format_currency(value, code, locale=_babel(locale))
    symbol = get_currency_symbol(code, locale=_babel(locale))
    if symbol.isalpha() and shown.startswith(symbol) and not shown[len(symbol)].isspace():
        shown = symbol + NBSP + shown[len(symbol) :]
    return shown


def amount(value: Decimal | float | int, locale: str) -> str:
    """Money without a currency: `1 234,50` / `1,234.50` (always two decimals)."""
    return format_decimal(value, format="#,##0.00", locale=_babel(locale))


def percent(value: Decimal | float | int, locale: str) -> str:
    """A percentage given in percent units (45.5 → `45,5 %` / `45.5%`)."""
    fraction = Decimal(str(value)) / 100
    return format_percent(fraction, format=_percent_pattern(locale), locale=_babel(locale))


def day(value: date, locale: str) -> str:
    """`28.11.2026` / `Nov 28, 2026`."""
    if isinstance(value, datetime):
        value = value.date()
    return babel_date(value, _DATE_FORMAT.get(locale, "medium"), locale=_babel(locale))


def moment(value: datetime, locale: str, zone: tzinfo | None = None) -> str:
    """`28.11.2026 09:30` / `Nov 28, 2026 09:30`, in `zone` when given."""
    shown = value.astimezone(zone) if zone is not None and value.tzinfo else value
    return babel_datetime(
        shown, _DATETIME_FORMAT.get(locale, _DATETIME_FORMAT["en"]), locale=_babel(locale)
    )


# -- the same, for values as flows hand them over (typed text, ISO dates, numbers) -----------
def money_text(value: object, currency: str, locale: str) -> str:
    parsed = _decimal(value, locale)
    return money(parsed, currency, locale) if parsed is not None else text(value)  # type: ignore[arg-type]


def percent_text(value: object, locale: str) -> str:
    parsed = _decimal(value, locale)
    return percent(parsed, locale) if parsed is not None else text(value)  # type: ignore[arg-type]


def date_text(value: object, locale: str) -> str:
    if isinstance(value, date):
        return day(value, locale)
    raw = text(value)  # type: ignore[arg-type]
    if not raw:
        return ""
    parsed, _ = parse_date(raw, "", locale)
    return day(parsed, locale) if isinstance(parsed, date) else raw


def log_value(value: object, column_type: str, locale: str) -> str:
    """A cell's value as the Log shows it: numbers and date cells by Babel, text as typed.

    A number in a money column `1 234,50` / `1,234.50`, other numbers grouped; a date cell
    (read back as ISO text) `28.11.2026`; anything a person typed as text stays exactly that.
    """
    if isinstance(value, bool) or value is None:
        return text(value)
    if isinstance(value, int | float | Decimal):
        return amount(value, locale) if column_type == "money" else number(value, locale)
    if column_type == "date" and isinstance(value, str) and _ISO_DAY.fullmatch(value.strip()):
        return day(datetime.fromisoformat(value.strip()), locale)
    return text(value)  # type: ignore[arg-type]


def _decimal(value: object, locale: str) -> Decimal | None:
    if isinstance(value, Decimal):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    # Flows hand over `1 234.50` (thin, dot-decimal): read it the English way, whatever the book.
    return parse_decimal(value, "en") if isinstance(value, str) else parse_decimal(value, locale)


def field(value: object, locale: str) -> object:
    """A message field as the book's locale writes it: numbers and dates formatted, else as is."""
    if isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return moment(value, locale)
    if isinstance(value, date):
        return day(value, locale)
    if isinstance(value, Decimal | float):
        return number(value, locale)
    return value
