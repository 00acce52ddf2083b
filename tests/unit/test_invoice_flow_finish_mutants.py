"""What every tick writes around a row's moves: Updated, the Note, and the Log lines that go
with them (created, problem, typed, email), on the pure flow function."""

from __future__ import annotations

from datetime import timedelta

from functions.invoice_flow import RowOutcome
from tests.builders import NOW, carry, invoice, step, walk

HOUR = timedelta(hours=1)


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
