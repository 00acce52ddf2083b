"""RowAppend on every SpreadsheetBook: a new row at the end of a tab, by ID, exactly once.

Runs on the .xlsx workbook and on the Google Sheet (double) through the harness of
test_book_contract: cells placed by header, a second append of the same ID adds nothing (a
journal replayed after a crash), and the engine finishes such a journal and plans the new row
like any typed one.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from functions.adapters.sqlite.state import SqliteState
from functions.model import CellWrite, RowAppend, SheetChanges
from functions.notify import EmailRenderer
from functions.tick.engine import Engine
from functions.tick.journal import decode_changes, encode_changes
from tests.fakes import FakeMail
from tests.integration import test_book_contract as contract
from tests.integration.test_book_contract import NOW, SCHEMA, Harness, backends, hand_made

# The contract's fixtures: fresh books of each backend, two typed invoices in `harness`.
workbook_template, make, harness = contract.workbook_template, contract.make, contract.harness

NEW = RowAppend(
    "invoices",
    "INV-000003",
    {"id": "INV-000003", "supplier": "Acme GmbH", "amount": 1250.5, "invoice_file": "a.pdf"},
)


def test_a_journal_keeps_its_appends() -> None:
    changes = SheetChanges(appends=[NEW])
    assert decode_changes(encode_changes(changes)).appends == [NEW]
    assert not changes.is_empty()


def test_a_journal_written_before_appends_existed_still_decodes() -> None:
    old = encode_changes(SheetChanges())
    del old["appends"]
    assert decode_changes(old).appends == []


@backends
def test_a_new_row_goes_below_the_last_row_with_its_cells_under_their_headers(
    harness: Harness,
) -> None:
    assert harness.book.apply(SheetChanges(appends=[NEW]), harness.book.read().fingerprint) == []
    cells = harness.cells("invoices", 4)
    assert (cells["id"], cells["supplier"], cells["amount"], cells["invoice_file"]) == (
        "INV-000003",
        "Acme GmbH",
        1250.5,
        "a.pdf",
    )
    assert cells["status"] is None
    assert harness.cells("invoices", 2)["id"] == "INV-000001"  # the typed rows stay
    assert harness.cells("invoices", 5)["id"] is None


@pytest.mark.parametrize("kind", ["workbook", "google"])
def test_columns_in_another_order_get_the_values_by_header(kind: str, tmp_path: Path) -> None:
    headers = list(reversed(SCHEMA.tab("invoices").headers("en")))
    typed: list[object] = [None] * len(headers)
    typed[headers.index("ID")] = "INV-000001"
    book = hand_made(kind, tmp_path, headers, [typed])
    book.apply(SheetChanges(appends=[NEW]), book.read().fingerprint)
    rows = book.read().table("invoices").rows
    assert [r.number for r in rows] == [2, 3]
    assert {k: v for k, v in rows[1].values.items() if v is not None} == NEW.values


@backends
def test_an_id_already_in_the_tab_is_not_appended_again(harness: Harness) -> None:
    harness.book.apply(SheetChanges(appends=[NEW]), harness.book.read().fingerprint)
    harness.book.apply(SheetChanges(appends=[NEW]), None)  # a journal replayed
    harness.book.apply(SheetChanges(appends=[NEW]), harness.book.read().fingerprint)
    typed = RowAppend("invoices", "INV-000001", {"supplier": "not me"})  # a person's row
    harness.book.apply(SheetChanges(appends=[typed]), None)
    ids = [r.values["id"] for r in harness.book.read().table("invoices").rows]
    assert ids == ["INV-000001", "INV-000002", "INV-000003"]
    assert harness.cells("invoices", 2)["supplier"] is None


@backends
def test_a_write_in_the_same_changes_finds_the_appended_row(harness: Harness) -> None:
    write = CellWrite("invoices", "INV-000003", 0, "note", "from the folder", None)
    changes = SheetChanges(writes=[write], appends=[NEW])
    assert harness.book.apply(changes, harness.book.read().fingerprint) == []
    assert harness.cells("invoices", 4)["note"] == "from the folder"


@backends
def test_a_tick_killed_after_appending_is_finished_with_one_row_then_planned(
    make: Callable[[], Harness], tmp_path: Path
) -> None:
    book = make()
    state = SqliteState(tmp_path / "state.sqlite")
    changes = SheetChanges(appends=[NEW])
    journal = {
        "changes": encode_changes(changes),
        "snapshot": {},
        "meta": {"next_invoice_no": 4},
        "transitions": [],
        "conflicts": [],
        "applied": False,
    }
    state.save_journal(journal, [])
    book.book.apply(changes, book.book.read().fingerprint)  # then the tick was killed
    engine = Engine(book.book, state, FakeMail(), EmailRenderer(), SCHEMA)
    engine.tick(NOW)
    rows = book.book.read().table("invoices").rows
    assert [r.values["id"] for r in rows] == ["INV-000003"]
    assert rows[0].values["status"] == "New"  # the next plan took it up like a typed row
    assert "Fill in" in str(rows[0].values["note"])
    assert state.load_meta()["next_invoice_no"] == 4
    assert state.load_journal() is None
