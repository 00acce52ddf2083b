"""Edges of the controls on the pure flow: approvals from old snapshots, Paid on that cannot be
read or is too early in the book's time zone, confirmed duplicates, cells typed too early."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from functions.flow_context import FlowContext
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow, Stored
from functions.schema import load_schema
from tests.builders import NOW, PEOPLE, SETTINGS, carry, invoice, step, walk

APPROVED = ({"decision": "Approve"},)
CLAIMED = (*APPROVED, {"accountant": "Irina K"})


def plan(
    values: dict[str, Any],
    previous: dict[str, Any] | None,
    locale: str = "en",
    currency: str = "EUR",
    duplicates: list[tuple[str, str]] | None = None,
) -> RowOutcome:
    ctx = FlowContext(load_schema(), locale, PEOPLE, replace(SETTINGS, currency=currency), NOW)  # type: ignore[arg-type]

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
