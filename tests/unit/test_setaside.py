"""Which part of a journaled write is set aside, and what is kept to say so."""

from __future__ import annotations

from datetime import UTC, datetime

from functions.errors import RefusedError
from functions.model import CellLock, CellWrite, LogEntry, SheetChanges
from functions.schema import load_schema
from functions.tick import setaside
from functions.tick.journal import Journal

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SCHEMA = load_schema()


def journal(changes: SheetChanges) -> Journal:
    return Journal(changes, snapshot={}, meta={})


def changes() -> SheetChanges:
    return SheetChanges(
        writes=[
            CellWrite("invoices", "INV-000001", 2, "status", "In payment", "Awaiting accountant"),
            CellWrite("invoices", "INV-000001", 2, "note", "", None),
        ],
        locks=[CellLock("invoices", "INV-000001", "accountant", True)],
        log=[LogEntry("t", "invoice", "INV-000001", "transition")],
    )


def test_identical_refusals_are_counted_and_a_different_one_starts_again() -> None:
    j = journal(changes())
    first = RefusedError("Invalid requests[3].addProtectedRange: x", part=("locks", 0))
    moved = RefusedError("Invalid requests[5].addProtectedRange: x", part=("locks", 0))
    other = RefusedError("Invalid requests[5].addProtectedRange: y", part=("locks", 0))
    assert not setaside.count_refusal(j, first)
    assert not setaside.count_refusal(j, moved)  # the same refusal at another index
    assert not setaside.count_refusal(j, other)  # a new message: counting starts over
    assert not setaside.count_refusal(j, other)
    assert setaside.count_refusal(j, other)


def test_a_refused_lock_is_taken_out_and_the_row_s_note_says_so_in_russian() -> None:
    j = journal(changes())
    exc = RefusedError("Invalid email address: default", part=("locks", 0), request="r[2].add")
    entry = setaside.set_aside(j, exc, SCHEMA, "ru", NOW)
    kept = j.changes
    assert kept.locks == []
    assert [w.column for w in kept.writes] == ["status", "note"]
    assert "отказалась сохранить защиту" in str(kept.writes[1].value)
    assert kept.log[-1].event == "problem"
    assert entry["records"] == ["invoices/INV-000001"]
    assert j.meta["set_aside"] == [entry]
    assert "refusals" not in j.to_json()


def test_a_refusal_no_part_can_be_told_of_keeps_only_the_log() -> None:
    j = journal(changes())
    entry = setaside.set_aside(j, RefusedError("Internal error"), SCHEMA, "en", NOW)
    kept = j.changes
    assert (kept.writes, kept.locks) == ([], [])
    assert [e.event for e in kept.log] == ["transition", "problem"]
    assert entry["records"] == ["invoices/INV-000001"]
