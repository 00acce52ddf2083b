"""Invoice fields from the text of a supplier's PDF (pure: the text is extracted elsewhere).

Two layouts are recognised: the Russian "Счёт на оплату № … от …" (supplier with its ИНН,
"Итого"/"Всего к оплате", roubles) and common English invoices ("Invoice No.", "Invoice
Date", "Total"/"Amount due", a currency code or sign). A value is only given when its label
is found: a guess a person must correct is worse than a blank cell they fill in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from functions.model import Stored
from functions.text.parsing import parse_decimal

FIELDS = ("supplier", "invoice_no", "invoice_date", "amount", "currency")

_MONTHS_RU = {
    "январ": 1,
    "феврал": 2,
    "март": 3,
    "апрел": 4,
    "ма": 5,
    "июн": 6,
    "июл": 7,
    "август": 8,
    "сентябр": 9,
    "октябр": 10,
    "ноябр": 11,
    "декабр": 12,
}
_MONTHS_EN = {
    m: n
    for n, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_NUMBER = r"(\d[\d\s\u00a0\u202f.,']*\d|\d)"
_RU_TITLE = re.compile(
    r"сч[её]т\s+(?:на\s+оплату|№)\s*(?:№\s*)?([\w\-/]+)\s+от\s+([^\n]+)", re.IGNORECASE
)
_RU_SUPPLIER = re.compile(
    r"(?:Поставщик|Исполнитель|Продавец|Получатель)[^:\n]*:\s*([^\n]+)", re.IGNORECASE
)
_INN = re.compile(r"ИНН\s*:?\s*(\d{10}|\d{12})\b")
_RU_TOTAL = re.compile(
    r"(?:Всего\s+к\s+оплате|Итого\s+к\s+оплате|Итого)\s*:?\s*" + _NUMBER, re.IGNORECASE
)
_EN_NUMBER = re.compile(
    r"invoice\s*(?:no\.?|number|num\.?|#)\s*[:#]?\s*([A-Za-z0-9][\w\-/.]*)", re.IGNORECASE
)
_EN_DATE = re.compile(r"(?:invoice\s+date|date\s+of\s+issue|issue\s+date)\s*:?\s*([^\n]+)", re.I)
_EN_TOTAL = re.compile(
    r"(?:total\s+due|amount\s+due|balance\s+due|grand\s+total|invoice\s+total|total)"
    r"\s*(?:\([A-Z]{3}\))?\s*:?\s*((?-i:[A-Z]{3})\b|[$€£])?\s*"
    + _NUMBER
    + r"[ \t]*((?-i:[A-Z]{3})\b|[$€£])?",
    re.IGNORECASE,
)
_EN_SUPPLIER = re.compile(r"^(?:from|supplier|seller|vendor|bill\s+from)\s*:\s*(.+)$", re.I | re.M)
_TAX_ID = re.compile(
    r"(?:VAT\s*(?:No\.?|number|ID|Reg\.?\s*No\.?)|Tax\s*ID|EIN)\s*:?\s*([A-Z0-9\-]{6,})"
)
_SIGNS = {"$": "USD", "€": "EUR", "£": "GBP"}


@dataclass(frozen=True)
class Prefill:
    """What the file says: column key → value, and the supplier's tax ID when printed."""

    values: dict[str, Stored] = field(default_factory=dict)
    tax_id: str | None = None
    layout: str = ""  # "ru" | "en" | "" (not recognised)


def read_invoice(text: str) -> Prefill:
    """The invoice's fields from its text layer; an empty Prefill when nothing is recognised."""
    flat = text.replace("\u00a0", " ").replace("\r", "")
    if _RU_TITLE.search(flat):
        return _russian(flat)
    if re.search(r"\binvoice\b", flat, re.IGNORECASE):
        return _english(flat)
    return Prefill()


def _russian(text: str) -> Prefill:
    values: dict[str, Stored] = {}
    title = _RU_TITLE.search(text)
    if title:
        values["invoice_no"] = title.group(1).strip()
        day = _date(title.group(2))
        if day:
            values["invoice_date"] = day.isoformat()
    supplier = _RU_SUPPLIER.search(text)
    tax_id = None
    if supplier:
        line = supplier.group(1)
        name = re.split(r",?\s*(?:ИНН|КПП|\d{6}\b|г\.|ул\.)", line)[0].strip(" ,;")
        if name:
            values["supplier"] = name
        found = _INN.search(line)
        tax_id = found.group(1) if found else None
    if tax_id is None:  # the bank details above the buyer's line are the supplier's
        head = re.split(r"Покупатель|Заказчик|Плательщик", text, maxsplit=1)[0]
        found = _INN.search(head)
        tax_id = found.group(1) if found else None
    totals = _RU_TOTAL.findall(text)
    amount = _amount(totals[-1]) if totals else None
    if amount is not None:
        values["amount"] = amount
        if re.search(r"\bруб|₽|RUB", text, re.IGNORECASE):
            values["currency"] = "RUB"
    return Prefill(values, tax_id, "ru")


