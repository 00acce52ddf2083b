"""The monthly report at its edges: exact month starts, who a row counts for, odd Log rows.

Each case was a surviving mutant of `functions/report.py` (make mutate).
"""

from __future__ import annotations

import pandas as pd

from functions.model import BookRead, SheetRow, TableRead
from functions.report import compute_report, log_frame, report_tab
from tests.unit.test_report import AA, ACD, AD, IP, NEW, PEOPLE, SCHEMA, ZONE, move, pay


def invoices(*rows: tuple[str, str, object]) -> BookRead:
    table = TableRead(
        "invoices",
        "Invoices",
        ("id", "manager", "amount"),
        tuple(
            SheetRow(i + 2, {"id": r, "manager": m, "amount": a})  # type: ignore[dict-item]
            for i, (r, m, a) in enumerate(rows)
        ),
    )
    return BookRead("en", {"invoices": table})


def report(log: list[list[str]], book: BookRead | None = None) -> pd.DataFrame:
    return compute_report(log_frame(log, ZONE), book or invoices(), PEOPLE, SCHEMA, ZONE, "2026-11")


def test_the_first_instant_of_the_month_counts_and_the_first_of_the_next_does_not() -> None:
    table = report(
        [
            move("2026-11-01 00:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
            move("2026-12-01 00:00:00+01:00", "INV-2", NEW, AD, "Maria Lopez"),
            pay("2026-11-01 00:00:00+01:00", "D-1", 0, 10, "0 → 1", "Oleg Smirnov"),
            pay("2026-12-01 00:00:00+01:00", "D-1", 10, 30, "1 → 3", "Oleg Smirnov"),
        ]
    )
    assert table.loc["Maria Lopez", "submitted"] == 1
    assert table.loc["Oleg Smirnov", "deal_received"] == 10.0


def test_a_deal_counts_as_fully_paid_when_it_reaches_100_not_when_it_goes_past() -> None:
    table = report(
        [
            pay("2026-11-05 12:00:00+01:00", "D-1", 9950, 10000, "99.5 → 100", "Maria Lopez"),
            pay("2026-11-06 12:00:00+01:00", "D-2", 100, 110, "100 → 110", "Oleg Smirnov"),
            pay("2026-11-07 12:00:00+01:00", "D-3", 0, 0.5, "0 → 0.01", "Oleg Smirnov"),
        ]
    )
    assert table.loc["Maria Lopez", "deals_fully_paid"] == 1
    assert table.loc["Oleg Smirnov", "deals_fully_paid"] == 0
    assert table.loc["Oleg Smirnov", "deal_received"] == 10.5
    assert table.loc["Oleg Smirnov", "deal_refunds"] == 0.0


def test_payments_count_for_the_manager_as_people_spell_them_or_for_nobody() -> None:
    table = report(
        [
            pay("2026-11-05 12:00:00+01:00", "D-1", 0, 10, "0 → 1", "maria LOPEZ"),
            pay("2026-11-05 13:00:00+01:00", "D-2", 0, 20, "0 → 2", ""),
        ]
    )
    assert table.loc["Maria Lopez", "deal_received"] == 10.0
    assert table.loc["—", "deal_received"] == 20.0
    assert "maria LOPEZ" not in table.index


def test_an_invoice_counts_for_its_current_manager_else_for_whoever_submitted_it() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
        move("2026-11-02 10:00:00+01:00", "INV-2", NEW, AD, "maria lopez"),
        ["2026-11-02 10:00:00+01:00", "invoice", "INV-3", "transition", NEW, AD],
    ]
    table = report(log, invoices(("INV-1", "oleg smirnov", 10)))
    assert table.loc["Oleg Smirnov", "submitted"] == 1  # the row says Oleg now
    assert table.loc["Maria Lopez", "submitted"] == 1  # INV-2's row is gone
    assert table.loc["—", "submitted"] == 1  # a short Log row: nobody known


def test_decision_and_payment_hours_are_exact_and_a_same_minute_decision_is_zero() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
        move("2026-11-02 10:00:00+01:00", "INV-1", AD, AA, "Dmitry Volkov"),
        move("2026-11-02 10:00:00+01:00", "INV-2", NEW, AD, "Maria Lopez"),
        move("2026-11-03 01:00:00+01:00", "INV-2", AD, AA, "Dmitry Volkov"),
        move("2026-11-03 02:00:00+01:00", "INV-2", AA, IP, "Irina"),
        move("2026-11-04 03:00:00+01:00", "INV-2", IP, ACD, "Irina"),
    ]
    table = report(log, invoices(("INV-1", "Maria Lopez", 1), ("INV-2", "Maria Lopez", None)))
    assert table.loc["Maria Lopez", "hours_to_decision"] == 7.5  # median of 0 and 15
    assert table.loc["Maria Lopez", "hours_to_payment"] == 26.0
    assert table.loc["Maria Lopez", "paid_sum"] == 0.0  # the paid invoice has no amount
    assert table.attrs["all_hours"] == (7.5, 26.0)


