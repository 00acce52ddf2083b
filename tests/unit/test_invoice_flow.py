"""Every invoice transition and every refusal, on the pure flow function."""

from __future__ import annotations

from datetime import timedelta

import pytest

from functions.invoice_flow import RowOutcome
from tests.builders import NOW, carry, invoice, recipients, statuses, step, walk

HOUR = timedelta(hours=1)


def test_complete_row_with_signer_goes_to_awaiting_decision_and_emails_the_signer() -> None:
    out = step(invoice())
    assert out.state.status == "awaiting_decision"
    assert out.writes["status"] == "Awaiting decision"
    assert recipients(out) == [("signer_request", "dmitry@example.com")]
    assert out.emails[0].key == "invoice:INV-000001:signer_request:r1:dmitry@example.com"
    assert out.note is None
    assert [e.event for e in out.log] == ["created", "transition", "email"]


def test_row_without_signer_stays_new_and_asks_for_one() -> None:
    out = step(invoice(signer=None))
    assert out.state.status == "new"
    assert out.writes["status"] == "New"
    assert out.emails == []
    assert "Choose a Signer" in (out.note or "")


def test_missing_fields_are_listed_by_header_in_the_note() -> None:
    out = step(invoice(supplier=None, invoice_file="  ", invoice_no=None))
    assert out.state.status == "new"
    assert "Fill in: Supplier, Invoice no., Invoice file" in (out.note or "")


@pytest.mark.parametrize(
    ("amount", "why"),
    [
        ("abc", "“abc” is not a number"),
        (0, "must be more than zero"),
        (-5, "must be more than zero"),
        ("-1 000,00", "must be more than zero"),
        ("#DIV/0!", "formula error #DIV/0!"),
        (None, "Fill in: Amount"),
    ],
)
def test_bad_amount_keeps_row_new_and_explains(amount: object, why: str) -> None:
    out = step(invoice(amount=amount))
    assert out.state.status == "new"
    assert why in (out.note or "")
    assert "amount" not in out.writes  # the typed value is never touched


@pytest.mark.parametrize("amount", ["1 234,50", "1,234.50", "1.234,50", "1234.5", 1234.5])
def test_amounts_typed_as_text_are_accepted(amount: object) -> None:
    out = step(invoice(amount=amount))
    assert out.state.status == "awaiting_decision"
    assert out.emails[0].context["invoice"]["amount"] == "1\u00a0234.50"


@pytest.mark.parametrize("typed", ["28.11.2026", "2026-11-28", 46354, "28/11/2026"])
def test_invoice_dates_as_russian_text_iso_text_or_excel_serial_are_accepted(typed: object) -> None:
    out = step(invoice(invoice_date=typed))
    assert out.state.status == "awaiting_decision"
    assert out.emails[0].context["invoice"]["invoice_date"] == "2026-11-28"


@pytest.mark.parametrize("typed", ["31.02.2026", "next week", "11/28/2026"])
def test_impossible_dates_are_explained(typed: str) -> None:
    out = step(invoice(invoice_date=typed))
    assert out.state.status == "new"
    assert f"“{typed}” is not a date" in (out.note or "")


def test_unknown_signer_is_explained() -> None:
    out = step(invoice(signer="Boss Hogg"))
    assert out.state.status == "new"
    assert "Signer “Boss Hogg” is not an active director in People" in (out.note or "")


def test_signer_may_be_given_by_email_in_any_case() -> None:
    out = step(invoice(signer="  DMITRY@example.com "))
    assert out.state.status == "awaiting_decision"


def test_invalid_supplier_email_is_explained() -> None:
    out = step(invoice(supplier_email="billing at acme"))
    assert out.state.status == "new"
    assert "“billing at acme” is not a valid email address" in (out.note or "")


def test_approve_moves_to_awaiting_accountant_and_emails_every_active_accountant() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"})
    assert out.state.status == "awaiting_accountant"
    assert recipients(out) == [
        ("accountants_approved", "irina@example.com"),
        ("accountants_approved", "sergey@example.com"),
    ]
    assert out.state.approved_at == NOW.isoformat(timespec="seconds")


def test_rework_without_comment_keeps_row_and_explains_why() -> None:
    out, _ = walk(invoice(), {"decision": "Rework"})
    assert out.state.status == "awaiting_decision"
    assert "Rework needs a Comment" in (out.note or "")
    assert out.emails == []
    assert any(e.event == "problem" for e in out.log)


def test_rework_with_comment_emails_the_manager_with_the_comment() -> None:
    out, _ = walk(invoice(), {"decision": "Rework", "comment": "Wrong VAT"})
    assert out.state.status == "rework"
    assert recipients(out) == [("rework_to_manager", "maria@example.com")]
    assert out.emails[0].context["invoice"]["comment"] == "Wrong VAT"


def test_unknown_decision_word_is_explained() -> None:
    out, _ = walk(invoice(), {"decision": "Maybe"})
    assert out.state.status == "awaiting_decision"
    assert "Decision “Maybe” is not Approve or Rework" in (out.note or "")


