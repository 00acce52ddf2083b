"""The state's meta: every key a tick keeps there, named once.

Meta is the small JSON document committed with each tick's snapshot rows. Its keys were
spelled (and some built by concatenation) in eight modules; reading them here tells what a
tick remembers between runs.
"""

from __future__ import annotations

BOOK_ID = "book_id"  # the book this state belongs to (adoption checks it)
LOCALE = "locale"  # the book's language, for ticks that read nothing
TIME_ZONE = "time_zone"  # Settings' time zone, for the monthly report's due date
LAST_REPORT = "last_report"  # the last month whose report was written
NEXT_INVOICE_NO = "next_invoice_no"  # the counter of invoice IDs
CONTEXT = "context"  # People and Settings as last planned: a change re-plans every invoice
DEALS_BASELINE = "deals_baseline"  # the Deals tab's rows have been recorded once, silently
FOLDER = "folder"  # the invoices folder: location, cursor, files seen, notes pending
BITRIX24 = "bitrix24"  # the CRM import: cursor, fields, stages, users, problems
SETTINGS_NOTES = "settings_notes"  # what the Notes on Settings rows say
SET_ASIDE = "set_aside"  # writes the spreadsheet refused for good, kept for inspection

_BOOK_VERSION = "book_version"


def book_version_key(flows: frozenset[str] | None) -> str:
    """The book version a tick of `flows` last planned (None: every flow, the plain key)."""
    return _BOOK_VERSION + ("" if flows is None else ":" + "+".join(sorted(flows)))


def read_at_key(flows: frozenset[str] | None) -> str:
    """When a tick of `flows` last read the whole book (a timestamp)."""
    return book_version_key(flows) + ":read_at"


def digest_key(flows: frozenset[str] | None) -> str:
    """The fingerprint of what a tick of `flows` last read."""
    return book_version_key(flows) + ":digest"