def test_log_times_in_any_offset_or_iso_form_are_read_and_bad_ones_dropped() -> None:
    frame = log_frame(
        [
            ["2026-11-02T09:00:00Z", "invoice", "A", "created"],
            ["2026-11-02 11:00:00+01:00", "invoice", "B", "created"],
            ["2026-11-02 10:30:00+00:00", "invoice", "C", "created"],
            ["yesterday", "invoice", "D", "created"],
        ],
        ZONE,
    )
    assert list(frame["record"]) == ["A", "B", "C"]
    assert [t.hour for t in frame["at"]] == [10, 11, 11]
    assert list(frame["by"]) == ["", "", ""]


def test_an_idle_month_still_lists_every_active_manager_with_zeros() -> None:
    table = report([])
    assert list(table.index) == ["Maria Lopez", "Nina Idle", "Oleg Smirnov"]
    assert table["submitted"].tolist() == [0, 0, 0]
    assert table["deal_received"].tolist() == [0.0, 0.0, 0.0]
    assert table["submitted"].dtype == int
    assert table["deals_fully_paid"].dtype == int


def test_the_tab_rounds_money_to_cents_hours_to_tenths_and_names_its_chart_column() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
        move("2026-11-02 10:05:00+01:00", "INV-1", AD, AA, "Dmitry Volkov"),
        pay("2026-11-05 12:00:00+01:00", "D-1", 0, 10.006, "0 → 1", "Maria Lopez"),
    ]
    tab = report_tab(report(log), SCHEMA, "ru", "2026-11")
    keys = [c.key for c in SCHEMA.labels.report_columns]
    maria = dict(zip(keys, tab.rows[0], strict=True))
    total = dict(zip(keys, tab.rows[-1], strict=True))
    assert maria["hours_to_decision"] == 0.1  # 5 minutes
    assert maria["deal_received"] == 10.01
    assert total["manager"] == SCHEMA.labels.report_total["ru"]
    assert (total["hours_to_decision"], total["deal_received"]) == (0.1, 10.01)
    assert total["submitted"] == 1
    assert tab.headers == tuple(c.header("ru") for c in SCHEMA.labels.report_columns)
    assert tab.chart_column == keys.index("deal_received")


def test_the_tab_gives_each_column_its_format_so_money_and_hours_are_shown_as_such() -> None:
    tab = report_tab(report([]), SCHEMA, "en", "2026-11")
    keys = [c.key for c in SCHEMA.labels.report_columns]
    assert tab.formats == tuple(c.format for c in SCHEMA.labels.report_columns)
    assert tab.formats[keys.index("manager")] == "text"
    assert tab.formats[keys.index("submitted")] == "int"
    assert tab.formats[keys.index("paid_sum")] == "money"
    assert tab.formats[keys.index("hours_to_decision")] == "hours"


def test_hours_are_measured_from_the_same_invoice_s_arrival_not_another_s() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
        move("2026-11-02 11:00:00+01:00", "INV-2", NEW, AD, "Maria Lopez"),
        move("2026-11-02 12:00:00+01:00", "INV-1", AD, AA, "Dmitry Volkov"),
    ]
    table = report(log, invoices(("INV-1", "Maria Lopez", 1), ("INV-2", "Maria Lopez", 1)))
    assert table.loc["Maria Lopez", "hours_to_decision"] == 2.0


def test_a_request_sent_again_is_not_a_decision() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),
        move("2026-11-02 11:00:00+01:00", "INV-1", AD, AD, "Maria Lopez"),  # values updated
        move("2026-11-02 14:00:00+01:00", "INV-1", AD, AA, "Dmitry Volkov"),
    ]
    table = report(log, invoices(("INV-1", "Maria Lopez", 1)))
    assert table.loc["Maria Lopez", "hours_to_decision"] == 3.0  # from the latest request


def test_a_name_not_in_people_keeps_its_own_row() -> None:
    log = [
        move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "Pavel Former"),
        pay("2026-11-05 12:00:00+01:00", "D-1", 0, 10, "0 → 1", "Pavel Former"),
    ]
    table = report(log, invoices(("INV-1", "Pavel Former", 1)))
    assert table.loc["Pavel Former", "submitted"] == 1
    assert table.loc["Pavel Former", "deal_received"] == 10.0


def test_an_invoice_gone_from_the_sheet_whose_submission_is_not_logged_counts_for_nobody() -> None:
    table = report([move("2026-11-02 10:00:00+01:00", "INV-5", AD, AA, "Dmitry Volkov")])
    assert table.loc["—", "approved"] == 1


def test_an_english_tab_has_english_headers() -> None:
    tab = report_tab(report([]), SCHEMA, "en", "2026-11")
    assert tab.headers == tuple(c.header("en") for c in SCHEMA.labels.report_columns)
    assert tab.headers[0] != SCHEMA.labels.report_columns[0].header("ru")
