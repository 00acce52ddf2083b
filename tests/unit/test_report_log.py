"""The monthly report keeps only the Log rows it counts, and counts the same as from the whole Log.

A busy book's Log holds hundreds of thousands of rows; `report_log` takes them one at a time
and keeps the invoice transitions up to the month's end and the month's deal payments.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from functions.model import Cell
from functions.report import compute_report, log_frame, report_log
from functions.text.log_times import to_serial
from tests.unit.test_report import AA, ACD, AD, CL, IP, NEW, PEOPLE, RW, SCHEMA, ZONE, book, move

STATUSES = [NEW, AD, AD, RW, AA, AA, IP, ACD, CL, "Новый", "Ожидает решения"]
FLOWS = ["invoice", "invoice", "deal", "Invoice", "Сделка", "Счёт", "bitrix24", "report"]
EVENTS = ["transition", "transition", "payment", "created", "Status changed", "Оплата", "email"]
WHO = ["Maria Lopez", "oleg smirnov ", "Dmitry Volkov", "Irina", ""]
RECORDS = ["INV-1", "INV-2", "INV-7", "INV-8", "D-1"]
START = datetime(2026, 10, 20)  # the months asked about start 11 days in and 31 days after


def _time(minutes: int, form: int) -> Cell:
    when = START + timedelta(minutes=minutes)
    if form == 0:
        return when.isoformat(sep=" ") + "+01:00"
    if form == 1:
        return to_serial(when)  # as Google gives a Time back
    return when  # a date-time cell, as the workbook gives it


rows = st.lists(
    st.tuples(
        st.integers(0, 60 * 24 * 45),
        st.integers(0, 2),
        st.sampled_from(FLOWS),
        st.sampled_from(RECORDS),
        st.sampled_from(EVENTS),
        st.sampled_from(STATUSES),
        st.sampled_from(STATUSES),
        st.sampled_from(WHO),
        st.sampled_from(["", "Paid % 30 → 100", "Paid % 100% → 45,5 %", "closed"]),
    ).map(lambda t: [_time(t[0], t[1]), *t[2:]]),
    max_size=40,
)


@settings(max_examples=200, deadline=None)
@given(log=rows, month=st.sampled_from(["2026-11", "2026-12"]))
def test_the_report_from_the_rows_kept_equals_the_report_from_the_whole_log(
    log: list[list[Cell]], month: str
) -> None:
    whole = compute_report(log_frame(log, ZONE), book(), PEOPLE, SCHEMA, ZONE, month)
    kept = compute_report(report_log(log, ZONE, SCHEMA, month), book(), PEOPLE, SCHEMA, ZONE, month)
    pd.testing.assert_frame_equal(kept, whole)
    assert kept.attrs == whole.attrs or all(
        (pd.isna(a) and pd.isna(b)) or a == b
        for a, b in zip(kept.attrs["all_hours"], whole.attrs["all_hours"], strict=True)
    )


def test_only_invoice_transitions_up_to_the_month_s_end_and_the_month_s_payments_are_kept() -> None:
    log = [
        move("2026-10-02 10:00:00+01:00", "INV-1", NEW, AD, "Maria Lopez"),  # before: kept
        ["2026-10-02 10:00:00+01:00", "Invoice", "INV-1", "Status changed", AD, AA, "D", ""],
        ["2026-11-03 10:00:00+01:00", "invoice", "INV-1", "email", "", "x@y.z", "", ""],
        ["2026-10-05 12:00:00+01:00", "deal", "D-1", "payment", "0", "10", "M", ""],  # before
        ["2026-11-05 12:00:00+01:00", "Сделка", "D-1", "Оплата", "10", "20", "M", ""],
        ["2026-11-06 12:00:00+01:00", "bitrix24", "D-1", "payment", "0", "1", "", ""],
        move("2026-12-01 00:00:00+01:00", "INV-2", NEW, AD, "Maria Lopez"),  # after: dropped
    ]
    kept = report_log(log, ZONE, SCHEMA, "2026-11")
    assert [
        (record, f"{at:%m-%d}") for record, at in zip(kept["record"], kept["at"], strict=True)
    ] == [
        ("INV-1", "10-02"),
        ("INV-1", "10-02"),
        ("D-1", "11-05"),
    ]


def test_the_log_is_taken_one_row_at_a_time() -> None:
    taken: list[int] = []

    def arriving() -> Iterator[list[Cell]]:
        for day in range(1, 29):
            taken.append(day)
            yield [f"2026-11-{day:02d} 10:00:00+01:00", "report", "2026-10", "report"]

    assert report_log(arriving(), ZONE, SCHEMA, "2026-11").empty
    assert taken == list(range(1, 29))  # every row read, none kept


def test_a_payment_at_the_month_s_first_instant_is_kept_and_one_before_is_not() -> None:
    log: list[list[Cell]] = [
        ["2026-10-31 23:59:59+01:00", "deal", "D-1", "payment", "0", "10", "M", ""],
        ["2026-11-01 00:00:00+01:00", "deal", "D-1", "payment", "10", "20", "M", ""],
    ]
    kept = report_log(log, ZONE, SCHEMA, "2026-11")
    assert list(kept["to"]) == ["20"]


def test_a_time_before_1970_typed_into_the_log_is_read_not_a_crash() -> None:
    # The owner may type over a protected Log cell; a year typed wrong is still a time.
    log: list[list[Cell]] = [["1969-11-02 10:00:00+01:00", "invoice", "INV-1", "transition"]]
    frame = log_frame(log, ZONE)
    assert [f"{at:%Y-%m-%d %H:%M}" for at in frame["at"]] == ["1969-11-02 10:00"]
