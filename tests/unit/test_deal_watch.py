"""The deal payment watcher: alerts, baseline, and values as people type them."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.deal_watch import DealOutcome, plan_deal
from functions.model import SheetRow
from tests.builders import NOW, context
from tests.fakes import FakeBook
from tests.unit.test_engine import PEOPLE, make_engine


def deal(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "deal_id": "D-1",
        "deal": "Steel for Acme",
        "manager": "Maria Lopez",
        "stage": "Shipping",
        "amount": 10000,
        "paid": 0,
        "paid_pct": 0,
        "order_no": "ORD-7",
        "invoice_no": "A-17",
        "note": None,
    }
    values.update(overrides)
    return values


def watch(
    values: dict[str, Any], before: dict[str, Any] | None = None, silent: bool = False
) -> DealOutcome:
    return plan_deal("D-1", SheetRow(2, values), before, context(), silent=silent)


def seen(pct: str, paid: str) -> dict[str, Any]:
    return {"values": {}, "state": {"pct": pct, "paid": paid}}


def test_a_payment_alerts_every_active_director_with_the_whole_story() -> None:
    out = watch(deal(paid=3000, paid_pct=30), seen("0", "0"))
    assert [e.to[0].email for e in out.emails] == ["dmitry@example.com", "elena@example.com"]
    shown = out.emails[0].context["deal"]
    assert (shown["deal"], shown["change"], shown["paid"], shown["pct"]) == (
        "Steel for Acme",
        "3\u00a0000.00",
        "3\u00a0000.00",
        "30",
    )
    assert (shown["order_no"], shown["invoice_no"], shown["stage"]) == ("ORD-7", "A-17", "Shipping")
    payment = next(e for e in out.log if e.event == "payment")
    assert (payment.flow, payment.from_, payment.to) == ("deal", "0.00", "3,000.00")


def test_a_second_payment_reports_this_change_and_the_total() -> None:
    out = watch(deal(paid=6000, paid_pct=60), seen("30", "3000"))
    shown = out.emails[0].context["deal"]
    assert (shown["change"], shown["paid"], shown["previous_pct"]) == (
        "3\u00a0000.00",
        "6\u00a0000.00",
        "30",
    )
    assert shown["direction"] == "increase"


def test_a_refund_is_reported_as_a_decrease() -> None:
    out = watch(deal(paid=4000, paid_pct=40), seen("60", "6000"))
    assert out.emails[0].context["deal"]["direction"] == "decrease"
    payment = next(e for e in out.log if e.event == "payment")
    assert (payment.from_, payment.to) == ("6,000.00", "4,000.00")


def test_a_full_refund_to_zero_is_still_reported() -> None:
    out = watch(deal(paid=0, paid_pct=0), seen("40", "4000"))
    assert out.emails
    assert out.emails[0].context["deal"]["direction"] == "decrease"


def test_an_unchanged_percentage_sends_nothing() -> None:
    assert watch(deal(paid=3000, paid_pct=30), seen("30", "3000")).emails == []


def test_an_unpaid_deal_sends_nothing() -> None:
    assert watch(deal(paid=0, paid_pct=0), None).emails == []


def test_a_silent_first_look_records_without_alerting() -> None:
    out = watch(deal(paid=3000, paid_pct=30), None, silent=True)
    assert out.emails == []
    assert out.state == {"pct": "30", "paid": "3000"}


@pytest.mark.parametrize(
    ("typed", "expected"),
    [(45, "45"), ("45%", "45"), ("45,5 %", "45.5"), (0.455, "45.5"), ("0.455", "0.455")],
)
def test_paid_percent_as_people_type_it(typed: object, expected: str) -> None:
    out = watch(deal(paid=4550, paid_pct=typed), seen("0", "0"))
    assert out.state["pct"] == expected


def test_a_formula_without_a_computed_value_uses_paid_over_amount_and_says_so() -> None:
    out = watch(deal(paid=2500, paid_pct="=F2/E2"), seen("0", "0"))
    assert out.state["pct"] == "25"
    assert "formula has no computed value" in (out.note or "")
    assert out.emails


def test_paid_without_amount_is_explained_and_a_typed_percentage_still_alerts() -> None:
    out = watch(deal(amount=None, paid=500, paid_pct=5), seen("0", "0"))
    assert "Amount is empty" in (out.note or "")
    assert out.emails


def test_overpayment_alerts_and_is_noted() -> None:
    out = watch(deal(paid=12000, paid_pct=120), seen("100", "10000"))
    assert out.emails
    assert "more than the Amount" in (out.note or "")


@pytest.mark.parametrize("column", ["paid", "amount", "paid_pct"])
def test_text_in_numeric_cells_is_explained_and_kept(column: str) -> None:
    out = watch(deal(**{"paid": 3000, "paid_pct": 30, column: "lots"}), seen("0", "0"))
    assert "“lots” is not a number" in (out.note or "")
    assert out.values[column] == "lots"
    assert "note" in out.writes
    assert column not in out.writes


def test_alerts_go_to_settings_deal_alerts_to_when_set() -> None:
    from dataclasses import replace

    from functions.flow_context import FlowContext

    ctx = context()
    ctx = FlowContext(
        ctx.schema,
        ctx.locale,
        ctx.people,
        replace(ctx.settings, deal_alerts_to="Elena Sokolova; cfo@example.com"),
        ctx.now,
    )
    out = plan_deal("D-1", SheetRow(2, deal(paid=1, paid_pct=1)), seen("0", "0"), ctx, silent=False)
    assert [e.to[0].email for e in out.emails] == ["elena@example.com", "cfo@example.com"]


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("cfo@example.com\r\nBcc: evil@x.com", ["dmitry@example.com", "elena@example.com"]),
        ("Elena Sokolova, <script>@x", ["elena@example.com"]),
    ],
)
def test_a_deal_alerts_to_entry_that_is_not_an_address_is_skipped_and_told(
    typed: str, kept: list[str]
) -> None:
    from dataclasses import replace

    from functions.flow_context import FlowContext

    ctx = context()
    ctx = FlowContext(
        ctx.schema, ctx.locale, ctx.people, replace(ctx.settings, deal_alerts_to=typed), ctx.now
    )
    out = plan_deal("D-1", SheetRow(2, deal(paid=1, paid_pct=1)), seen("0", "0"), ctx, silent=False)
    # Nothing typed becomes a header; with no valid entry left the directors are alerted.
    assert [e.to[0].email for e in out.emails] == kept
    assert "“Deal alerts to”" in (out.note or "")
    assert "\n" not in (out.note or "")


# -- the watcher inside a tick ------------------------------------------------------------

DIRECTORS = [*PEOPLE, ("Elena Sokolova", "elena@example.com", "director", "Yes")]


def test_first_tick_is_a_silent_baseline_then_changes_alert_once(tmp_path: Path) -> None:
    book = FakeBook(DIRECTORS)
    book.tabs["deals"] += [deal(paid=3000, paid_pct=30), deal(deal_id="D-2", paid=0)]
    engine, mail = make_engine(book, tmp_path)
    engine.tick(NOW)
    assert mail.sent == []
    assert [r[3] for r in book.log] == ["Baseline"]
    book.tabs["deals"][0].update(paid=6000, paid_pct=60)
    book.tabs["deals"].append(deal(deal_id="D-3", paid=500, paid_pct=5))
    engine.tick(NOW + timedelta(minutes=1))
    engine.tick(NOW + timedelta(minutes=2))
    alerted = sorted((e.key.split(":")[1], e.to[0]) for e in mail.sent)
    assert alerted == [
        ("D-1", "dmitry@example.com"),
        ("D-1", "elena@example.com"),
        ("D-3", "dmitry@example.com"),
        ("D-3", "elena@example.com"),
    ]


def test_deleted_and_duplicate_deals_are_explained_without_a_crash(tmp_path: Path) -> None:
    book = FakeBook(DIRECTORS)
    book.tabs["deals"] += [deal(), deal(deal_id="D-2")]
    engine, mail = make_engine(book, tmp_path)
    engine.tick(NOW)
    book.tabs["deals"].pop(0)
    book.tabs["deals"].append(deal(deal_id="D-2", deal="Another", paid=10, paid_pct=1))
    book.tabs["deals"].append(deal(deal_id=None, deal="No ID yet"))
    report = engine.tick(NOW + timedelta(minutes=1))
    assert any(r[3] == "Row deleted" and r[2] == "D-1" and r[1] == "Deal" for r in book.log)
    assert "each deal needs its own ID" in book.tabs["deals"][1]["note"]
    assert "Fill in: Deal ID" in book.tabs["deals"][2]["note"]
    assert report.outcome == "done"


def test_a_deal_only_tick_leaves_invoices_for_the_invoice_flow(tmp_path: Path) -> None:
    from tests.unit.test_engine import new_invoice

    book = FakeBook(DIRECTORS)
    book.tabs["invoices"].append(new_invoice())
    book.tabs["deals"].append(deal(paid=10, paid_pct=1))
    engine, mail = make_engine(book, tmp_path)
    engine.tick(NOW, flows=frozenset({"deal"}))
    assert book.tabs["invoices"][0]["id"] is None
    assert [r[3] for r in book.log] == ["Baseline"]
    engine.tick(NOW + timedelta(minutes=1), flows=frozenset({"invoice"}))
    assert book.tabs["invoices"][0]["id"] == "INV-000001"
    assert mail.sent[0].key.startswith("invoice:INV-000001:signer_request")


def test_an_overpayment_note_writes_the_sums_the_book_way() -> None:
    out = watch(deal(paid=12000, paid_pct=120), seen("100", "10000"))
    assert "Paid 12,000.00 is more than the Amount 10,000.00" in (out.note or "")
    ru = context(locale="ru")
    row = SheetRow(2, deal(paid=12000, paid_pct=120))
    out = plan_deal("D-1", row, seen("100", "10000"), ru, silent=False)
    assert "12\u00a0000,00" in (out.note or "")


def test_an_alert_names_the_deals_own_currency_when_the_row_has_one() -> None:
    out = watch(deal(paid=3000, paid_pct=30, currency="USD"), seen("0", "0"))
    assert out.emails[0].context["currency"] == "USD"
    no_column = watch(deal(paid=3000, paid_pct=30), seen("0", "0"))  # a book made before it
    assert no_column.emails[0].context["currency"] == "EUR"  # Settings


def test_a_deal_alert_names_the_manager_as_written_in_people_and_answers_to_them() -> None:
    out = watch(deal(manager="  maria lopez ", paid=3000, paid_pct=30), seen("0", "0"))
    [alert, *_] = out.emails
    assert alert.context["deal"]["manager"] == "Maria Lopez"
    assert [r.email for r in alert.reply_to] == ["maria@example.com"]
    assert alert.context["currency"] == "EUR"