def _english(text: str) -> Prefill:
    values: dict[str, Stored] = {}
    number = _EN_NUMBER.search(text)
    if number:
        values["invoice_no"] = number.group(1).strip(".")
    when = _EN_DATE.search(text)
    day = _date(when.group(1)) if when else None
    if day:
        values["invoice_date"] = day.isoformat()
    supplier = _EN_SUPPLIER.search(text)
    if supplier:
        values["supplier"] = supplier.group(1).strip()
    else:
        first = next((line.strip() for line in text.splitlines() if line.strip()), "")
        if first and not re.search(r"\binvoice\b", first, re.IGNORECASE):
            values["supplier"] = first
    totals = list(_EN_TOTAL.finditer(text))
    due = [t for t in totals if not re.match(r"sub", text[max(0, t.start() - 3) : t.start()], re.I)]
    chosen = _best_total(due)
    if chosen is not None:
        amount = _amount(chosen.group(2), "en")
        if amount is not None:
            values["amount"] = amount
            sign = chosen.group(1) or chosen.group(3)
            currency = _currency(sign) or _currency_anywhere(text)
            if currency:
                values["currency"] = currency
    tax = _TAX_ID.search(text)
    return Prefill(values, tax.group(1) if tax else None, "en")


def _best_total(found: list[re.Match[str]]) -> re.Match[str] | None:
    """ "Total due"/"Amount due" beat a plain "Total"; the last of a kind wins."""
    strong = [m for m in found if not re.match(r"total\b", m.group(0), re.IGNORECASE)]
    chosen = strong or found
    return chosen[-1] if chosen else None


def _currency(sign: str | None) -> str | None:
    if not sign:
        return None
    return _SIGNS.get(sign, sign.upper())


def _currency_anywhere(text: str) -> str | None:
    for sign, code in _SIGNS.items():
        if sign in text:
            return code
    found = re.search(r"\b(EUR|USD|GBP|RUB|CHF|PLN|CZK|SEK|NOK|DKK)\b", text)
    return found.group(1) if found else None


def _amount(raw: str, locale: str = "ru") -> float | None:
    number = parse_decimal(raw.strip(), locale)
    if number is None or number <= 0:
        return None
    return float(number.quantize(Decimal("0.01")))


def _date(raw: str) -> date | None:
    """15.11.2026, 2026-11-15, 15/11/2026, «15» ноября 2026 г., November 15, 2026, 15 Nov 2026."""
    raw = raw.strip().strip("«»\"'")
    patterns: list[tuple[str, tuple[int, int, int]]] = [
        (r"(\d{1,2})[./](\d{1,2})[./](\d{4})", (3, 2, 1)),
        (r"(\d{4})-(\d{2})-(\d{2})", (1, 2, 3)),
    ]
    for pattern, (y, m, d) in patterns:
        found = re.search(pattern, raw)
        if found:
            return _safe(int(found.group(y)), int(found.group(m)), int(found.group(d)))
    words = re.search(r"(\d{1,2})[»\"']?\s+([A-Za-zА-Яа-яёЁ]+)\.?,?\s+(\d{4})", raw)
    if words:
        month = _month(words.group(2))
        if month:
            return _safe(int(words.group(3)), month, int(words.group(1)))
    english = re.search(r"([A-Za-z]+)\.?\s+(\d{1,2})(?:st|nd|rd|th)?,?\s+(\d{4})", raw)
    if english:
        month = _month(english.group(1))
        if month:
            return _safe(int(english.group(3)), month, int(english.group(2)))
    return None


def _month(word: str) -> int | None:
    lower = word.casefold()
    for stem, number in _MONTHS_RU.items():
        if lower.startswith(stem) and (stem != "ма" or lower in ("мая", "май")):
            return number
    return _MONTHS_EN.get(lower[:3])


def _safe(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None
