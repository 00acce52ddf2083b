"""The controls on a Google Sheet: per-row protection of a decision for its signer, bounded
protected ranges, a changed approval sent back, and a state that is not the book's refused.

The Sheets double enforces protected ranges as Google does (the owner always may edit, an
editor not listed may not); the state is the real Firestore emulator.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest

from functions.adapters.firestore.state import FirestoreState
from functions.adapters.gsheets.cells import LOCK
from functions.notify import EmailRenderer
from functions.tick.engine import Engine
from tests.builders import typed_invoice
from tests.google_double import GoogleDouble
from tests.google_double.people import SheetEditor
from tests.integration.test_cloud_google import SCHEMA, call, deployment  # noqa: F401

DIRECTOR_2 = ("Elena Sokolova", "elena@example.com", "director", True)


def an_invoice(**overrides: Any) -> dict[str, Any]:
    typed = typed_invoice("A-1", supplier_email="b@acme.example")
    return {**typed, "invoice_file": "https://files.example/a1.pdf", **overrides}


def lock_protections(double: GoogleDouble, sid: str) -> list[dict[str, Any]]:
    book = double.book(sid)
    return [
        p
        for sheet in book.ordered()
        for p in sheet.protected_ranges
        if str(p.get("description", "")).startswith(LOCK)
    ]


def test_a_decision_can_be_made_only_by_the_signer_who_was_asked(
    deployment: dict[str, Any],  # noqa: F811 - the fixture
) -> None:
    editor: SheetEditor = deployment["editor"]
    editor.add_row("invoices", an_invoice())
    call(deployment)
    assert editor.may_edit("invoices", "INV-000001", "decision", "dmitry@example.com")
    assert editor.may_edit("invoices", "INV-000001", "comment", "dmitry@example.com")
    for other in ("maria@example.com", "irina@example.com"):
        assert not editor.may_edit("invoices", "INV-000001", "decision", other)
        assert not editor.may_edit("invoices", "INV-000001", "comment", other)
    with pytest.raises(Exception, match="protected"):
        editor.as_user("maria@example.com").set("invoices", "INV-000001", {"decision": "Approve"})
    editor.as_user("dmitry@example.com").set("invoices", "INV-000001", {"decision": "Approve"})
    call(deployment)
    editor.as_user("irina@example.com").set("invoices", "INV-000001", {"accountant": "Irina K"})
    call(deployment)
    # Claimed: the decision is locked for everyone but sheetflow (and the sheet's owner).
    assert not editor.may_edit("invoices", "INV-000001", "decision", "dmitry@example.com")
    assert editor.row("invoices", "INV-000001")["status"] == "In payment"


def test_an_amount_changed_after_approval_goes_back_to_the_signer_and_no_one_pays(
    deployment: dict[str, Any],  # noqa: F811
) -> None:
    editor: SheetEditor = deployment["editor"]
    editor.add_row("invoices", an_invoice(amount=100000))
    call(deployment)
    editor.as_user("dmitry@example.com").set("invoices", "INV-000001", {"decision": "Approve"})
    call(deployment)
    editor.as_user("maria@example.com").set(
        "invoices", "INV-000001", {"amount": 9000000, "supplier_email": "evil@x.example"}
    )
    editor.as_user("irina@example.com").set("invoices", "INV-000001", {"accountant": "Irina K"})
    body, status, _ = call(deployment)
    assert status == 200
    row = editor.row("invoices", "INV-000001")
    assert row["status"] == "Awaiting decision"
    assert "Amount 100,000.00 → 9,000,000.00" in row["note"]
    assert "after approval — needs a new decision" in row["note"]
    to = [m.received["To"] for m in deployment["gmail"].sent]
    assert not any("evil@x.example" in t or "b@acme.example" in t for t in to)
    log = editor.log()
    edited = [r for r in log if r[3] == "Edited" and r[7] == "Amount"]
    assert edited
    assert (edited[-1][4], edited[-1][5]) == (
        "100,000.00",
        "9,000,000.00",
    )  # Babel, the book's locale


def test_a_book_whose_firestore_state_is_gone_sends_nothing(
    deployment: dict[str, Any],  # noqa: F811
    firestore_client: Any,
) -> None:
    editor: SheetEditor = deployment["editor"]
    editor.add_row("invoices", an_invoice())
    call(deployment)
    sent = len(deployment["gmail"].sent)
    engine: Engine = deployment["engine"]
    fresh = FirestoreState(firestore_client, root=f"sheetflow-test/{uuid.uuid4().hex}")
    deployment["engine"] = Engine(engine.book, fresh, engine.mail, EmailRenderer(), SCHEMA)
    editor.as_user("dmitry@example.com").set("invoices", "INV-000001", {"comment": "hm"})
    body, status, _ = call(deployment)
    assert status == 500
    assert "its state" in body["error"]
    assert "is missing" in body["error"]
    assert len(deployment["gmail"].sent) == sent
    assert "adopted" not in str(editor.log())
    deployment["engine"].adopt()
    assert editor.log()[-1][3] == "Adopted"
    body, status, _ = call(deployment)
    assert status == 200
    assert len(deployment["gmail"].sent) == sent  # nothing past is sent again


def test_closed_invoices_keep_no_protected_ranges(
    deployment: dict[str, Any],  # noqa: F811
) -> None:
    """Invoices through the whole story: the locks are gone once each is Closed.

    `python -m bench.protections` runs the same story for 1,000 invoices (too slow for CI).
    """
    count = 40
    editor: SheetEditor = deployment["editor"]
    owner, sid, double = editor, deployment["sid"], deployment["sheets"]
    owner.append_rows(
        "invoices", [an_invoice(invoice_no=f"N-{n}", amount=100 + n) for n in range(count)]
    )
    call(deployment)
    ids = [f"INV-{n:06d}" for n in range(1, count + 1)]
    awaiting = len(lock_protections(double, sid))
    assert awaiting == 2 * count  # Decision and Comment, for the signer
    for columns in (
        {"decision": "Approve"},
        {"accountant": "Irina K"},
        {"paid_on": datetime.now(UTC).strftime("%d.%m.%Y")},  # the functions tick "now"
        {"closing_docs": "https://files.example/waybill"},
    ):
        _set_all(owner, ids, columns)
        call(deployment)
    statuses = {r["status"] for r in owner.rows("invoices")}
    assert statuses == {"Closed"}
    assert lock_protections(double, sid) == []
    print(f"\nprotected ranges: {awaiting} while awaiting decisions, 0 after {count} closed")


def _set_all(editor: SheetEditor, ids: list[str], values: dict[str, Any]) -> None:
    grid = editor.grid("invoices")
    columns = editor.columns("invoices", grid[0])
    id_col = columns["id"]
    for index, line in enumerate(grid[1:], start=2):
        if line and len(line) > id_col and line[id_col] in ids:
            editor.put("invoices", index, values)
