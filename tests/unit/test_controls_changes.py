"""What a signer is told changed, value by value as people read it, and which invoices look the
same supplier invoice by name alone; the controls' edges on the pure flow: approvals from old
snapshots, Paid on that cannot be read or is too early in the book's time zone, confirmed
duplicates, cells typed too early."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from functions.controls import DuplicateIndex, bound_values, changes
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow, Stored
from tests.builders import APPROVED, CLAIMED, NOW, SETTINGS, carry, context, invoice, step, walk


def test_changes_are_shown_in_the_books_language() -> None:
    before = bound_values(invoice(amount=100000, invoice_date="20.11.2026"), "EUR")
    after = bound_values(invoice(amount=9000000, invoice_date="21.11.2026"), "EUR")
    assert changes(before, after, "ru") == [
        ("invoice_date", "20.11.2026", "21.11.2026"),
        ("amount", "100\u00a0000,00", "9\u00a0000\u00a0000,00"),
    ]
    assert changes(before, after) == [
        ("invoice_date", "Nov 20, 2026", "Nov 21, 2026"),
        ("amount", "100,000.00", "9,000,000.00"),
    ]


def test_an_invoice_number_made_of_digits_is_shown_as_typed_not_as_money_or_a_date() -> None:
    before = bound_values(invoice(invoice_no="1717"), "EUR")
    after = bound_values(invoice(invoice_no="20261120"), "EUR")
    assert changes(before, after) == [("invoice_no", "1717", "20261120")]


def test_a_value_the_signer_was_not_shown_reads_as_a_dash() -> None:
    """A request stored before Supplier email was bound: it was not part of the decision."""
    now = bound_values(invoice(supplier_email="billing@acme.example"), "EUR")
    before = {k: v for k, v in now.items() if k != "supplier_email"}
    assert changes(before, now) == [("supplier_email", "—", "billing@acme.example")]
    blank = bound_values(invoice(invoice_file=None), "EUR")
    assert changes({k: v for k, v in blank.items() if k != "invoice_file"}, blank) == []


def test_the_same_supplier_by_name_with_another_address_is_still_a_duplicate() -> None:
    index = DuplicateIndex([("INV-000001", invoice(supplier="Acme Steel", invoice_no="A-17"))])
    renamed = invoice(supplier="ACME steel", supplier_email="accounts@acme.example")
    assert index.others("INV-000002", renamed) == ["INV-000001"]
    nameless = invoice(supplier=None, supplier_email="accounts@acme.example")
    assert index.others("INV-000002", nameless) == []


def test_values_that_do_not_read_are_compared_and_shown_as_typed() -> None:
    before = bound_values(invoice(invoice_date="someday", amount="a lot", invoice_no="A 17"), "EUR")
    after = bound_values(invoice(invoice_date="20.11.2026", amount=5, invoice_no="B  17"), "EUR")
    assert changes(before, after) == [
        ("invoice_no", "A 17", "B 17"),
        ("invoice_date", "someday", "Nov 20, 2026"),
        ("amount", "a lot", "5.00"),
    ]
    retyped = bound_values(invoice(invoice_date="sometime", amount="plenty"), "EUR")
    assert [c for c, _, _ in changes(before, retyped)] == ["invoice_no", "invoice_date", "amount"]


def test_a_supplier_spelt_with_yo_or_ye_is_the_same_supplier() -> None:
    index = DuplicateIndex([("INV-000001", invoice(supplier="ООО Ёлка", invoice_no="17"))])
    assert index.others(
        "INV-000002", invoice(supplier="ооо елка", invoice_no="17", supplier_email="x@y.example")
    ) == ["INV-000001"]


def test_a_duplicate_needs_an_invoice_number_and_a_supplier_name_or_address() -> None:
    index = DuplicateIndex(
        [
            ("INV-000001", invoice(supplier="Acme", supplier_email=None, invoice_no="17")),
            ("INV-000002", invoice(supplier="Acme", invoice_no=None)),
        ]
    )
    assert index.others(
        "INV-000003", invoice(supplier="Acme", supplier_email=None, invoice_no="17")
    ) == ["INV-000001"]
    assert index.others("INV-000003", invoice(supplier="Acme", invoice_no=" ")) == []


def test_another_currency_after_approval_needs_a_new_decision() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"}, {"currency": "usd"})
    assert out.state.status == "awaiting_decision"
    assert [e.template for e in out.emails] == ["signer_request", *["approval_void"] * 2]
    for email in out.emails:
        assert email.context["changes"] == [{"label": "Currency", "old": "EUR", "new": "USD"}]
    assert "Currency EUR → USD after approval — needs a new decision" in (out.note or "")


def test_another_invoice_file_while_awaiting_a_decision_is_sent_to_the_signer() -> None:
    out, _ = walk(invoice(), {"invoice_file": "https://files.example/A-17-fixed.pdf"})
    [request] = out.emails
    assert request.key.endswith(":r2:dmitry@example.com")
    assert request.context["changes"] == [
        {
            "label": "Invoice file",
            "old": "https://files.example/A-17.pdf",
            "new": "https://files.example/A-17-fixed.pdf",
        }
    ]


def test_an_index_asked_only_about_some_values_keeps_just_the_invoices_that_look_like_them() -> (
    None
):
    acme = invoice(supplier="Acme", supplier_email="billing@acme.example", invoice_no="17")
    by_address = invoice(
        supplier="Acme Ltd", supplier_email="BILLING@acme.example", invoice_no="17"
    )
    other = invoice(supplier="Globex", supplier_email="billing@globex.example", invoice_no="17")
    index = DuplicateIndex(
        [("INV-000001", acme), ("INV-000002", by_address), ("INV-000003", other)], only=[acme]
    )
    assert index.others("INV-000009", acme) == ["INV-000001", "INV-000002"]
    assert index.others("INV-000009", other) == []  # not kept: it was not asked about
    assert index.covers(acme)
    assert index.covers(invoice(supplier="ACME", supplier_email=None, invoice_no="17"))
    assert not index.covers(other)
    assert not index.covers(invoice(supplier="Acme", supplier_email="new@acme.example"))
    assert index.covers(invoice(invoice_no=None))  # incomplete: never a duplicate anyway
    index.add("INV-000004", other)  # an invoice given its ID this tick is always kept
    assert index.others("INV-000009", other) == ["INV-000004"]
    everything = DuplicateIndex([("INV-000003", other)])
    assert everything.covers(acme)
    assert everything.others("INV-000009", other) == ["INV-000003"]


# -- the controls' edges on the pure flow -------------------------------------------------


def plan(
    values: dict[str, Any],
    previous: dict[str, Any] | None,
    locale: str = "en",
    currency: str = "EUR",
    duplicates: list[tuple[str, str]] | None = None,
) -> RowOutcome:
    ctx = context(locale=locale, settings=replace(SETTINGS, currency=currency))

    def others(record: str, typed: Any) -> list[tuple[str, str]]:
        return list(duplicates or [])

    return plan_invoice(str(values["id"]), SheetRow(2, values), previous, ctx, others)


def legacy(flow_status: str, **values: Stored) -> dict[str, Any]:
    """A snapshot entry from before approvals were bound: no requested or approved values."""
    state = {"status": flow_status, "round": 1, "signer": "Dmitry Volkov", "approved_at": None}
    if flow_status != "awaiting_decision":
        state["approved_at"] = NOW.isoformat(timespec="seconds")
    return {"values": invoice(**values), "state": state}


def test_an_old_snapshots_approval_binds_to_the_values_last_seen() -> None:
    entry = legacy("awaiting_accountant", decision="Approve", status="Awaiting accountant")
    unchanged = plan(dict(entry["values"]), entry)
    assert unchanged.state.status == "awaiting_accountant"
    assert unchanged.note is None
    changed = plan({**entry["values"], "amount": 99999}, entry)
    assert changed.state.status == "awaiting_decision"
    assert (changed.note or "").startswith(
        "Amount 1,234.50 → 99,999.00 after approval — needs a new decision. "
    )


def test_an_old_snapshots_request_binds_to_the_values_last_seen() -> None:
    entry = legacy("awaiting_decision", status="Awaiting decision")
    unchanged = plan(dict(entry["values"]), entry)
    assert (unchanged.emails, unchanged.note) == ([], None)
    changed = plan({**entry["values"], "amount": 99999}, entry)
    assert changed.note == "Amount 1,234.50 → 99,999.00: the signer was sent the updated invoice"
    assert [e.key for e in changed.emails] == [
        "invoice:INV-000001:signer_request:r2:dmitry@example.com"
    ]


def test_an_invoice_without_currency_approved_in_eur_needs_a_new_decision_in_usd() -> None:
    _, approved = walk(invoice(currency=None), *APPROVED)
    assert approved["state"]["status"] == "awaiting_accountant"
    out = plan(dict(approved["values"]), approved, currency="USD")  # Settings' currency changed
    assert out.state.status == "awaiting_decision"
    assert out.note == "Currency EUR → USD after approval — needs a new decision"


def test_an_invoice_without_currency_awaiting_a_decision_is_asked_again_in_usd() -> None:
    asked = carry(step(invoice(currency=None)))
    out = plan(dict(asked["values"]), asked, currency="USD")
    assert out.note == "Currency EUR → USD: the signer was sent the updated invoice"
    assert [e.template for e in out.emails] == ["signer_request"]


def test_an_unreadable_paid_on_keeps_the_invoice_in_payment_and_says_why() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"paid_on": "someday"})
    assert out.state.status == "in_payment"
    assert out.emails == []
    assert out.note == "Paid on “someday” is not a date: write it as 28.11.2026 or 2026-11-28"


def test_an_unreadable_paid_on_is_said_in_a_russian_books_language() -> None:
    _, claimed = walk(invoice(), *CLAIMED)
    out = plan({**claimed["values"], "paid_on": "когда-то"}, claimed, locale="ru")
    assert out.state.status == "in_payment"
    assert out.note == "Дата оплаты «когда-то» — не дата: пишите как 28.11.2026 или 2026-11-28"


def test_paid_on_is_compared_with_the_approval_day_in_the_books_time_zone() -> None:
    late = datetime(2026, 11, 28, 23, 30, tzinfo=UTC)  # already 29 November in Berlin
    first = step(invoice())
    approved = step({**first.values, "decision": "Approve"}, carry(first), late)
    claimed = step({**approved.values, "accountant": "Irina K"}, carry(approved), late)
    paid = step({**claimed.values, "paid_on": "28.11.2026"}, carry(claimed), late)
    assert paid.state.status == "in_payment"
    assert paid.note == "Paid on 2026-11-28 is before the invoice was approved (2026-11-29)"
    next_day = step({**paid.values, "paid_on": "29.11.2026"}, carry(paid), late)
    assert next_day.state.status == "awaiting_closing_docs"


def test_a_confirmed_duplicate_is_logged_with_the_manager_and_every_invoice_named() -> None:
    others = [("INV-000001", "In payment"), ("INV-000003", "New")]
    row = invoice(id="INV-000002", comment="Not inv-000001 nor INV-000003: another delivery")
    out = plan(row, None, duplicates=others)
    assert out.state.status == "awaiting_decision"
    (line,) = [e for e in out.log if e.event == "confirmed"]
    assert (line.record, line.by, line.details) == (
        "INV-000002",
        "Maria Lopez",
        "confirmed as a different invoice from INV-000001, INV-000003",
    )


def test_a_decision_and_comment_typed_before_the_request_are_named_in_the_order_typed() -> None:
    out = step(invoice(decision="Approve", comment="looks fine", accountant="Irina K"))
    assert out.state.status == "awaiting_decision"
    assert out.note == (
        "Decision “Approve”, Comment “looks fine”, Accountant “Irina K” was filled in before"
        " the signer was asked: not acted on, cleared (kept in the Log)"
    )
    (line,) = [e for e in out.log if e.event == "not_acted_on"]
    assert (line.record, line.details) == (
        "INV-000001",
        "Decision: Approve; Comment: looks fine; Accountant: Irina K",
    )


def test_a_lone_decision_typed_before_the_request_comes_before_its_comment() -> None:
    out = step(invoice(decision="Approve", comment="looks fine"))
    assert out.note == (
        "Decision “Approve”, Comment “looks fine” was filled in before the signer was asked:"
        " not acted on, cleared (kept in the Log)"
    )


def test_a_new_decision_typed_before_a_resubmission_is_asked_again_not_cleared_quietly() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Rework", "comment": "fix the VAT"},
        {"invoice_file": "https://files.example/A-17-v2.pdf", "decision": "Approve"},
    )
    assert out.state.status == "awaiting_decision"
    assert out.note == (
        "Decision “Approve”, Comment “fix the VAT” was filled in before the signer was asked:"
        " not acted on, cleared (kept in the Log)"
    )
    assert (out.values["decision"], out.values["comment"]) == (None, None)


def test_a_claim_released_by_a_change_is_logged_as_cleared_with_the_accountant() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"amount": 99999})
    assert out.state.status == "awaiting_decision"
    assert out.values["accountant"] is None
    cleared = [(e.record, e.details) for e in out.log if e.event == "cleared"]
    assert ("INV-000001", "Accountant: Irina K") in cleared
