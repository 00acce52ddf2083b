"""What a signer is told changed, value by value as people read it, and which invoices look the
same supplier invoice by name alone."""

from __future__ import annotations

from functions.controls import DuplicateIndex, bound_values, changes
from tests.builders import invoice, walk


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
