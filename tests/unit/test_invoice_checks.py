"""The Notes of a row that cannot move on: who is unknown, which invoices it may duplicate."""

from __future__ import annotations

from functions.invoice_flow import plan_invoice
from functions.invoices.checks import check_fields
from functions.model import SheetRow, Stored
from tests.builders import context, invoice, step


def test_a_manager_not_in_people_keeps_the_row_new_and_is_named_in_the_note() -> None:
    out = step(invoice(manager="Boss Hogg"))
    assert out.state.status == "new"
    assert out.note == "Manager “Boss Hogg” is not an active manager in People"
    assert out.emails == []


def test_a_row_like_several_others_lists_each_and_asks_to_confirm_them_all() -> None:
    def two_others(record: str, values: object) -> list[tuple[str, str]]:
        return [("INV-000001", "Closed"), ("INV-000002", "New")]

    out = plan_invoice(
        "INV-000003", SheetRow(4, invoice(id="INV-000003")), None, context(), two_others
    )
    assert out.state.status == "new"
    assert out.note == (
        "Looks like a duplicate of INV-000001 (Closed), INV-000002 (New): same supplier and"
        " invoice no. If it is a different invoice, write INV-000001, INV-000002 in Comment to"
        " confirm; otherwise delete this row"
    )
    sheet: dict[str, Stored] = {**out.values, "comment": "not INV-000001 nor inv-000002"}
    confirmed = plan_invoice("INV-000003", SheetRow(4, sheet), None, context(), two_others)
    assert confirmed.state.status == "awaiting_decision"


def test_an_amount_s_note_reads_its_separators_the_way_the_book_s_language_writes_them() -> None:
    # "-1,500" is minus fifteen hundred in English, minus one and a half in Russian.
    english = check_fields(invoice(amount="-1,500"), context())
    russian = check_fields(invoice(amount="-1,500"), context(locale="ru"))
    assert english == ["Amount must be more than zero (it is -1,500)"]
    assert russian == ["Сумма: нужно число больше нуля (сейчас -1,5)"]
