"""The planner's duplicate check indexes only what the tick's rows could match, and still
finds every duplicate when asked about values it did not foresee."""

from __future__ import annotations

from functions.diff import diff_table
from functions.model import SheetRow
from functions.planner import _Duplicates
from functions.record import Record, shape
from tests.builders import context, invoice

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