def test_new_scan_in_rework_clears_decision_and_asks_the_signer_again() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Rework", "comment": "Wrong VAT"},
        {"invoice_file": "https://files.example/A-17-v2.pdf"},
    )
    assert out.state.status == "awaiting_decision"
    assert out.writes["decision"] is None
    assert out.writes["comment"] is None
    cleared = [e for e in out.log if e.event == "cleared"]
    assert cleared
    assert "Wrong VAT" in cleared[0].details
    assert out.emails[0].key.endswith(":r2:dmitry@example.com")


def test_rework_without_a_new_scan_stays_in_rework() -> None:
    out, _ = walk(invoice(), {"decision": "Rework", "comment": "Wrong VAT"}, {"comment": "!"})
    assert out.state.status == "rework"
    assert out.emails == []


def test_first_accountant_claims_locks_the_cell_and_emails_the_supplier() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"}, {"accountant": "Irina K"})
    assert out.state.status == "in_payment"
    # The claim locks the Accountant and the Decision for everyone but sheetflow.
    assert out.locks == [("accountant", True, ()), ("decision", True, ())]
    assert recipients(out) == [("supplier_in_payment", "billing@acme.example")]
    assert out.state.accountant == "Irina K"


def test_unknown_or_inactive_accountant_is_explained() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"}, {"accountant": "Old Accountant"})
    assert out.state.status == "awaiting_accountant"
    assert "Accountant “Old Accountant” is not an active accountant" in (out.note or "")


def test_second_accountant_overwriting_a_claim_is_restored_and_logged() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Approve"},
        {"accountant": "Irina K"},
        {"accountant": "Sergey Popov"},
    )
    assert out.state.status == "in_payment"
    assert out.writes["accountant"] == "Irina K"
    conflict = next(e for e in out.log if e.event == "conflict")
    assert (conflict.from_, conflict.to) == ("Sergey Popov", "Irina K")
    assert "Accountant is locked: Irina K took this invoice first" in (out.note or "")
    assert out.emails == []


def test_paid_on_before_approval_is_refused() -> None:
    out, _ = walk(
        invoice(), {"decision": "Approve"}, {"accountant": "Irina K"}, {"paid_on": "01.11.2026"}
    )
    assert out.state.status == "in_payment"
    assert "Paid on 2026-11-01 is before the invoice was approved (2026-11-28)" in (out.note or "")


def test_paid_on_moves_to_awaiting_closing_docs_and_tells_the_manager() -> None:
    out, _ = walk(
        invoice(), {"decision": "Approve"}, {"accountant": "Irina K"}, {"paid_on": "28.11.2026"}
    )
    assert out.state.status == "awaiting_closing_docs"
    assert recipients(out) == [("manager_paid", "maria@example.com")]


def test_closing_docs_close_the_invoice_and_tell_manager_and_accountant() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Approve"},
        {"accountant": "Irina K"},
        {"paid_on": "28.11.2026"},
        {"closing_docs": "https://files.example/waybill"},
    )
    assert out.state.status == "closed"
    assert recipients(out) == [("closed", "maria@example.com"), ("closed", "irina@example.com")]


def test_a_typed_status_is_restored_and_the_typed_value_kept_in_the_log() -> None:
    out, _ = walk(invoice(), {"status": "Closed"})
    assert out.state.status == "awaiting_decision"
    assert out.writes["status"] == "Awaiting decision"
    conflict = next(e for e in out.log if e.event == "conflict")
    assert conflict.from_ == "Closed"
    assert "Status is filled in by sheetflow" in (out.note or "")


def test_a_row_typed_with_decision_and_claim_is_submitted_and_nothing_else_counts() -> None:
    out = step(invoice(decision="Approve", accountant="Irina K"))
    assert statuses(out) == ["new", "awaiting_decision"]
    assert recipients(out) == [("signer_request", "dmitry@example.com")]
    assert out.writes["decision"] is None
    assert out.writes["accountant"] is None
    assert "filled in before the signer was asked" in (out.note or "")
    early = next(e for e in out.log if e.event == "not_acted_on")
    assert "Approve" in early.details
    assert "Irina K" in early.details


def test_a_claim_and_payment_typed_together_on_a_real_request_both_count() -> None:
    out, _ = walk(
        invoice(), {"decision": "Approve"}, {"accountant": "Irina K", "paid_on": "28.11.2026"}
    )
    assert statuses(out) == ["in_payment", "awaiting_closing_docs"]
    assert recipients(out) == [
        ("supplier_in_payment", "billing@acme.example"),
        ("manager_paid", "maria@example.com"),
    ]


def test_an_unchanged_row_plans_nothing() -> None:
    first = step(invoice())
    again = step(dict(first.values), carry(first), now=NOW + timedelta(hours=1))
    assert again.writes == {}
    assert again.emails == []
    assert again.log == []


