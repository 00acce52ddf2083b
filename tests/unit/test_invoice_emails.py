"""Who hears about each step of an invoice, under which key, and what the email shows."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.directory import Directory
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.invoices.emails import RECIPIENTS, InvoiceFacts, emails_for, invoice_context
from functions.model import Recipient, SheetRow
from functions.notify import INVOICE_TEMPLATES
from functions.transitions import TRANSITIONS
from tests.builders import (
    ACCOUNTANT,
    DIRECTOR,
    MANAGER,
    SETTINGS,
    carry,
    context,
    invoice,
    step,
    walk,
)

APPROVE, CLAIM, PAY = {"decision": "Approve"}, {"accountant": "Irina K"}, {"paid_on": "28.11.2026"}
CLOSE = {"closing_docs": "https://files.example/act.pdf"}


def keys(out: RowOutcome) -> list[str]:
    return [e.key for e in out.emails]


def test_the_signer_request_says_which_invoice_it_is_about() -> None:
    out = step(invoice())
    [request] = out.emails
    assert request.record == "INV-000001"
    assert request.context["invoice"]["id"] == "INV-000001"
    assert request.context["invoice"]["paid_on"] == ""  # not paid yet: nothing shown


def test_the_payment_emails_show_the_paid_on_date_as_a_date() -> None:
    out, _ = walk(invoice(), APPROVE, CLAIM, PAY)
    [paid] = out.emails
    assert paid.key == "invoice:INV-000001:manager_paid:1:maria@example.com"
    assert paid.context["invoice"]["paid_on"] == "2026-11-28"


def test_closing_emails_the_manager_and_the_accountant_who_paid_once_each() -> None:
    out, _ = walk(invoice(), APPROVE, CLAIM, PAY, CLOSE)
    assert keys(out) == [
        "invoice:INV-000001:closed:1:maria@example.com",
        "invoice:INV-000001:closed:1:irina@example.com",
    ]


def test_the_accountant_is_named_as_written_in_people() -> None:
    out, _ = walk(invoice(), APPROVE, {"accountant": "  IRINA@example.com "}, PAY)
    assert out.emails[0].context["invoice"]["accountant"] == "Irina K"


def test_a_rework_email_is_keyed_by_the_rework_round() -> None:
    out, _ = walk(invoice(), {"decision": "Rework", "comment": "Wrong VAT"})
    assert keys(out) == ["invoice:INV-000001:rework_to_manager:r1:maria@example.com"]
    assert out.note is None
    again, _ = walk(
        invoice(),
        {"decision": "Rework", "comment": "Wrong VAT"},
        {"invoice_file": "https://files.example/A-17-v2.pdf"},
        {"decision": "Rework", "comment": "Still wrong"},
    )
    assert keys(again) == ["invoice:INV-000001:rework_to_manager:r2:maria@example.com"]


def test_a_manager_typed_as_an_email_address_hears_about_the_rework() -> None:
    out, _ = walk(invoice(manager="MARIA@example.com"), {"decision": "Rework", "comment": "VAT"})
    assert [e.to for e in out.emails] == [(Recipient("Maria Lopez", "maria@example.com"),)]


def test_a_manager_who_left_people_still_hears_about_the_rework_of_their_invoice() -> None:
    out = step(invoice())
    gone = replace(MANAGER, active=False)
    ctx = replace(context(), people=Directory((gone, DIRECTOR, ACCOUNTANT)))
    sheet = {**out.values, "decision": "Rework", "comment": "Wrong VAT"}
    reworked = plan_invoice("INV-000001", SheetRow(2, sheet), carry(out), ctx)
    assert reworked.state.status == "rework"
    assert [e.to for e in reworked.emails] == [(Recipient("Maria Lopez", "maria@example.com"),)]


def test_a_manager_nobody_in_people_matches_gets_no_email_and_the_note_says_so() -> None:
    out, _ = walk(invoice(), {"manager": "Nobody Known", "decision": "Rework", "comment": "VAT"})
    assert out.state.status == "rework"
    assert out.emails == []
    assert "No email address for the rework to the manager email: check People" in (out.note or "")


def test_an_approval_withdrawn_from_a_manager_nobody_matches_still_tells_the_accountants() -> None:
    withdraw = {"manager": "Nobody Known", "decision": "Rework", "comment": "VAT"}
    out, _ = walk(invoice(), APPROVE, withdraw)
    assert out.state.status == "rework"
    assert [e.template for e in out.emails] == ["approval_void", "approval_void"]
    # the email after the one that found no address does not make the Note forget it
    assert "No email address for the rework to the manager email: check People" in (out.note or "")


def test_closing_still_emails_the_accountant_when_the_manager_has_no_address() -> None:
    out, _ = walk(invoice(), APPROVE, CLAIM, PAY, {**CLOSE, "manager": "Nobody Known"})
    assert out.state.status == "closed"
    assert keys(out) == ["invoice:INV-000001:closed:1:irina@example.com"]
    assert out.emails[0].reply_to == ()  # no manager to answer to
    assert "No email address for the closed — to the manager and accountant email" in (
        out.note or ""
    )


def test_the_supplier_is_addressed_by_the_supplier_name() -> None:
    out, _ = walk(invoice(), APPROVE, CLAIM)
    [supplier] = [e for e in out.emails if e.template == "supplier_in_payment"]
    assert supplier.to == (Recipient("Acme Steel", "billing@acme.example"),)
    assert supplier.context["recipient_name"] == "Acme Steel"


def test_a_settings_reply_to_is_shown_under_the_company_name() -> None:
    ctx = replace(context(), settings=replace(SETTINGS, reply_to="orders@northwind.example"))
    out = plan_invoice("INV-000001", SheetRow(2, invoice()), None, ctx)
    for edit in (APPROVE, CLAIM):
        out = plan_invoice("INV-000001", SheetRow(2, {**out.values, **edit}), carry(out), ctx)
    [supplier] = [e for e in out.emails if e.template == "supplier_in_payment"]
    assert supplier.reply_to == (Recipient("Northwind", "orders@northwind.example"),)


def shown(locale: str = "en", **values: Any) -> dict[str, str]:
    return invoice_context("INV-000001", invoice(**values), context(locale=locale))


def test_an_amount_is_read_in_the_books_language() -> None:
    assert shown("en", amount="1,234")["amount"] == "1\u00a0234.00"
    assert shown("ru", amount="1,234")["amount"] == "1.23"


def test_an_amount_or_date_that_cannot_be_read_is_shown_as_typed_or_left_out() -> None:
    assert shown(amount="three hundred")["amount"] == "three hundred"
    assert shown(amount=None)["amount"] == ""
    assert shown(invoice_date="next week")["invoice_date"] == ""
    assert shown(paid_on="someday")["paid_on"] == ""
    values = invoice()
    del values["amount"]
    assert invoice_context("INV-000001", values, context())["amount"] == ""


def test_the_currency_falls_back_to_the_settings_currency() -> None:
    assert shown(currency=None)["currency"] == "EUR"
    assert shown(currency="USD")["currency"] == "USD"


def test_a_row_typed_without_an_id_is_emailed_under_the_id_it_is_given() -> None:
    out = plan_invoice("INV-000007", SheetRow(5, invoice(id=None)), None, context())
    [request] = out.emails
    assert request.context["invoice"]["id"] == "INV-000007"
    assert request.key == "invoice:INV-000007:signer_request:r1:dmitry@example.com"


def test_every_invoice_email_has_one_recipient_rule_and_every_step_s_email_is_one() -> None:
    assert set(RECIPIENTS) == set(INVOICE_TEMPLATES)
    assert {e for t in TRANSITIONS for e in t.emails} <= set(RECIPIENTS)


def test_an_email_is_made_from_the_facts_alone_without_a_row_being_planned() -> None:
    facts = InvoiceFacts("INV-000009", invoice(id="INV-000009"), context(), round=2, reworks=0)
    intents, problems = emails_for(facts, "signer_request", [])
    assert [i.key for i in intents] == ["invoice:INV-000009:signer_request:r2:dmitry@example.com"]
    assert intents[0].reply_to == (Recipient("Maria Lopez", "maria@example.com"),)
    assert problems == []
    nobody, said = emails_for(replace(facts, values=invoice(manager=None)), "manager_paid", [])
    assert nobody == []
    assert said == ["No email address for the paid — to the manager email: check People"]
