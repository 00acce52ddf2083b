"""The finance controls, pure: what an approval is bound to, and which invoices look the same.

An approval binds to the values the signer was shown. `bound_values` reduces a row to those
values in a canonical form (an amount typed `1 234,50` and a number cell 1234.5 are the same
amount), so that only a real change — never a re-typing or a format — reopens a decision.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping
from datetime import date
from decimal import Decimal

from functions.model import Stored
from functions.text.formats import amount, day
from functions.text.parsing import parse_amount, parse_date, text

# What a signer decides on: a change to any of these after the decision needs a new one.
BOUND_COLUMNS: tuple[str, ...] = (
    "supplier",
    "supplier_email",
    "invoice_no",
    "invoice_date",
    "amount",
    "currency",
    "invoice_file",
)
# Cells of later steps: filled before their step was asked for, they are not acted on.
LATER_STEPS: dict[str, tuple[str, ...]] = {
    "awaiting_decision": ("decision", "accountant", "paid_on", "closing_docs"),
    "awaiting_accountant": ("accountant", "paid_on", "closing_docs"),
}
_SPACES = re.compile(r"\s+")
_NOT_WORD = re.compile(r"[\W_]+")

Bound = dict[str, str]
Change = tuple[str, str, str]  # column, old (as shown), new (as shown)


def bound_values(values: Mapping[str, Stored], default_currency: str) -> Bound:
    """The bound columns of a row in canonical form (for comparison, not for display)."""
    amount, _ = parse_amount(values.get("amount"), "")
    invoice_date, _ = parse_date(values.get("invoice_date"), "")
    return {
        "supplier": _SPACES.sub(" ", text(values.get("supplier"))),
        "supplier_email": text(values.get("supplier_email")).casefold(),
        "invoice_no": _SPACES.sub(" ", text(values.get("invoice_no"))),
        "invoice_date": (
            invoice_date.isoformat()
            if isinstance(invoice_date, date)
            else text(values.get("invoice_date"))
        ),
        "amount": (
            str(amount.normalize()) if isinstance(amount, Decimal) else text(values.get("amount"))
        ),
        "currency": (text(values.get("currency")) or default_currency).upper(),
        "invoice_file": text(values.get("invoice_file")),
    }


def shown(column: str, canonical: str, locale: str = "en") -> str:
    """A canonical bound value as a person reads it, in the book's locale (Babel)."""
    try:
        if column == "amount" and canonical:
            return amount(Decimal(canonical), locale)
        if column == "invoice_date" and canonical:
            return day(date.fromisoformat(canonical), locale)
    except (ArithmeticError, ValueError):
        return canonical
    return canonical or "—"


def changes(
    before: Mapping[str, str] | None, now: Mapping[str, str], locale: str = "en"
) -> list[Change]:
    """Bound columns whose value differs from `before`, as (column, old, new) to show."""
    if before is None:
        return []
    return [
        (column, shown(column, before.get(column, ""), locale), shown(column, now[column], locale))
        for column in BOUND_COLUMNS
        if before.get(column, "") != now[column]
    ]


def comparable(value: Stored) -> str:
    """Supplier names and invoice numbers compared ignoring case, spaces and punctuation."""
    folded = unicodedata.normalize("NFKC", text(value)).casefold().replace("ё", "е")
    return _NOT_WORD.sub("", folded)


def invoice_identity(values: Mapping[str, Stored]) -> tuple[str, str, str] | None:
    """(supplier name, supplier email, invoice no.) compared loosely, or None if incomplete."""
    number = comparable(values.get("invoice_no"))
    name, email = comparable(values.get("supplier")), text(values.get("supplier_email")).casefold()
    if not number or not (name or email):
        return None
    return name, email, number


def _keys(identity: tuple[str, str, str] | None) -> list[tuple[str, str, str]]:
    """What two invoices must share to look alike: the supplier's name or email, and the no."""
    if identity is None:
        return []
    name, email, number = identity
    return [key for key in (("name", name, number), ("email", email, number)) if key[1]]


class DuplicateIndex:
    """Which invoices carry the same supplier invoice (same supplier by name or email, same no.).

    With `only`, just the invoices that could match one of those values are kept (a busy tick
    asks about its few changed rows, not about 100,000); `covers` says whether a question is
    one the index can answer.
    """

    def __init__(
        self,
        invoices: Iterable[tuple[str, Mapping[str, Stored]]],
        only: Iterable[Mapping[str, Stored]] | None = None,
    ) -> None:
        self._by_name: dict[tuple[str, str], list[str]] = {}
        self._by_email: dict[tuple[str, str], list[str]] = {}
        self._only: set[tuple[str, str, str]] | None = None
        if only is not None:
            self._only = {key for values in only for key in _keys(invoice_identity(values))}
        for record, values in invoices:
            identity = invoice_identity(values)
            if self._only is None or not self._only.isdisjoint(_keys(identity)):
                self._add(record, identity)

    def add(self, record: str, values: Mapping[str, Stored]) -> None:
        self._add(record, invoice_identity(values))

    def covers(self, values: Mapping[str, Stored]) -> bool:
        """Whether every invoice that looks like these values is in the index."""
        return self._only is None or set(_keys(invoice_identity(values))) <= self._only

    def _add(self, record: str, identity: tuple[str, str, str] | None) -> None:
        if identity is None:
            return
        name, email, number = identity
        if name:
            self._by_name.setdefault((name, number), []).append(record)
        if email:
            self._by_email.setdefault((email, number), []).append(record)

    def others(self, record: str, values: Mapping[str, Stored]) -> list[str]:
        """Other invoices that look like the same supplier invoice, oldest ID first."""
        identity = invoice_identity(values)
        if identity is None:
            return []
        name, email, number = identity
        found = set(self._by_name.get((name, number), ()) if name else ())
        found |= set(self._by_email.get((email, number), ()) if email else ())
        found.discard(record)
        return sorted(found)
