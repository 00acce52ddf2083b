"""The monthly report, checked against figures worked out by hand for November 2026.

Time zone Europe/Berlin (UTC+1 in November). Events at 23:30 on the last day and 00:30 on the
first day of a month fall into the month of their local time.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

import pytest

from functions.directory import Directory, Person
from functions.model import BookRead, SheetRow, TableRead
from functions.months import previous_month
from functions.report import compute_report, log_frame, report_tab
from functions.schema import load_schema

ZONE = ZoneInfo("Europe/Berlin")
SCHEMA = load_schema()
PEOPLE = Directory(
    (
        Person("Maria Lopez", "maria@example.com", "manager", True),
        Person("Oleg Smirnov", "oleg@example.com", "manager", True),
        Person("Nina Idle", "nina@example.com", "manager", True),
        Person("Dmitry Volkov", "dmitry@example.com", "director", True),
    )
)
NEW, AD, RW, AA = "New", "Awaiting decision", "Rework", "Awaiting accountant"
IP, ACD, CL = "In payment", "Awaiting closing docs", "Closed"


def move(time: str, record: str, src: str, dst: str, by: str = "") -> list[str]:
    return [time, "invoice", record, "transition", src, dst, by, ""]


def pay(time: str, record: str, before: float, after: float, pct: str, by: str) -> list[str]:
    return [time, "deal", record, "payment", str(before), str(after), by, f"Paid % {pct}"]


LOG = [
    ["2026-11-02 09:59:00+01:00", "invoice", "INV-1", "created", "", NEW, "Maria Lopez", ""],
    move("2026-11-02 10:00:00+01:00", "INV-1", NEW, AD, "maria lopez "),
    move("2026-11-02 14:00:00+01:00", "INV-1", AD, AA, "Dmitry Volkov"),
    move("2026-11-03 13:00:00+01:00", "INV-1", AA, IP, "Irina"),
    move("2026-11-03 14:00:00+01:00", "INV-1", IP, ACD, "Irina"),
    move("2026-11-05 10:00:00+01:00", "INV-1", ACD, CL, "Maria Lopez"),
    move("2026-11-10 09:00:00+01:00", "INV-2", NEW, AD, "Maria Lopez"),
    move("2026-11-10 11:00:00+01:00", "INV-2", AD, RW, "Dmitry Volkov"),
    move("2026-11-11 09:00:00+01:00", "INV-2", RW, AD, "Maria Lopez"),
    move("2026-11-11 15:00:00+01:00", "INV-2", AD, AA, "Dmitry Volkov"),
    move("2026-11-30 23:30:00+01:00", "INV-3", NEW, AD, "Oleg Smirnov"),
    move("2026-12-01 00:30:00+01:00", "INV-3", AD, AA, "Dmitry Volkov"),
    move("2026-10-31 23:30:00+01:00", "INV-4", NEW, AD, "Oleg Smirnov"),
    move("2026-11-01 00:30:00+01:00", "INV-4", AD, AA, "Dmitry Volkov"),
    ["2026-11-04 10:00:00+01:00", "invoice", "INV-1", "email", "", "x@y.z", "", "closed"],
    pay("2026-11-05 12:00:00+01:00", "D-1", 0, 3000, "0 → 30", "Maria Lopez"),
    pay("2026-11-20 12:00:00+01:00", "D-1", 3000, 10000, "30 → 100", "Maria Lopez"),
    pay("2026-11-30 23:30:00+01:00", "D-2", 0, 5000, "0 → 50", "Oleg Smirnov"),
    pay("2026-12-01 00:30:00+01:00", "D-2", 5000, 4000, "50 → 40", "Oleg Smirnov"),
    pay("2026-11-15 08:00:00+01:00", "D-3", 6000, 5000, "60 → 50", "Oleg Smirnov"),
    ["not a time", "invoice", "INV-9", "transition", NEW, AD, "Maria Lopez", ""],
]


def book() -> BookRead:
    rows = [
        ("INV-1", "Maria Lopez", 1000),
        ("INV-2", "Maria Lopez", "2 500,00"),
        ("INV-3", "Oleg Smirnov", 700),
        ("INV-4", "Oleg Smirnov", 300),
    ]
    invoices = TableRead(
        "invoices",
        "Invoices",
        ("id", "manager", "amount"),
        tuple(
            SheetRow(i + 2, {"id": r, "manager": m, "amount": a})  # type: ignore[dict-item]
            for i, (r, m, a) in enumerate(rows)
        ),
    )
    return BookRead("en", {"invoices": invoices})


@pytest.fixture  # per test, so mutation testing runs every test that reads it
def november() -> dict[str, dict[str, object]]:
    table = compute_report(log_frame(LOG, ZONE), book(), PEOPLE, SCHEMA, ZONE, "2026-11")
    tab = report_tab(table, SCHEMA, "en", "2026-11")
    keys = [c.key for c in SCHEMA.labels.report_columns]
    return {str(row[0]): dict(zip(keys, row, strict=True)) for row in tab.rows}


def test_maria_matches_the_hand_worked_figures(november: dict[str, dict[str, object]]) -> None:
    assert november["Maria Lopez"] == {
        "manager": "Maria Lopez",
        "submitted": 2,
        "approved": 2,
        "reworked": 1,
        "paid_count": 1,
        "paid_sum": 1000.0,
        "closed": 1,
        "hours_to_decision": 4.0,  # decisions took 4 h, 2 h and 6 h
        "hours_to_payment": 24.0,
        "deal_received": 10000.0,
        "deal_refunds": 0.0,
        "deals_fully_paid": 1,
    }


def test_month_boundaries_are_local_time(november: dict[str, dict[str, object]]) -> None:
    oleg = november["Oleg Smirnov"]
    # INV-3 submitted at 23:30 on 30 Nov counts, its approval at 00:30 on 1 Dec does not;
    # INV-4 submitted at 23:30 on 31 Oct does not count, its approval at 00:30 on 1 Nov does.
    assert (oleg["submitted"], oleg["approved"], oleg["hours_to_decision"]) == (1, 1, 1.0)
    # D-2's payment at 23:30 on 30 Nov counts; its refund at 00:30 on 1 Dec does not.
    assert (oleg["deal_received"], oleg["deal_refunds"]) == (5000.0, 1000.0)


def test_a_manager_with_no_activity_gets_a_row_of_zeros(
    november: dict[str, dict[str, object]],
) -> None:
    nina = november["Nina Idle"]
    assert [nina[k] for k in ("submitted", "paid_sum", "deal_received", "deals_fully_paid")] == [
        0,
        0.0,
        0.0,
        0,
    ]
    assert nina["hours_to_decision"] is None


def test_totals_row_sums_counts_and_takes_the_median_of_all_hours(
    november: dict[str, dict[str, object]],
) -> None:
    total = november["Total"]
    assert (total["submitted"], total["approved"], total["reworked"]) == (3, 3, 1)
    assert (total["paid_sum"], total["deal_received"], total["deal_refunds"]) == (
        1000.0,
        15000.0,
        1000.0,
    )
    assert total["hours_to_decision"] == 3.0  # median of 4, 2, 6 and 1
    assert list(november)[-1] == "Total"


def test_previous_month_uses_the_local_date() -> None:
    from datetime import UTC, datetime

    # 23:30 UTC on 30 Nov is already 1 Dec in Berlin: the report due is November's.
    assert previous_month(datetime(2026, 11, 30, 23, 30, tzinfo=UTC), ZONE) == "2026-11"
    assert previous_month(datetime(2026, 1, 15, tzinfo=UTC), ZONE) == "2025-12"
