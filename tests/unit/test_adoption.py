"""Adopting a book as it stands: each invoice goes on from the step it shows, with no email
replayed; and which states a book refuses to run with."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from functions.adoption import adopt, has_history, ownership_problem
from functions.invoice_flow import plan_invoice
from functions.model import BookRead, SheetRow, TableRead
from functions.schema import load_schema
from tests.builders import SETTINGS as BUILT_SETTINGS
from tests.builders import context, invoice, step
from tests.fakes import FakeBook

SCHEMA = load_schema()
NOW = datetime(2026, 12, 31, 16, 30, tzinfo=UTC)  # in Tokyo already January
SETTINGS = [{"key": "Time zone", "value": "Asia/Tokyo"}, {"key": "Currency", "value": "EUR"}]


def book_read(
    *rows: dict[str, Any], deals: int = 0, settings: list[dict[str, str]] = SETTINGS
) -> BookRead:
    book = FakeBook()
    book.tabs["invoices"] = [dict(r) for r in rows]
    book.tabs["deals"] = [{"deal_id": f"D-{n}", "deal": "Deal"} for n in range(deals)]
    book.tabs["settings"] = [dict(s) for s in settings]
    return replace(book.read(), identity="book-1")


def adopted(status: str, **values: Any) -> dict[str, Any]:
    """The snapshot entry adoption records for one invoice showing `status`."""
    row = invoice(status=status, **values)
    snapshot, _, _ = adopt(book_read(row), {}, SCHEMA, NOW)
    return snapshot["invoices"][row["id"]]  # type: ignore[return-value]


def then(entry: dict[str, Any], **edit: Any) -> Any:
    """The next tick after adoption, with `edit` typed into the row."""
    return step({**entry["values"], **edit}, entry)


def test_an_adopted_request_is_decided_by_the_signer_it_names() -> None:
    out = then(adopted("Awaiting decision"), decision="Approve")
    assert out.state.status == "awaiting_accountant"
    assert [e.template for e in out.emails] == ["accountants_approved"] * 2


def test_an_adopted_request_changed_asks_the_signer_again_in_round_two() -> None:
    out = then(adopted("Awaiting decision"), amount=2000)
    assert [e.key for e in out.emails] == [
        "invoice:INV-000001:signer_request:r2:dmitry@example.com"
    ]
    assert out.emails[0].context["changes"][0]["label"] == "Amount"


def test_an_adopted_new_invoice_is_submitted_as_a_new_one() -> None:
    entry = adopted("New")
    assert entry["state"]["requested"] is None
    out = then(entry)
    assert [e.key for e in out.emails] == [
        "invoice:INV-000001:signer_request:r1:dmitry@example.com"
    ]


def test_an_adopted_rework_waits_for_a_new_file_then_asks_the_signer() -> None:
    entry = adopted("Rework", decision="Rework", comment="VAT")
    waiting = then(entry)
    assert waiting.state.status == "rework"
    assert waiting.emails == []
    out = then(entry, invoice_file="https://files.example/A-17-v2.pdf")
    assert out.state.status == "awaiting_decision"
    assert out.writes["decision"] is None  # the old Rework is cleared quietly, not "typed early"
    assert out.note is None


def test_an_adopted_approval_reopens_when_an_approved_value_changes() -> None:
    entry = adopted("Awaiting accountant", decision="Approve")
    out = then(entry, amount=9999)
    assert out.state.status == "awaiting_decision"
    assert "Amount" in (out.note or "")
    assert "not acted on" not in (out.note or "")  # the Approve was the signer's, not early


def test_an_adopted_claim_is_kept_and_an_edit_of_it_restored() -> None:
    entry = adopted("In payment", decision="Approve", accountant="Irina K")
    out = then(entry, accountant="Sergey Popov")
    assert out.values["accountant"] == "Irina K"
    assert "Irina K" in (out.note or "")
    paid = then(entry, paid_on="02.01.2027")
    assert [e.key for e in paid.emails] == ["invoice:INV-000001:manager_paid:1:maria@example.com"]


def test_an_adopted_paid_invoice_keeps_its_amount() -> None:
    entry = adopted(
        "Awaiting closing docs", decision="Approve", accountant="Irina K", paid_on="28.12.2026"
    )
    out = then(entry, amount=1)
    assert out.values["amount"] == 1234.5
    assert out.state.status == "awaiting_closing_docs"


def test_an_unknown_status_is_adopted_as_new_and_rows_without_id_are_left_for_the_tick() -> None:
    rows = (invoice(id=None), invoice(id="  "), invoice(id="INV-000003", status="Lost"))
    snapshot, _, entry = adopt(book_read(*rows), {}, SCHEMA, NOW)
    assert list(snapshot["invoices"]) == ["INV-000003"]
    assert snapshot["invoices"]["INV-000003"]["state"]["status"] == "new"  # type: ignore[index]
    assert entry.details.startswith("book adopted as it stands: 1 invoices and 0 deals")


def test_a_second_row_with_the_same_id_is_not_recorded_over_the_first() -> None:
    rows = (invoice(supplier="First"), invoice(supplier="Second"))
    snapshot, _, entry = adopt(book_read(*rows), {}, SCHEMA, NOW)
    assert snapshot["invoices"]["INV-000001"]["values"]["supplier"] == "First"  # type: ignore[index]
    assert "1 invoices" in entry.details


def test_the_next_id_follows_the_highest_numbered_invoice() -> None:
    rows = [invoice(id=i) for i in ("INV-000007", "INV-000002", "X-000050", "INV-00009A")]
    _, meta, _ = adopt(book_read(*rows), {}, SCHEMA, NOW)
    assert meta["next_invoice_no"] == 8
    _, meta, _ = adopt(book_read(invoice(id="A-1")), {}, SCHEMA, NOW)
    assert meta["next_invoice_no"] == 1


def test_records_of_another_book_are_deleted_and_deals_recorded_as_they_are() -> None:
    known = {"invoices": ["INV-000900"], "deals": ["D-77"]}
    snapshot, _, entry = adopt(book_read(invoice(), deals=2), known, SCHEMA, NOW)
    assert snapshot["invoices"]["INV-000900"] is None
    assert snapshot["deals"]["D-77"] is None
    deal = snapshot["deals"]["D-0"] or {}
    assert (deal["values"]["deal"], deal["state"]) == ("Deal", {})
    assert "1 invoices and 2 deals recorded, no email sent" in entry.details


def test_the_state_is_marked_as_this_books_and_its_past_as_reported() -> None:
    _, meta, entry = adopt(book_read(invoice()), {}, SCHEMA, NOW.replace(microsecond=123456))
    assert meta == {
        "book_id": "book-1",
        "next_invoice_no": 2,
        "deals_baseline": True,  # deals already paid are not alerts
        "time_zone": "Asia/Tokyo",
        "last_report": "2026-12",  # December, as Tokyo counts
    }
    assert entry.as_row() == [
        "2027-01-01 01:30:00+09:00",
        "Book",
        "*",
        "Adopted",
        "",
        "",
        "",
        "book adopted as it stands: 1 invoices and 0 deals recorded, no email sent",
    ]
    assert (entry.flow, entry.event) == ("book", "adopted")


def test_a_russian_book_is_adopted_in_russian() -> None:
    read = replace(book_read(invoice(status="Ожидает решения")), locale="ru")
    snapshot, _, entry = adopt(read, {}, SCHEMA, NOW)
    assert snapshot["invoices"]["INV-000001"]["state"]["status"] == "awaiting_decision"  # type: ignore[index]
    assert entry.as_row()[1:4] == ["Книга", "*", "Принято как есть"]
    assert entry.details.startswith("книга принята как есть: записано счетов — 1")


def test_a_book_without_an_invoices_tab_or_ids_has_no_history() -> None:
    assert not has_history(BookRead("en", {}))
    assert not has_history(book_read(invoice(id=None), invoice(id=" ")))
    assert has_history(book_read(invoice(id=None), invoice()))
    empty = TableRead("invoices", "Invoices", ("id",), ())
    assert not has_history(BookRead("en", {"invoices": empty}))


def test_a_state_is_refused_when_missing_for_a_book_with_history_or_another_books() -> None:
    read = book_read(invoice())
    assert ownership_problem(read, {}) == "missing"
    assert ownership_problem(book_read(invoice(id=None)), {}) is None  # a new book
    assert ownership_problem(read, {"next_invoice_no": 2}) is None  # a state from before IDs
    assert ownership_problem(read, {"book_id": "book-1"}) is None
    assert ownership_problem(read, {"book_id": "book-2"}) == "other"
    assert ownership_problem(replace(read, identity=""), {"book_id": "book-2"}) is None


def test_an_invoice_without_currency_is_adopted_in_the_settings_currency_of_its_language() -> None:
    row = invoice(status="Awaiting decision", currency=None)
    no_currency = SETTINGS[:1]  # a Russian book with no Currency in Settings means roubles
    read = replace(book_read(row, settings=no_currency), locale="ru")
    snapshot, _, _ = adopt(read, {}, SCHEMA, NOW)
    entry = snapshot["invoices"]["INV-000001"] or {}
    assert entry["state"]["requested"]["currency"] == "RUB"
    rub = replace(context(locale="ru"), settings=replace(BUILT_SETTINGS, currency="RUB"))
    out = plan_invoice("INV-000001", SheetRow(2, dict(entry["values"])), entry, rub)
    assert out.emails == []  # nothing changed: no new request to the signer
    assert out.state.status == "awaiting_decision"


def test_an_approved_invoice_without_currency_stays_approved_after_adoption() -> None:
    entry = adopted("Awaiting accountant", decision="Approve", currency=None)
    out = then(entry)
    assert out.state.status == "awaiting_accountant"
    assert out.emails == []


def test_a_book_without_an_invoices_tab_still_has_its_deals_adopted() -> None:
    read = book_read(deals=1)
    del read.tables["invoices"]
    snapshot, _, entry = adopt(read, {}, SCHEMA, NOW)
    assert list(snapshot["deals"]) == ["D-0"]
    assert "0 invoices and 1 deals recorded" in entry.details
