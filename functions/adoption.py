"""A book and its state: whose state this is, and adopting a book as it stands (pure).

A state remembers which book it belongs to (`book_id` in its meta). A tick on a book that
already has history (invoices with IDs) but a fresh state, or on a state of another book,
would replay that history — every email again, suppliers' included — so it is refused, and
`sheetflow adopt` records the book as it is instead.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from functions.controls import bound_values
from functions.directory import read_settings
from functions.invoices.state import InvoiceState
from functions.meta import BOOK_ID, DEALS_BASELINE, LAST_REPORT, NEXT_INVOICE_NO, TIME_ZONE
from functions.model import BookRead, LogEntry, stored
from functions.months import previous_month
from functions.schema import Locale, Schema
from functions.text.messages import say
from functions.text.parsing import text

_APPROVED = ("awaiting_accountant", "in_payment", "awaiting_closing_docs", "closed")
_CLAIMED = ("in_payment", "awaiting_closing_docs", "closed")


def has_history(read: BookRead) -> bool:
    """Invoices carry IDs only once a tick has seen them: the book has a past."""
    if "invoices" not in read.tables:
        return False
    return any(text(row.get("id")) for row in read.table("invoices").rows)


def ownership_problem(read: BookRead, meta: Mapping[str, Any]) -> str | None:
    """Why this state must not run this book (None when it may): `missing` or `other`.

    `meta` is the state's meta, or a pending journal's when the first tick was cut short.
    """
    known = meta.get(BOOK_ID)
    if known:
        return "other" if read.identity and read.identity != known else None
    if not meta and has_history(read):
        return "missing"
    return None


def _invoice_state(values: Mapping[str, Any], status: str, currency: str) -> dict[str, Any]:
    state = InvoiceState(status=status)
    if status != "new":
        state.round = 1
        state.signer = text(values.get("signer")) or None
        state.requested = bound_values(values, currency)
    if status in _APPROVED:
        state.approved = bound_values(values, currency)
        state.decided = text(values.get("decision")) or None
    if status == "rework":
        state.decided = text(values.get("decision")) or None
        state.rework_file = text(values.get("invoice_file")) or None
    if status in _CLAIMED:
        state.accountant = text(values.get("accountant")) or None
    return state.to_json()


def adopt(
    read: BookRead, known: Mapping[str, Any], schema: Schema, now: datetime
) -> tuple[dict[str, dict[str, dict[str, Any] | None]], dict[str, Any], LogEntry]:
    """Every row recorded as it is (its Status read back), meta for this book, a Log line.

    Returns the snapshot changes (rows of other books deleted), the new meta and the entry.
    """
    locale: Locale = "ru" if read.locale == "ru" else "en"
    settings, _ = read_settings(read.table("settings"), schema, locale)
    snapshot: dict[str, dict[str, dict[str, Any] | None]] = {
        tab: dict.fromkeys(records) for tab, records in known.items()
    }
    next_no, prefix = 1, schema.tab("invoices").id_prefix or ""
    counts = {"invoices": 0, "deals": 0}
    for tab, id_column in (("invoices", "id"), ("deals", "deal_id")):
        if tab not in read.tables:
            continue
        table = read.table(tab)
        rows = snapshot.setdefault(tab, {})
        for row in table.rows:
            record = text(row.get(id_column))
            if not record or rows.get(record) is not None:
                continue  # a row without ID is a new invoice; a second copy is told next tick
            values = {c: stored(row.get(c)) for c in table.columns}
            if tab == "invoices":
                status = schema.status_key(text(values.get("status"))) or "new"
                rows[record] = {
                    "values": values,
                    "state": _invoice_state(values, status, settings.currency),
                }
                if record.startswith(prefix) and record[len(prefix) :].isdigit():
                    next_no = max(next_no, int(record[len(prefix) :]) + 1)
            else:
                rows[record] = {"values": values, "state": {}}
            counts[tab] += 1
    meta: dict[str, Any] = {
        BOOK_ID: read.identity,
        NEXT_INVOICE_NO: next_no,
        DEALS_BASELINE: True,
        TIME_ZONE: settings.time_zone,
        LAST_REPORT: previous_month(now, settings.zone),
    }
    stamp = now.astimezone(settings.zone).isoformat(sep=" ", timespec="seconds")
    entry = LogEntry(
        stamp,
        "book",
        "*",
        "adopted",
        details=say(locale, "book_adopted", **counts),
        flow_shown=schema.log_word("log_flows", "book", locale),
        event_shown=schema.log_word("log_events", "adopted", locale),
    )
    return snapshot, meta, entry
