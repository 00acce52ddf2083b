"""What a signer is told changed, value by value as people read it, and which invoices look the
same supplier invoice by name alone."""

from __future__ import annotations

from functions.controls import DuplicateIndex, bound_values, changes
from tests.builders import invoice


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
