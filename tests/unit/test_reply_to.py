"""Emails people can answer: each email's Reply-To is whoever can act on a reply."""

from __future__ import annotations

from dataclasses import replace

from functions.invoice_flow import plan_invoice
from functions.model import SheetRow
from tests.builders import SETTINGS, context, invoice, step, walk


def reply_to(out: object, template: str) -> list[str]:
    return [
        r.email
        for e in out.emails  # type: ignore[attr-defined]
        if e.template == template
        for r in e.reply_to
    ]


def test_the_signer_request_is_answered_to_the_manager() -> None:
    out = step(invoice())
    assert reply_to(out, "signer_request") == ["maria@example.com"]


def test_the_supplier_answers_the_manager_of_the_invoice() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"}, {"accountant": "Irina K"})
    assert reply_to(out, "supplier_in_payment") == ["maria@example.com"]


def test_a_settings_reply_to_address_takes_the_suppliers_answers() -> None:
    ctx = replace(context(), settings=replace(SETTINGS, reply_to="orders@northwind.example"))
    out = plan_invoice("INV-000001", SheetRow(2, invoice()), None, ctx)
    for edit in ({"decision": "Approve"}, {"accountant": "Irina K"}):  # once asked, each
        previous = {"values": dict(out.values), "state": out.state.to_json()}
        out = plan_invoice("INV-000001", SheetRow(2, {**out.values, **edit}), previous, ctx)
    assert reply_to(out, "supplier_in_payment") == ["orders@northwind.example"]


def test_a_rework_is_answered_to_the_signer_and_a_payment_to_the_accountant() -> None:
    out, _ = walk(invoice(), {"decision": "Rework", "comment": "Wrong VAT"})
    assert reply_to(out, "rework_to_manager") == ["dmitry@example.com"]
    paid, _ = walk(
        invoice(), {"decision": "Approve"}, {"accountant": "Irina K"}, {"paid_on": "28.11.2026"}
    )
    assert reply_to(paid, "manager_paid") == ["irina@example.com"]


def test_people_are_named_as_written_in_people_not_as_typed() -> None:
    out = step(invoice(manager="  maria LOPEZ ", signer="dmitry volkov"))
    [request] = [e for e in out.emails if e.template == "signer_request"]
    assert request.context["invoice"]["manager"] == "Maria Lopez"
    assert request.context["invoice"]["signer"] == "Dmitry Volkov"