def test_russian_locale_writes_russian_statuses() -> None:
    from functions.invoice_flow import plan_invoice
    from functions.model import SheetRow
    from tests.builders import context

    ctx = context(locale="ru")
    first = plan_invoice("INV-000001", SheetRow(2, invoice()), None, ctx)
    assert first.values["status"] == "Ожидает решения"
    sheet = {**first.values, "decision": "Согласовать"}
    out = plan_invoice("INV-000001", SheetRow(2, sheet), carry(first), ctx)
    assert out.values["status"] == "Ожидает бухгалтера"
    assert [e.event_shown for e in out.log][:2] == ["Изменено", "Смена статуса"]


def test_an_uncomputed_formula_in_amount_says_so_and_what_to_do() -> None:
    out = step(invoice(amount="=B2*2"))
    assert out.state.status == "new"
    assert "Amount holds the formula =B2*2, which no office program has computed yet" in (
        out.note or ""
    )
    assert "Fill in: Amount" not in (out.note or "")


# -- what every tick writes around a row's moves: Updated, the Note, the Log lines -------


def events(out: RowOutcome) -> list[tuple[str, str, str]]:
    """The row's Log lines as (record, event, details)."""
    return [(e.record, e.event, e.details) for e in out.log]


def test_updated_is_written_for_a_new_row_and_for_a_move_in_the_books_time_zone() -> None:
    first = step(invoice(signer=None))  # new, stays New
    assert first.state.status == "new"
    assert first.writes["updated"] == "2026-11-28 10:00"  # 09:00 UTC in Berlin
    moved = step({**first.values, "signer": "Dmitry Volkov"}, carry(first), NOW + HOUR)
    assert moved.state.status == "awaiting_decision"
    assert moved.writes["updated"] == "2026-11-28 11:00"
    idle = step(dict(moved.values), carry(moved), NOW + 2 * HOUR)
    assert "updated" not in idle.writes
    assert idle.values["updated"] == "2026-11-28 11:00"


def test_a_row_that_does_not_move_keeps_its_updated_time_when_edited() -> None:
    first = step(invoice(signer=None))
    edited = step({**first.values, "comment": "waiting for the signer"}, carry(first), NOW + HOUR)
    assert edited.state.status == "new"
    assert "updated" not in edited.writes


def test_every_notice_of_a_tick_is_in_the_note_once_each_joined_as_sentences() -> None:
    out, _ = walk(invoice(amount=1234.5), {"status": "Closed", "amount": 99999})
    assert out.note == (
        "Status is filled in by sheetflow; “Closed” was replaced by “Awaiting decision” (kept"
        " in the Log). Amount 1,234.50 → 99,999.00: the signer was sent the updated invoice"
    )
    assert out.writes["note"] == out.note


def test_a_problem_is_logged_under_the_rows_id_when_the_note_first_says_it() -> None:
    first = step(invoice(signer=None))
    assert first.note == "Choose a Signer (director)"
    assert ("INV-000001", "problem", "Choose a Signer (director)") in events(first)
    again = step(dict(first.values), carry(first), NOW + HOUR)  # the Note already says it
    assert again.note == "Choose a Signer (director)"
    assert [e for e in events(again) if e[1] == "problem"] == []
    fixed = step({**again.values, "signer": "Dmitry Volkov"}, carry(again), NOW + 2 * HOUR)
    assert fixed.note is None
    assert fixed.writes["note"] is None
    assert [e for e in events(fixed) if e[1] == "problem"] == []


def test_a_restored_cell_is_logged_as_a_conflict_and_not_again_as_a_problem() -> None:
    out, _ = walk(invoice(), {"status": "Closed"})
    assert (out.note or "").startswith("Status is filled in by sheetflow")
    assert [e.event for e in out.log].count("conflict") == 1
    assert "problem" not in [e.event for e in out.log]


def test_the_created_line_names_the_new_status_and_the_manager() -> None:
    out = step(invoice())
    created = next(e for e in out.log if e.event == "created")
    assert (created.record, created.to, created.by) == ("INV-000001", "New", "Maria Lopez")


def test_each_email_is_logged_under_the_rows_id_with_its_recipient() -> None:
    out = step(invoice(id="INV-000042"))
    (line,) = [e for e in out.log if e.event == "email"]
    assert (line.record, line.to, line.details) == (
        "INV-000042",
        "Dmitry Volkov",
        "request to the signer",
    )


def test_a_field_problem_past_new_is_in_the_note_even_when_no_guard_asked_about_it() -> None:
    out, _ = walk(invoice(), {"decision": "Approve"}, {"manager": "Nobody"})
    assert out.state.status == "awaiting_accountant"
    assert out.note == "Manager “Nobody” is not an active manager in People"


def test_a_typed_amount_becomes_a_number_once_the_row_is_submitted_and_the_log_says_so() -> None:
    out = step(invoice(amount="1 234,50"))
    assert out.state.status == "awaiting_decision"
    assert out.writes["amount"] == 1234.5
    typed = next(e for e in out.log if e.event == "typed")
    assert (typed.record, typed.from_, typed.details) == ("INV-000001", "1 234,50", "Amount")


def test_a_row_still_new_keeps_its_amount_as_typed() -> None:
    out = step(invoice(amount="1 234,50", signer=None))
    assert out.state.status == "new"
    assert "amount" not in out.writes
    assert "typed" not in [e.event for e in out.log]
