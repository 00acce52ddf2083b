"""The journal a tick saves before writing: typed in the engine, JSON in the state store."""

from __future__ import annotations

import json

from functions.model import CellWrite, LogEntry, RowAppend, SheetChanges
from functions.tick.journal import Journal, encode_changes


def test_a_journal_comes_back_from_its_json_as_it_was_saved() -> None:
    changes = SheetChanges(
        writes=[CellWrite("invoices", "INV-000001", 2, "status", "Paid", "In payment")],
        log=[LogEntry("t", "invoice", "INV-000001", "transition")],
        appends=[RowAppend("invoices", "INV-000002", {"id": "INV-000002"})],
    )
    journal = Journal(
        changes,
        {"invoices": {"INV-000001": {"values": {"id": "INV-000001"}, "state": {}}}},
        {"next_invoice_no": 3},
        [("INV-000001", "In payment", "Paid")],
        ["INV-000001: kept"],
        "ru",
        reread=True,
        refusals={"locks: x": 2},
    )
    saved = json.loads(json.dumps(journal.to_json()))  # as a state store keeps it
    assert Journal.from_json(saved) == journal


def test_an_older_journal_without_locale_reread_or_refusals_still_loads() -> None:
    changes = SheetChanges(appends=[RowAppend("invoices", "INV-000003", {"id": "INV-000003"})])
    old = {
        "changes": encode_changes(changes),
        "snapshot": {},
        "meta": {"next_invoice_no": 4},
        "transitions": [],
        "conflicts": [],
        "applied": False,
    }
    journal = Journal.from_json(old)
    assert (journal.changes, journal.locale, journal.reread) == (changes, "en", False)
    assert journal.refusals == {}
    assert "refusals" not in journal.to_json()
