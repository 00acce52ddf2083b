"""The controls on the workbook, through the CLI as people meet them: an approval bound to its
values, a decision typed before the request, the same supplier invoice twice, paid values."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from tests.builders import typed_invoice
from tests.e2e.cli import tick

SCHEMA = load_schema()
ACME = typed_invoice("A-17", supplier="Acme Steel", supplier_email="b@acme.example", amount=100000)


def sent(folder: Path) -> list[tuple[str, str]]:
    """(To, Subject) of every email written to the outbox so far."""
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((folder / "outbox").glob("*.eml"))
    ]
    return [(str(m["To"]), str(m["Subject"])) for m in messages]


def test_an_amount_changed_after_approval_goes_back_to_the_signer_and_nobody_is_paid(
    book: Path,
) -> None:
    edit = WorkbookEditor(book, SCHEMA)
    edit.add_row("invoices", ACME)
    tick(book, "2026-11-28T09:00+01:00")
    edit.set("invoices", "INV-000001", {"decision": "Approve"})
    tick(book, "2026-11-28T09:10+01:00")
    before = len(sent(book.parent))
    edit.set("invoices", "INV-000001", {"amount": 9000000, "accountant": "Irina K"})
    tick(book, "2026-11-28T09:20+01:00")
    row = edit.row("invoices", "INV-000001")
    assert row["status"] == "Awaiting decision"
    assert "Amount 100,000.00 → 9,000,000.00 after approval — needs a new decision" in row["note"]
    assert (row["decision"], row["accountant"]) == (None, None)
    new = sent(book.parent)[before:]
    assert not any("b@acme.example" in to for to, _ in new)  # no supplier email
    assert any("dmitry@example.com" in to for to, _ in new)  # the signer is asked again
    assert any("Do not pay" in subject for _, subject in new)  # the accountants are told
    log = edit.rows("log")
    assert any(r["event"] == "Edited" and r["details"] == "Amount" for r in log)


def test_a_decision_typed_before_the_request_is_not_acted_on(
    book: Path,
) -> None:
    edit = WorkbookEditor(book, SCHEMA)
    edit.add_row("invoices", {**ACME, "decision": "Approve", "accountant": "Irina K"})
    out = tick(book, "2026-11-28T09:00+01:00")
    row = edit.row("invoices", "INV-000001")
    assert row["status"] == "Awaiting decision"
    assert "filled in before the signer was asked" in row["note"]
    assert "Awaiting accountant" not in out
    cleared = [r for r in edit.rows("log") if r["event"] == "Not acted on"]
    assert "Decision: Approve" in cleared[0]["details"]
    assert "Accountant: Irina K" in cleared[0]["details"]


def test_the_same_supplier_invoice_twice_is_held_until_confirmed(
    book: Path,
) -> None:
    edit = WorkbookEditor(book, SCHEMA)
    edit.add_row("invoices", ACME)
    tick(book, "2026-11-28T09:00+01:00")
    edit.add_row("invoices", {**ACME, "supplier": "ACME steel", "invoice_no": "a17"})
    tick(book, "2026-11-28T09:10+01:00")
    second = edit.row("invoices", "INV-000002")
    assert second["status"] == "New"
    assert "Looks like a duplicate of INV-000001 (Awaiting decision)" in second["note"]
    edit.set("invoices", "INV-000002", {"comment": "INV-000001 was the deposit"})
    tick(book, "2026-11-28T09:20+01:00")
    assert edit.row("invoices", "INV-000002")["status"] == "Awaiting decision"
    assert any(r["event"] == "Confirmed" for r in edit.rows("log"))


def test_a_paid_amount_is_restored_and_the_typed_value_kept_in_the_log(
    book: Path,
) -> None:
    edit = WorkbookEditor(book, SCHEMA)
    edit.add_row("invoices", ACME)
    tick(book, "2026-11-28T09:00+01:00")
    for values in ({"decision": "Approve"}, {"accountant": "Irina K", "paid_on": "28.11.2026"}):
        edit.set("invoices", "INV-000001", values)
        tick(book, "2026-11-28T09:10+01:00")
    edit.set("invoices", "INV-000001", {"amount": 5})
    tick(book, "2026-11-28T09:30+01:00")
    row = edit.row("invoices", "INV-000001")
    assert row["amount"] == 100000
    assert "cannot change after payment" in row["note"]
    restored = [r for r in edit.rows("log") if r["event"] == "Restored"]
    assert (restored[-1]["from"], restored[-1]["to"]) == (
        "5.00",
        "100,000.00",
    )  # Babel: amounts as the book writes them
