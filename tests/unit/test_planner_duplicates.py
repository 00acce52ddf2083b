"""The planner's duplicate check indexes only what the tick's rows could match, and still
finds every duplicate when asked about values it did not foresee."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.sqlite.state import SqliteState
from functions.controls import DuplicateIndex
from functions.model import SheetRow
from functions.notify import EmailRenderer
from functions.record import Record, shape
from functions.schema import load_schema
from functions.tick.diff import diff_table
from functions.tick.engine import Engine
from functions.tick.plan_invoices import _Duplicates
from tests.builders import NOW, context, invoice
from tests.fakes import FakeBook, FakeMail

SCHEMA = load_schema()

COLUMNS = ("id", "supplier", "supplier_email", "invoice_no")


def row(number: int, record: str, supplier: str, no: str) -> SheetRow:
    values = (record, supplier, f"billing@{supplier.lower()}.example", no)
    return SheetRow(number, Record(shape(COLUMNS), values))


def test_asked_about_unforeseen_values_it_looks_at_every_invoice_and_keeps_those_added() -> None:
    rows = [row(2, "INV-000001", "Acme", "17"), row(3, "INV-000002", "Globex", "18")]
    diff = diff_table({}, rows, "id", COLUMNS)
    new = row(4, "", "Initech", "19")
    duplicates = _Duplicates(diff, {}, {}, context(), asked=[rows[0], new])
    assert duplicates("INV-000009", invoice(supplier="Acme", invoice_no="17")) == [
        ("INV-000001", "New")
    ]
    assert duplicates.asked is not None  # foreseen: the small index answered
    duplicates.add("INV-000003", new)
    globex = invoice(supplier="Globex", supplier_email="billing@globex.example", invoice_no="18")
    assert duplicates("INV-000009", globex) == [("INV-000002", "New")]
    assert duplicates.asked is None  # unforeseen: every invoice was indexed ...
    initech = invoice(supplier="Initech", supplier_email=None, invoice_no="19")
    assert duplicates("INV-000009", initech) == [("INV-000003", "New")]  # ... with the added


def test_every_row_planned_means_one_index_of_every_invoice() -> None:
    rows = [row(2, "INV-000001", "Acme", "17"), row(3, "INV-000002", "Globex", "18")]
    duplicates = _Duplicates(diff_table({}, rows, "id", COLUMNS), {}, {}, context(), asked=None)
    globex = invoice(supplier="Globex", invoice_no="18")
    assert duplicates("INV-000009", globex) == [("INV-000002", "New")]
    index = duplicates.index
    assert duplicates("INV-000009", invoice(supplier="Acme", invoice_no="17"))
    assert duplicates.index is index  # built once


def test_a_busy_tick_indexes_only_what_its_rows_could_match_a_replan_indexes_everything(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from functions.tick import plan_invoices

    asked: list[list[str] | None] = []

    class Recording(DuplicateIndex):
        def __init__(self, invoices: Any, only: Any = None) -> None:
            only = None if only is None else list(only)
            asked.append(None if only is None else sorted(str(v["invoice_no"]) for v in only))
            super().__init__(invoices, only)

    monkeypatch.setattr(plan_invoices, "DuplicateIndex", Recording)
    book = FakeBook()
    book.tabs["invoices"] += [
        {**invoice(invoice_no=f"A-{i}", supplier="Acme"), "id": None} for i in range(3)
    ]
    engine = Engine(book, SqliteState(tmp_path / "s.sqlite"), FakeMail(), EmailRenderer(), SCHEMA)
    engine.tick(NOW)
    engine.tick(NOW + timedelta(minutes=1))
    asked.clear()
    book.tabs["invoices"].append({**invoice(invoice_no="A-1", supplier="Acme"), "id": None})
    engine.tick(NOW + timedelta(minutes=2))
    assert asked == [["A-1"]]  # the new row's look-alikes only
    asked.clear()
    book.tabs["people"].append(
        {"name": "Olga New", "email": "olga@example.com", "role": "manager", "active": "Yes"}
    )
    book.tabs["invoices"].append({**invoice(invoice_no="A-2", supplier="Acme"), "id": None})
    engine.tick(NOW + timedelta(minutes=3))
    assert asked == [None]  # every row planned again: one index of every invoice
