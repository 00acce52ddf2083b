"""What one invoice step (functions/invoices/step.py) says and remembers, to the letter: the
transition's Log line, the Note's exact words, who is named, what the saved state keeps."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

from functions.directory import Directory
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow
from tests.builders import (
    APPROVED,
    CLAIMED,
    DIRECTOR,
    NOW,
    PAID,
    PEOPLE,
    carry,
    context,
    invoice,
    recipients,
    statuses,
    step,
    walk,
)


def log_lines(out: RowOutcome, event: str) -> list[tuple[str, str, str, str, str]]:
    return [(e.record, e.from_, e.to, e.by, e.details) for e in out.log if e.event == event]


def test_a_row_made_from_a_file_in_the_invoices_folder_keeps_what_was_read_in_its_note() -> None:
    ctx = replace(context(), notices={"INV-000001": "Read from acme-A-17.pdf"})
    out = plan_invoice("INV-000001", SheetRow(2, invoice()), None, ctx)
    assert out.note == "Read from acme-A-17.pdf"
    again = plan_invoice("INV-000001", SheetRow(2, dict(out.values)), carry(out), ctx)
    assert again.note == "Read from acme-A-17.pdf"  # kept until the row moves on, not repeated
    assert log_lines(again, "problem") == []


def test_each_transition_is_a_log_line_naming_the_record_statuses_who_and_why() -> None:
    submitted = step(invoice(manager="  maria LOPEZ "))
    assert log_lines(submitted, "transition") == [
        (
            "INV-000001",
            "New",
            "Awaiting decision",
            "Maria Lopez",
            "all fields filled and a Signer chosen",
        )
    ]
    approved, _ = walk(invoice(), *APPROVED)
    assert log_lines(approved, "transition") == [
        (
            "INV-000001",
            "Awaiting decision",
            "Awaiting accountant",
            "Dmitry Volkov",
            "Decision = Approve",
        )
    ]


def test_a_change_while_awaiting_a_decision_is_told_in_the_note_word_for_word() -> None:
    out, _ = walk(invoice(amount=100000), {"supplier": "Other Ltd", "amount": 9000000})
    assert out.note == (
        "Supplier Acme Steel → Other Ltd, Amount 100,000.00 → 9,000,000.00: "
        "the signer was sent the updated invoice"
    )


def test_a_russian_book_shows_changed_amounts_the_russian_way_in_note_and_email() -> None:
    ctx = context(locale="ru")
    first = plan_invoice("INV-000001", SheetRow(2, invoice(amount=100000)), None, ctx)
    sheet = {**first.values, "amount": 9000000}
    out = plan_invoice("INV-000001", SheetRow(2, sheet), carry(first), ctx)
    assert out.note == (
        "Сумма 100\u00a0000,00 → 9\u00a0000\u00a0000,00: подписанту отправлен обновлённый счёт"
    )
    assert out.emails[0].context["changes"] == [
        {"label": "Сумма", "old": "100\u00a0000,00", "new": "9\u00a0000\u00a0000,00"}
    ]


def test_an_approval_saved_before_approvals_were_bound_binds_to_the_values_last_seen() -> None:
    approved, _ = walk(invoice(), *APPROVED)
    legacy = {
        "values": dict(approved.values),
        "state": {
            "status": "awaiting_accountant",
            "round": 1,
            "signer": "Dmitry Volkov",
            "decided": "Approve",
        },
    }
    out = step({**approved.values, "amount": 2000}, legacy)
    assert out.state.status == "awaiting_decision"
    assert out.note == "Amount 1,234.50 → 2,000.00 after approval — needs a new decision"


def test_a_signer_replaced_by_someone_not_in_people_is_explained_and_nobody_is_asked() -> None:
    out, _ = walk(invoice(), {"signer": "Boss Hogg"})
    assert out.state.status == "awaiting_decision"
    assert out.note == "Signer “Boss Hogg” is not an active director in People"
    assert statuses(out) == []
    assert out.emails == []
    assert out.state.round == 1


def test_a_decision_typed_under_a_signer_nobody_asked_does_not_count() -> None:
    out, _ = walk(invoice(), {"signer": "Boss Hogg", "decision": "Approve"})
    assert out.state.status == "awaiting_decision"
    assert statuses(out) == []
    assert out.emails == []


def test_a_signer_typed_by_email_is_named_as_written_in_people_in_the_note() -> None:
    out, _ = walk(invoice(), {"signer": " ELENA@example.com"})
    assert out.note == (
        "Signer changed from Dmitry Volkov to Elena Sokolova: "
        "Elena Sokolova is asked to decide, Dmitry Volkov is told"
    )


def test_an_approved_invoice_waiting_for_an_accountant_has_no_note() -> None:
    out, _ = walk(invoice(), *APPROVED, {"comment": "thanks"})
    assert out.state.status == "awaiting_accountant"
    assert out.note is None
    assert out.writes.get("note") is None


def test_a_decision_no_longer_approve_says_which_words_to_choose() -> None:
    out, _ = walk(invoice(), *APPROVED, {"decision": "Rework", "accountant": "Irina K"})
    assert out.note == (
        "Rework needs a Comment: write what the manager must fix. Decision is no longer "
        "Approve: choose Rework with a Comment to send the invoice back, or Approve"
    )


def test_a_new_decision_round_clears_the_old_approval_quietly() -> None:
    out, _ = walk(invoice(), *APPROVED, {"amount": 2000})
    assert out.note == "Amount 1,234.50 → 2,000.00 after approval — needs a new decision"
    assert log_lines(out, "cleared") == [("INV-000001", "", "", "", "Decision: Approve")]
    assert log_lines(out, "not_acted_on") == []


def test_a_released_claim_clears_the_accountant_on_the_record_without_blaming_anyone() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"supplier": "Other Ltd"})
    assert out.note == "Supplier Acme Steel → Other Ltd after approval — needs a new decision"
    assert log_lines(out, "cleared") == [
        ("INV-000001", "", "", "", "Accountant: Irina K"),
        ("INV-000001", "", "", "", "Decision: Approve"),
    ]


def test_the_saved_state_keeps_when_the_invoice_was_first_submitted_paid_and_closed() -> None:
    def at(hours: int) -> Any:
        return NOW + timedelta(hours=hours)

    out = step(invoice())
    for hours, edit in enumerate(
        (
            {"decision": "Rework", "comment": "Wrong VAT"},
            {"invoice_file": "https://files.example/A-17-v2.pdf"},
            {"decision": "Approve"},
            {"accountant": "Irina K"},
            {"paid_on": "28.11.2026"},
            {"closing_docs": "https://files.example/waybill"},
        ),
        start=1,
    ):
        out = step({**out.values, **edit}, carry(out), now=at(hours))
    assert out.state.status == "closed"
    assert out.state.round == 2
    assert out.state.submitted_at == NOW.isoformat(timespec="seconds")  # the first request
    assert out.state.approved_at == at(3).isoformat(timespec="seconds")
    assert out.state.paid_at == at(5).isoformat(timespec="seconds")
    assert out.state.closed_at == at(6).isoformat(timespec="seconds")


def test_an_id_read_with_spaces_around_it_is_the_same_record_and_no_conflict() -> None:
    first = step(invoice())
    out = step({**first.values, "id": " INV-000001 "}, carry(first))
    assert out.conflicts == []
    assert out.note is None
    assert "id" not in out.writes
    assert out.log == []  # the ID is sheetflow's: not an edit either


def test_a_paid_value_the_approval_never_bound_may_still_change() -> None:
    paid, snapshot = walk(invoice(), *PAID)
    del snapshot["state"]["approved"]["invoice_file"]  # approved before the file was bound
    out = step({**paid.values, "invoice_file": "https://files.example/A-17-v2.pdf"}, snapshot)
    assert out.conflicts == []
    assert "invoice_file" not in out.writes
    assert log_lines(out, "edited") == [
        (
            "INV-000001",
            "https://files.example/A-17.pdf",
            "https://files.example/A-17-v2.pdf",
            "",
            "Invoice file",
        )
    ]
    assert recipients(out) == []


REWORK = ({"decision": "Rework", "comment": "Wrong VAT"},)
NEW_SCAN = {"invoice_file": "https://files.example/A-17-v2.pdf"}


def test_a_new_scan_with_the_signer_cleared_asks_nobody_and_says_so() -> None:
    out, _ = walk(invoice(), *REWORK, {**NEW_SCAN, "signer": None})
    assert out.state.status == "awaiting_decision"
    assert out.emails == []
    assert out.note == (
        "Choose a Signer (director). "
        "No email address for the request to the signer email: check People"
    )
    # Decision and Comment wait for a signer: nobody but sheetflow may type them meanwhile.
    assert out.locks == [("decision", True, ()), ("comment", True, ())]


def test_a_signer_chosen_when_nobody_was_asked_is_asked_without_telling_a_predecessor() -> None:
    out, _ = walk(invoice(), *REWORK, {**NEW_SCAN, "signer": None}, {"signer": "Dmitry Volkov"})
    assert out.state.status == "awaiting_decision"
    assert recipients(out) == [("signer_request", "dmitry@example.com")]
    assert out.note == "Signer chosen: Dmitry Volkov is asked to decide"
    assert ("decision", True, ("dmitry@example.com",)) in out.locks


def test_a_russian_book_says_a_signer_was_chosen_in_russian() -> None:
    ctx = context(locale="ru")
    out = plan_invoice("INV-000001", SheetRow(2, invoice()), None, ctx)
    for edit in (
        {"decision": "На доработку", "comment": "НДС"},
        {**NEW_SCAN, "signer": None},
        {"signer": "Dmitry Volkov"},
    ):
        out = plan_invoice("INV-000001", SheetRow(2, {**out.values, **edit}), carry(out), ctx)
    assert out.note == "Подписант выбран: Dmitry Volkov; отправлен запрос на решение"


def test_a_signer_replacing_one_who_left_people_is_asked_and_nobody_else_is_told() -> None:
    first = step(invoice())
    left = Directory(tuple(replace(p, active=False) if p == DIRECTOR else p for p in PEOPLE.people))
    ctx = replace(context(), people=left)
    sheet = {**first.values, "signer": "Elena Sokolova"}
    out = plan_invoice("INV-000001", SheetRow(2, sheet), carry(first), ctx)
    assert recipients(out) == [("signer_request", "elena@example.com")]
    assert out.note == "Signer chosen: Elena Sokolova is asked to decide"
