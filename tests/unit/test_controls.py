"""The controls finance relies on, on the pure flow: approvals bind to their values, decisions
need a request, paid values never change, duplicates are held, every edit is on the record."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from functions.controls import DuplicateIndex, bound_values, changes, comparable
from functions.directory import Directory, Person
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow
from functions.schema import load_schema
from functions.tick.planner import plan_tick
from tests.builders import (
    APPROVED,
    CLAIMED,
    NOW,
    PAID,
    PEOPLE,
    context,
    invoice,
    recipients,
    statuses,
    step,
    walk,
)
from tests.fakes import FakeBook


def test_bound_values_ignore_how_a_value_is_typed() -> None:
    typed = bound_values(invoice(amount="1 234,50", invoice_date="20.11.2026"), "EUR")
    cells = bound_values(invoice(amount=1234.5, invoice_date="2026-11-20"), "EUR")
    assert typed == cells
    blank_currency = bound_values(invoice(currency=None), "EUR")
    assert blank_currency["currency"] == "EUR"
    assert bound_values(invoice(supplier_email="Billing@ACME.example"), "EUR") == cells


def test_changes_name_each_changed_value_old_and_new() -> None:
    before = bound_values(invoice(amount=100000), "EUR")
    after = bound_values(invoice(amount=9000000), "EUR")
    assert changes(before, after) == [("amount", "100,000.00", "9,000,000.00")]
    assert changes(None, after) == []


def test_a_change_while_awaiting_a_decision_sends_the_signer_an_updated_request() -> None:
    out, _ = walk(invoice(amount=100000), {"amount": 9000000})
    assert out.state.status == "awaiting_decision"
    assert recipients(out) == [("signer_request", "dmitry@example.com")]
    email = out.emails[0]
    assert email.key.endswith(":r2:dmitry@example.com")
    assert email.context["changes"] == [
        {"label": "Amount", "old": "100,000.00", "new": "9,000,000.00"}
    ]
    assert "the signer was sent the updated invoice" in (out.note or "")


def test_a_decision_typed_with_a_value_change_is_not_acted_on() -> None:
    out, _ = walk(invoice(), {"amount": 999, "decision": "Approve"})
    assert out.state.status == "awaiting_decision"
    assert out.writes["decision"] is None
    assert not any(t == "awaiting_accountant" for t in statuses(out))


def test_a_change_after_approval_needs_a_new_decision_and_no_one_pays() -> None:
    out, _ = walk(invoice(amount=100000), *APPROVED, {"amount": 9000000})
    assert out.state.status == "awaiting_decision"
    assert "Amount 100,000.00 → 9,000,000.00 after approval" in (out.note or "")
    assert "needs a new decision" in (out.note or "")
    assert sorted(recipients(out)) == [
        ("approval_void", "irina@example.com"),
        ("approval_void", "sergey@example.com"),
        ("signer_request", "dmitry@example.com"),
    ]
    assert out.writes["decision"] is None  # the old decision is in the Log, not in the cell
    assert out.state.approved is None


def test_a_claim_on_changed_values_is_not_taken() -> None:
    out, _ = walk(
        invoice(), *APPROVED, {"supplier_email": "thief@evil.example", "accountant": "Irina K"}
    )
    assert out.state.status == "awaiting_decision"
    assert ("supplier_in_payment", "thief@evil.example") not in recipients(out)
    assert out.writes["accountant"] is None


def test_a_change_in_payment_releases_the_claim_and_tells_the_accountants() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"supplier": "Other Ltd"})
    assert out.state.status == "awaiting_decision"
    assert out.state.accountant is None
    assert out.writes["accountant"] is None
    assert ("accountant", False, ()) in out.locks
    assert "Supplier Acme Steel → Other Ltd after approval" in (out.note or "")
    assert ("approval_void", "irina@example.com") in recipients(out)


def test_re_approval_of_the_new_values_pays_and_tells_the_supplier_again() -> None:
    out, _ = walk(
        invoice(),
        *CLAIMED,
        {"amount": 2000},
        {"decision": "Approve"},
        {"accountant": "Irina K"},
    )
    assert out.state.status == "in_payment"
    supplier = [e for e in out.emails if e.template == "supplier_in_payment"]
    assert supplier[0].key.endswith(":r2:billing@acme.example")
    assert supplier[0].context["invoice"]["amount"] == "2\u00a0000.00"


def test_a_change_after_payment_is_restored_and_the_typed_value_kept_in_the_log() -> None:
    out, _ = walk(invoice(amount=1234.5), *PAID, {"amount": 99999})
    assert out.state.status == "awaiting_closing_docs"
    assert out.writes["amount"] == 1234.5
    assert "Amount was paid as “1,234.50” and cannot change after payment" in (out.note or "")
    conflict = next(e for e in out.log if e.event == "conflict")
    assert (conflict.from_, conflict.to) == ("99,999.00", "1,234.50")  # Babel, the book's locale
    assert out.emails == []


def test_a_retyped_paid_amount_with_the_same_value_is_not_a_change() -> None:
    out, _ = walk(invoice(amount=1234.5), *PAID, {"amount": "1 234,50"})
    assert out.writes.get("amount", 1234.5) == 1234.5  # kept as the number it is
    assert out.conflicts == []


def test_changing_the_signer_asks_the_new_one_and_tells_the_previous_one() -> None:
    out, _ = walk(invoice(), {"signer": "Elena Sokolova"})
    assert out.state.status == "awaiting_decision"
    assert sorted(recipients(out)) == [
        ("signer_replaced", "dmitry@example.com"),
        ("signer_request", "elena@example.com"),
    ]
    assert ("decision", True, ("elena@example.com",)) in out.locks
    assert "Signer changed from Dmitry Volkov to Elena Sokolova" in (out.note or "")


def test_a_decision_typed_together_with_a_new_signer_waits_for_the_new_signer() -> None:
    out, _ = walk(invoice(), {"signer": "Elena Sokolova", "decision": "Approve"})
    assert out.state.status == "awaiting_decision"
    assert out.writes["decision"] is None


def test_a_request_protects_decision_and_comment_for_the_signer_only() -> None:
    out = step(invoice())
    assert ("decision", True, ("dmitry@example.com",)) in out.locks
    assert ("comment", True, ("dmitry@example.com",)) in out.locks


def test_an_approval_may_be_withdrawn_until_claimed() -> None:
    out, _ = walk(invoice(), *APPROVED, {"decision": "Rework", "comment": "Wrong VAT"})
    assert out.state.status == "rework"
    assert sorted(recipients(out)) == [
        ("approval_void", "irina@example.com"),
        ("approval_void", "sergey@example.com"),
        ("rework_to_manager", "maria@example.com"),
    ]


def test_a_decision_changed_without_comment_after_approval_blocks_the_claim() -> None:
    out, _ = walk(invoice(), *APPROVED, {"decision": "Rework", "accountant": "Irina K"})
    assert out.state.status == "awaiting_accountant"
    assert "Rework needs a Comment" in (out.note or "")
    assert "Decision is no longer Approve" in (out.note or "")
    assert out.emails == []


def test_after_the_claim_the_decision_is_locked_and_restored() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"decision": "Rework", "comment": "changed my mind"})
    assert out.state.status == "in_payment"
    assert out.writes["decision"] == "Approve"
    assert "Decision is locked: Irina K has taken the invoice into payment" in (out.note or "")


def test_paid_on_typed_before_approval_is_flagged_when_typed() -> None:
    out, _ = walk(invoice(), {"paid_on": "28.11.2026"})
    assert out.state.status == "awaiting_decision"
    assert "Paid on is filled in but the invoice is not approved yet" in (out.note or "")


def test_paid_on_typed_before_approval_is_not_acted_on_at_approval() -> None:
    out, _ = walk(invoice(), {"paid_on": "28.11.2026"}, {"decision": "Approve"})
    assert out.state.status == "awaiting_accountant"
    assert out.writes["paid_on"] is None
    assert "filled in before the invoice was approved" in (out.note or "")


def test_every_edit_of_a_watched_column_is_logged_old_to_new() -> None:
    out, _ = walk(invoice(), {"comment": "please hurry"})
    edit = next(e for e in out.log if e.event == "edited")
    assert (edit.details, edit.from_, edit.to) == ("Comment", "", "please hurry")
    assert edit.event_shown == "Edited"


def test_log_names_people_as_written_in_people() -> None:
    out = step(invoice(manager="  maria LOPEZ "))
    created = next(e for e in out.log if e.event == "created")
    assert created.by == "Maria Lopez"
    email = next(e for e in out.log if e.event == "email")
    assert (email.to, email.details) == ("Dmitry Volkov", "request to the signer")


def test_suppliers_and_numbers_match_ignoring_case_spaces_and_punctuation() -> None:
    assert comparable(" ООО «Ромашка» ") == comparable("ооо ромашка")
    assert comparable("A-17") == comparable("a 17")
    index = DuplicateIndex(
        [
            ("INV-000001", invoice(supplier="Acme Steel", invoice_no="A-17")),
            ("INV-000002", invoice(supplier="ACME steel.", invoice_no="a 17")),
            ("INV-000003", invoice(supplier="Other", supplier_email="x@y.example")),
        ]
    )
    assert index.others("INV-000002", invoice(supplier="ACME steel.", invoice_no="a 17")) == [
        "INV-000001"
    ]
    by_email = invoice(supplier="Acme (renamed)", invoice_no="A17")
    assert index.others("INV-000009", by_email) == ["INV-000001", "INV-000002"]


def _invoices(plan: Any) -> dict[str, Any]:
    """The planned snapshot of the Invoices tab (typed loosely: tests index into it)."""
    invoices: dict[str, Any] = plan.snapshot["invoices"]
    return invoices


def _read(rows: list[dict[str, Any]]) -> Any:
    book = FakeBook([(p.name, p.email, p.role, "Yes") for p in PEOPLE.people if p.active])
    book.tabs["invoices"] = rows
    return book.read()


def test_the_same_supplier_invoice_entered_twice_is_held_until_confirmed() -> None:
    schema = load_schema()
    rows = [invoice(), invoice(id="INV-000002", supplier="ACME STEEL", invoice_no="a-17")]
    first = plan_tick(_read(rows), {}, {}, schema, NOW)
    held = _invoices(first)["INV-000002"]
    assert held["state"]["status"] == "new"
    assert "Looks like a duplicate of INV-000001 (Awaiting decision)" in str(held["values"]["note"])
    assert _invoices(first)["INV-000001"]["state"]["status"] == "awaiting_decision"
    snapshot = {"invoices": dict(_invoices(first))}
    rows[1] = {**held["values"], "comment": "different invoice than INV-000001"}
    rows[0] = dict(_invoices(first)["INV-000001"]["values"])
    second = plan_tick(_read(rows), snapshot, first.meta, schema, NOW + timedelta(minutes=1))
    assert _invoices(second)["INV-000002"]["state"]["status"] == "awaiting_decision"
    assert _invoices(second)["INV-000002"]["state"]["distinct_from"] == ["INV-000001"]
    assert any(e.event == "confirmed" for e in second.changes.log)


def test_a_copied_row_with_a_cleared_id_starts_from_new_and_is_held_as_a_duplicate() -> None:
    schema = load_schema()
    closed = invoice(
        decision="Approve",
        accountant="Irina K",
        paid_on="28.11.2026",
        closing_docs="https://files.example/waybill",
    )
    rows = [closed]
    snapshot: dict[str, Any] = {
        "invoices": {
            "INV-000001": {
                "values": dict(closed),
                "state": {"status": "closed", "round": 1, "accountant": "Irina K"},
            }
        }
    }
    rows.append({**closed, "id": None})  # the copy, its ID cleared as the Note said
    plan = plan_tick(_read(rows), snapshot, {"next_invoice_no": 2}, schema, NOW)
    copy = _invoices(plan)["INV-000002"]
    assert copy["state"]["status"] == "new"
    assert "Looks like a duplicate of INV-000001 (Closed)" in str(copy["values"]["note"])
    assert not [e for e in plan.emails if e.record == "INV-000002"]


def test_row_reads_hold_numbers_as_people_typed_them() -> None:
    # The flow compares canonical values, so a number cell and its text are the same amount.
    assert step(invoice(amount="1 234,50")).state.requested == step(invoice()).state.requested
    assert SheetRow(2, invoice()).get("amount") == 1234.5


def test_two_new_rows_for_the_same_supplier_invoice_in_one_tick_hold_the_second() -> None:
    schema = load_schema()
    rows = [invoice(id=None), invoice(id=None, supplier="acme steel")]
    plan = plan_tick(_read(rows), {}, {}, schema, NOW)
    invoices = _invoices(plan)
    assert invoices["INV-000001"]["state"]["status"] == "awaiting_decision"
    assert invoices["INV-000002"]["state"]["status"] == "new"


def test_a_russian_note_quotes_the_way_russian_does() -> None:
    from functions.invoice_flow import plan_invoice
    from tests.builders import context

    out = plan_invoice(
        "INV-000001", SheetRow(2, invoice(decision="Согласовать")), None, context(locale="ru")
    )
    assert "Решение «Согласовать»: заполнено до запроса подписанту" in (out.note or "")


# -- a protected cell typed over is put back, and the Note and the Log say why ----------


def test_a_typed_status_is_put_back_with_one_conflict_line_saying_what_and_why() -> None:
    out, _ = walk(invoice(id="INV-000007"), {"status": "Closed"})
    said = (
        "Status is filled in by sheetflow; “Closed” was replaced by “Awaiting decision”"
        " (kept in the Log)"
    )
    assert out.conflicts == [said]
    assert out.note == said
    (line,) = [e for e in out.log if e.event == "conflict"]
    assert (line.record, line.from_, line.to, line.by, line.details) == (
        "INV-000007",
        "Closed",
        "Awaiting decision",
        "Status",
        said,
    )


def test_an_overwritten_claim_is_put_back_and_logged_as_a_conflict_not_as_an_edit() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"accountant": "Sergey Popov"})
    assert out.values["accountant"] == "Irina K"
    assert [e.event for e in out.log] == ["conflict"]  # no "edited" line for the typed name


def test_a_decision_changed_after_a_claim_typed_as_an_address_names_the_accountant() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Approve"},
        {"accountant": "IRINA@example.com"},
        {"decision": "Rework"},
    )
    assert out.state.status == "in_payment"
    assert out.note == (
        "Decision is locked: Irina K has taken the invoice into payment; “Rework” was replaced by"
        " “Approve” (kept in the Log)"
    )


def step_with(people: Directory, values: dict[str, Any], previous: Any = None) -> RowOutcome:
    return plan_invoice("INV-000001", SheetRow(2, values), previous, context(people=people))


def test_the_accountant_is_named_as_their_accountant_row_even_if_they_manage_too() -> None:
    # One person, two rows in People: as a manager "Irina", as an accountant "Irina K".
    people = Directory((Person("Irina", "irina@example.com", "manager", True), *PEOPLE.people))
    out = step_with(people, invoice())
    for edit in (
        {"decision": "Approve"},
        {"accountant": "irina@example.com"},
        {"decision": "Rework"},
    ):
        out = step_with(
            people,
            {**out.values, **edit},
            {"values": dict(out.values), "state": out.state.to_json()},
        )
    assert out.state.status == "in_payment"
    assert (out.note or "").startswith("Decision is locked: Irina K has taken the invoice")
