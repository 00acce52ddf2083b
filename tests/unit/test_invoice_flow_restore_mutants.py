"""A protected cell typed over is put back: the Note, the tick's conflicts and one Log line say
what was typed, what was kept and why, naming the accountant as People writes them."""

from __future__ import annotations

from typing import Any

from functions.directory import Directory, Person
from functions.flow_context import FlowContext
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow
from functions.schema import load_schema
from tests.builders import NOW, PEOPLE, SETTINGS, invoice, walk

CLAIMED = ({"decision": "Approve"}, {"accountant": "Irina K"})


def test_a_typed_status_is_put_back_with_one_conflict_line_saying_what_and_why() -> None:
    out, _ = walk(invoice(id="INV-000007"), {"status": "Closed"})
    said = (
        "Status is filled in by sheetflow; “Closed” was replaced by “Awaiting decision”"
        " (kept in the Log)"
    )
    assert out.conflicts == [said]
    assert out.note == said
    (line,) = [e for e in out.log if e.event == "conflict"]
    assert (line.record, line.from_, line.to, line.by, line.details) == (
        "INV-000007",
        "Closed",
        "Awaiting decision",
        "Status",
        said,
    )


def test_an_overwritten_claim_is_put_back_and_logged_as_a_conflict_not_as_an_edit() -> None:
    out, _ = walk(invoice(), *CLAIMED, {"accountant": "Sergey Popov"})
    assert out.values["accountant"] == "Irina K"
    assert [e.event for e in out.log] == ["conflict"]  # no "edited" line for the typed name


def test_a_decision_changed_after_a_claim_typed_as_an_address_names_the_accountant() -> None:
    out, _ = walk(
        invoice(),
        {"decision": "Approve"},
        {"accountant": "IRINA@example.com"},
        {"decision": "Rework"},
    )
    assert out.state.status == "in_payment"
    assert out.note == (
        "Decision is locked: Irina K has taken the invoice into payment; “Rework” was replaced by"
        " “Approve” (kept in the Log)"
    )


def step_with(people: Directory, values: dict[str, Any], previous: Any = None) -> RowOutcome:
    ctx = FlowContext(load_schema(), "en", people, SETTINGS, NOW)
    return plan_invoice("INV-000001", SheetRow(2, values), previous, ctx)


def test_the_accountant_is_named_as_their_accountant_row_even_if_they_manage_too() -> None:
    # One person, two rows in People: as a manager "Irina", as an accountant "Irina K".
    people = Directory((Person("Irina", "irina@example.com", "manager", True), *PEOPLE.people))
    out = step_with(people, invoice())
    for edit in (
        {"decision": "Approve"},
        {"accountant": "irina@example.com"},
        {"decision": "Rework"},
    ):
        out = step_with(
            people,
            {**out.values, **edit},
            {"values": dict(out.values), "state": out.state.to_json()},
        )
    assert out.state.status == "in_payment"
    assert (out.note or "").startswith("Decision is locked: Irina K has taken the invoice")
