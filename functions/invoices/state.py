"""What an invoice row carries through the flow: its remembered state and its outcome."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields
from typing import Any

from functions.controls import Bound
from functions.model import EmailIntent, LogEntry, Stored

AFTER_CLAIM = ("in_payment", "awaiting_closing_docs", "closed")
AFTER_PAYMENT = ("awaiting_closing_docs", "closed")
APPROVED = ("awaiting_accountant", *AFTER_CLAIM)
# Others that look like the same supplier invoice: [(ID, status as shown)].
Duplicates = Callable[[str, Mapping[str, Stored]], list[tuple[str, str]]]
Lock = tuple[str, bool, tuple[str, ...]]  # column, locked, who besides sheetflow may edit


def no_duplicates(record: str, values: Mapping[str, Stored]) -> list[tuple[str, str]]:
    return []


@dataclass
class InvoiceState:
    """What the flow remembers about a row beyond its cells (kept in the snapshot)."""

    status: str = "new"
    round: int = 0  # how many requests went to a signer (each one a new decision)
    reworks: int = 0
    signer: str | None = None
    rework_file: str | None = None
    accountant: str | None = None  # the locked claim: first write wins
    notice: str | None = None  # a one-off explanation kept in the Note until the next move
    submitted_at: str | None = None
    approved_at: str | None = None
    paid_at: str | None = None
    closed_at: str | None = None
    requested: Bound | None = None  # the values the signer was last asked about
    approved: Bound | None = None  # the values the signer approved (what may be paid)
    decided: str | None = None  # the Decision acted on last (cleared quietly next round)
    distinct_from: list[str] = field(default_factory=list)  # confirmed: not a duplicate of

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> InvoiceState:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in (data or {}).items() if k in known})

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RowOutcome:
    record: str
    values: dict[str, Stored]
    state: InvoiceState
    writes: dict[str, Stored] = field(default_factory=dict)
    locks: list[Lock] = field(default_factory=list)
    emails: list[EmailIntent] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    transitions: list[tuple[str, str]] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    note: str | None = None
    read: dict[str, Stored] = field(default_factory=dict)  # the cells as read, for compare-and-set
    labels: dict[str, str] = field(default_factory=dict)  # status key → the sheet's word

    def set(self, column: str, value: Stored) -> None:
        """Write a cell (only if it changes) and keep `values` as the sheet will be."""
        if self.values.get(column) != value:
            self.writes[column] = value
            self.values[column] = value
