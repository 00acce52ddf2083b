"""A write the spreadsheet refuses again and again is set aside, so nothing stays stuck.

A journaled plan is replayed until it lands. When the spreadsheet refuses it for good (Google
answers 400), replaying it every tick would block every later change. After `LIMIT` identical
refusals (or at once, when the same refusal was already set aside before) the refused part is
taken out of the journal and kept in the state's meta for inspection (`set_aside`), the row's
Note says so where the plan writes one, a Log row records it, and the rest is applied.
Pure: works on the journal and its changes; the engine does the I/O.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from typing import Any, TypedDict

from functions.errors import RefusedError
from functions.meta import SET_ASIDE
from functions.model import CellWrite, LogEntry, SheetChanges
from functions.schema import TAB_FLOWS, Locale, Schema
from functions.text.messages import say
from functions.tick.journal import Journal

LIMIT = 3  # identical refusals before a part is set aside
KEEP = 20  # set-aside entries kept in meta
_INDEX = re.compile(r"requests\[\d+\]")


class SetAside(TypedDict):
    """A part set aside, as meta keeps it (JSON) for inspection."""

    at: str
    request: str
    error: str
    records: list[str]
    signature: str


def signature(exc: RefusedError) -> str:
    """What makes two refusals identical: the kind of part and Google's words, no indexes."""
    kind = exc.part[0] if exc.part else "all"
    words = _INDEX.sub("requests[]", str(exc))
    return f"{kind}: {words}"


def count_refusal(journal: Journal, exc: RefusedError) -> bool:
    """Count one refusal in the journal; True when its part must now be set aside."""
    sig = signature(exc)
    known = {e.get("signature") for e in journal.meta.get(SET_ASIDE, [])}
    count = int(journal.refusals.get(sig, 0)) + 1
    journal.refusals = {sig: count}
    return count >= LIMIT or sig in known


def set_aside(
    journal: Journal, exc: RefusedError, schema: Schema, locale: str, now: datetime
) -> SetAside:
    """Take the refused part out of the journal's changes; the entry kept for inspection."""
    changes = journal.changes
    rows: list[tuple[str, str, str]] = []
    if exc.part is None:  # the backend cannot tell which part: keep only the history
        kept = SheetChanges(log=changes.log)
        records = sorted({f"{w.tab}/{w.record}" for w in changes.writes if w.record})
    else:
        kept, rows = _without(changes, exc.part)
        records = [f"{tab}/{record}" for tab, record, _c in rows]
    entry: SetAside = {
        "at": now.isoformat(timespec="seconds"),
        "request": exc.request or (exc.part[0] if exc.part else "the whole write"),
        "error": str(exc),
        "records": records,
        "signature": signature(exc),
    }
    kind = "lock" if exc.part and exc.part[0] == "locks" else "value"
    for tab, record, column in rows:
        _note(kept, journal, schema, locale, (tab, record, column), str(exc), kind)
        kept.log.append(_logged(tab, record, entry, now, schema, locale))
    if not rows:
        kept.log.append(_logged("", "", entry, now, schema, locale))
    journal.changes = kept
    journal.meta[SET_ASIDE] = [*journal.meta.get(SET_ASIDE, []), entry][-KEEP:]
    journal.refusals = {}
    return entry


def _without(changes: SheetChanges, part: tuple[str, int]) -> tuple[SheetChanges, list[Any]]:
    kind, index = part
    rows: list[tuple[str, str, str]] = []
    if kind == "writes":
        write = changes.writes.pop(index)
        if write.record:
            rows.append((write.tab, write.record, write.column))
    elif kind == "locks":
        lock = changes.locks.pop(index)
        rows.append((lock.tab, lock.record, lock.column))
    elif kind == "log":
        changes.log = []
    elif kind in ("queues", "lists"):
        setattr(changes, kind, None)
    elif kind == "reports" and changes.reports is not None:
        changes.reports.pop(index)
    return changes, rows


def _note(
    changes: SheetChanges,
    journal: Journal,
    schema: Schema,
    locale: str,
    where: tuple[str, str, str],
    error: str,
    kind: str,
) -> None:
    """Say it in the row's Note when the plan writes that Note (else its value is unknown)."""
    tab, record, column = where
    spec = schema.tab(tab)
    if not any(c.key == "note" for c in spec.columns):
        return
    headers = spec.column(column).header.items()
    header = next((shown for lang, shown in headers if lang == locale), column)
    what = say(locale, "set_aside_" + kind, column=header)
    text = say(locale, "write_set_aside", what=what, error=error[:300])
    for i, write in enumerate(changes.writes):
        if write.tab == tab and write.record == record and write.column == "note":
            changes.writes[i] = replace(write, value=text)
            return
    row = (journal.snapshot.get(tab) or {}).get(record)
    values = row.get("values") if isinstance(row, dict) else None
    if isinstance(values, dict):  # the snapshot holds the Note the sheet has after this plan
        hint = next((w.row for w in changes.writes if w.record == record), 0)
        changes.writes.append(CellWrite(tab, record, hint, "note", text, values.get("note")))


def _logged(
    tab: str, record: str, entry: SetAside, now: datetime, schema: Schema, locale: str
) -> LogEntry:
    stamp = now.isoformat(sep=" ", timespec="seconds")
    details = f"set aside: {entry['request']}: {entry['error']}"
    flow = TAB_FLOWS.get(tab, "book")
    shown: Locale = "ru" if locale == "ru" else "en"
    return LogEntry(
        stamp,
        flow,
        record,
        "problem",
        details=details[:1000],
        flow_shown=schema.log_word("log_flows", flow, shown),
        event_shown=schema.log_word("log_events", "problem", shown),
    )
