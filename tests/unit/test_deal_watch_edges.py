"""Deal watching at its edges: the readings, Notes and Log entries a change in the code breaks.

Each case here was a surviving mutant of `functions/deal_watch.py` (make mutate): a reading or
a sentence no test pinned, so changing it went unnoticed.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from functions.deal_watch import DealOutcome, plan_deal
from functions.directory import Directory
from functions.flow_context import FlowContext
from functions.model import SheetRow
from tests.builders import context
from tests.unit.test_deal_watch import deal, seen


def watch(
    values: dict[str, Any],
    before: dict[str, Any] | None = None,
    *,
    ctx: FlowContext | None = None,
    silent: bool = False,
) -> DealOutcome:
    return plan_deal("D-1", SheetRow(2, values), before, ctx or context(), silent=silent)


def with_settings(ctx: FlowContext, **changes: Any) -> FlowContext:
    return FlowContext(
        ctx.schema, ctx.locale, ctx.people, replace(ctx.settings, **changes), ctx.now
    )


# -- Paid % as typed -------------------------------------------------------------------------


def test_a_percent_cell_holding_exactly_one_is_a_deal_paid_in_full_not_overpaid() -> None:
    out = watch(deal(paid=10000, paid_pct=1), seen("0", "0"))
    assert out.state["pct"] == "100"
    assert out.note is None
    assert out.emails


@pytest.mark.parametrize(
    ("paid", "typed", "expected"),
    [
        (50, 0.5, "0.5"),  # a tiny percentage typed as a number, near Paid / Amount
        (5000, 0.5, "50"),  # a fraction in a percent-formatted cell
    ],
)
def test_a_number_up_to_one_takes_the_reading_closer_to_paid_over_amount(
    paid: int, typed: float, expected: str
) -> None:
    assert watch(deal(paid=paid, paid_pct=typed), seen("0", "0")).state["pct"] == expected


@pytest.mark.parametrize(("typed", "expected"), [(0.3, "30"), (1.5, "1.5"), (1, "100")])
def test_without_an_amount_a_number_up_to_one_is_a_fraction_and_above_one_a_percentage(
    typed: float, expected: str
) -> None:
    out = watch(deal(amount=None, paid=150, paid_pct=typed), seen("0", "0"))
    assert out.state["pct"] == expected


def test_a_comma_group_of_three_in_paid_percent_follows_the_book_s_language() -> None:
    assert watch(deal(paid=1, paid_pct="12,125%"), seen("0", "0")).state["pct"] == "12125"
    ru = watch(deal(paid=1, paid_pct="12,125 %"), seen("0", "0"), ctx=context(locale="ru"))
    assert ru.state["pct"] == "12.125"


@pytest.mark.parametrize("column", ["paid", "amount", "paid_pct"])
def test_a_formula_error_that_looks_like_zero_is_not_read_as_zero(column: str) -> None:
    out = watch(deal(**{"paid": 3000, "paid_pct": 30, column: "#DIV/0!"}), seen("0", "0"))
    label = {"paid": "Paid", "amount": "Amount", "paid_pct": "Paid %"}[column]
    assert out.note == f"{label} “#DIV/0!” is not a number"


def test_a_long_bad_percentage_is_quoted_up_to_40_characters() -> None:
    typed = "x" * 39 + "yz" + "w" * 10
    out = watch(deal(paid=10, paid_pct=typed), seen("0", "0"))
    assert out.note == f"Paid % “{'x' * 39}y” is not a number"
    out = watch(deal(paid=typed), seen("0", "0"))
    assert out.note == f"Paid “{'x' * 39}y” is not a number"


def test_a_negative_payment_is_explained_and_not_watched() -> None:
    out = watch(deal(paid=-5, paid_pct=5), seen("0", "0"))
    assert out.note == "Paid is negative (-5)"
    assert out.emails == []
    ru = watch(deal(amount=-7), seen("0", "0"), ctx=context(locale="ru"))
    assert ru.note == "Сумма: отрицательное значение (-7)"


def test_a_percent_formula_without_paid_and_amount_says_it_cannot_be_computed() -> None:
    out = watch(deal(amount=None, paid=None, paid_pct="=F2/E2"), seen("0", "0"))
    assert out.note == "Paid % is empty and cannot be computed without Paid and Amount"
    assert "pct" not in out.state or out.state["pct"] == "0"


def test_a_percent_formula_says_which_percentage_was_used() -> None:
    out = watch(deal(paid=2500, paid_pct="=F2/E2"), seen("0", "0"))
    assert out.note == (
        "Paid % formula has no computed value yet (open and save the file in LibreOffice or"
        " Excel); used Paid / Amount = 25 %"
    )


# -- when an alert goes out ------------------------------------------------------------------


def test_a_percentage_typed_before_any_money_arrives_alerts_nobody() -> None:
    out = watch(deal(paid=0, paid_pct=5), seen("0", "0"))
    assert out.emails == []
    assert out.state == {"pct": "5", "paid": "0"}


def test_a_refund_of_the_last_unit_paid_is_still_reported() -> None:
    out = watch(deal(paid=0, paid_pct=0), seen("0.01", "1"))
    assert out.emails


def test_a_first_look_that_is_not_silent_alerts_on_any_payment() -> None:
    out = watch(deal(paid=100, paid_pct=1), None)
    assert out.state["pct"] == "1"
    assert out.emails


def test_a_state_without_paid_counts_nothing_received_before() -> None:
    out = watch(deal(paid=0, paid_pct=0), {"state": {"pct": "5"}})
    assert out.emails == []


def test_a_payment_numbers_its_change_and_logs_who_and_how_much() -> None:
    before = {"state": {"pct": "10", "paid": "1000", "changes": 2}}
    out = watch(deal(paid=3000, paid_pct=30), before)
    assert out.state["changes"] == 3
    assert [e.key for e in out.emails] == [
        "deal:D-1:payment:3:dmitry@example.com",
        "deal:D-1:payment:3:elena@example.com",
    ]
    assert all(e.record == "D-1" for e in out.emails)
    assert out.emails[0].context["deal"]["id"] == "D-1"
    assert out.emails[0].context["recipient_name"] == "Dmitry Volkov"
    payment, *emails = out.log
    assert (payment.event, payment.flow, payment.record) == ("payment", "deal", "D-1")
    assert (payment.from_, payment.to, payment.by) == ("1,000.00", "3,000.00", "Maria Lopez")
    assert payment.details == "Paid % 10% → 30%"
    assert [(e.event, e.flow, e.record, e.to, e.details) for e in emails] == [
        ("email", "deal", "D-1", "Dmitry Volkov", "deal payment alert"),
        ("email", "deal", "D-1", "Elena Sokolova", "deal payment alert"),
    ]
    assert out.change == ("10", "30")
    assert out.note is None


def test_with_no_director_and_no_alert_setting_the_note_says_so() -> None:
    ctx = context()
    nobody = Directory(tuple(p for p in ctx.people.people if p.role != "director"), ())
    ctx = FlowContext(ctx.schema, ctx.locale, nobody, ctx.settings, ctx.now)
    out = watch(deal(paid=3000, paid_pct=30), seen("0", "0"), ctx=ctx)
    assert out.emails == []
    assert out.note == (
        "No one to alert: fill in Settings “Deal alerts to” or add an active director"
    )


def test_an_address_in_deal_alerts_to_is_greeted_by_that_address() -> None:
    ctx = with_settings(context(), deal_alerts_to="cfo@example.com")
    (email,) = watch(deal(paid=1, paid_pct=1), seen("0", "0"), ctx=ctx).emails
    assert email.to[0].name == email.to[0].email == "cfo@example.com"
    assert email.context["recipient_name"] == "cfo@example.com"


def test_a_bad_entry_first_in_deal_alerts_to_does_not_hide_the_good_ones_after_it() -> None:
    ctx = with_settings(context(), deal_alerts_to="<script>@x\n  and more, Elena Sokolova")
    out = watch(deal(paid=1, paid_pct=1), seen("0", "0"), ctx=ctx)
    assert [e.to[0].email for e in out.emails] == ["elena@example.com"]
    assert out.note == (
        "Settings “Deal alerts to”: “<script>@x and more” is neither a People name nor an"
        " email address, so it gets no alert"
    )


def test_a_bad_entry_is_quoted_up_to_60_characters() -> None:
    typed = "x" * 59 + "yz"
    ctx = with_settings(context(), deal_alerts_to=typed)
    out = watch(deal(paid=1, paid_pct=1), seen("0", "0"), ctx=ctx)
    assert f"“{'x' * 59}y”" in (out.note or "")


# -- the Note and its Log entry --------------------------------------------------------------


def test_an_amount_typed_as_text_is_not_also_reported_as_empty() -> None:
    out = watch(deal(amount="lots", paid=500, paid_pct=5), seen("0", "0"))
    assert out.note == "Amount “lots” is not a number"


def test_an_empty_deal_has_no_note() -> None:
    out = watch(deal(amount=None, paid=None, paid_pct=None), None)
    assert out.note is None
    assert out.writes == {}


def test_paid_without_amount_is_noted_from_the_first_unit_and_not_at_zero() -> None:
    assert watch(deal(amount=None, paid=1, paid_pct=None), None).note == (
        "Amount is empty, so Paid % cannot be checked"
    )
    assert watch(deal(amount=None, paid=0, paid_pct=None), None).note is None


def test_an_overpayment_note_names_both_sums() -> None:
    out = watch(deal(paid=12000, paid_pct=120), seen("100", "10000"))
    assert out.note == ("Paid 12,000.00 is more than the Amount 10,000.00 (overpayment)")


def test_several_problems_make_one_note_and_one_log_entry() -> None:
    out = watch(deal(amount=-1, paid="lots"), seen("0", "0"))
    note = "Amount is negative (-1). Paid “lots” is not a number"
    assert (out.note, out.writes, out.values["note"]) == (note, {"note": note}, note)
    (entry,) = out.log
    assert (entry.record, entry.event, entry.flow, entry.details) == (
        "D-1",
        "problem",
        "deal",
        note,
    )


def test_a_note_already_in_the_cell_is_not_written_or_logged_again() -> None:
    out = watch(deal(paid="lots", note="Paid “lots” is not a number"), seen("0", "0"))
    assert out.writes == {}
    assert out.log == []


def test_a_problem_put_right_clears_the_note() -> None:
    out = watch(
        deal(paid=3000, paid_pct=30, note="Paid “lots” is not a number"), seen("30", "3000")
    )
    assert out.writes == {"note": None}
    assert out.values["note"] is None
    assert out.log == []


def test_amounts_typed_with_a_thousands_comma_are_read_in_the_book_s_language() -> None:
    out = watch(deal(amount="10,000", paid="2,500", paid_pct=25), seen("0", "0"))
    assert out.note is None
    assert out.state == {"pct": "25", "paid": "2500", "changes": 1}


def test_the_first_payment_alert_of_a_deal_is_change_number_one() -> None:
    out = watch(deal(paid=3000, paid_pct=30), seen("0", "0"))
    assert out.emails[0].key == "deal:D-1:payment:1:dmitry@example.com"


def test_a_comma_in_a_russian_book_s_payment_is_a_decimal_comma() -> None:
    ru = context(locale="ru")
    out = watch(deal(amount=10, paid="1,250", paid_pct="12,5"), seen("0", "0"), ctx=ru)
    assert out.state["paid"] == "1.25"
