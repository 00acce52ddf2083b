"""The monthly report reads a Log that people can edit: blank rows, payments with no Paid %.

Each case was a surviving mutant of `functions/report.py` (make mutate).
"""

from __future__ import annotations

from functions.report import log_frame
from tests.unit.test_report import AD, NEW, ZONE
from tests.unit.test_report_edges import invoices, report


def test_a_blank_row_in_the_log_is_skipped_and_the_rows_around_it_are_read() -> None:
    # Google's values API gives a blank row inside the range as an empty list.
    rows = [
        ["2026-11-02 10:00:00+01:00", "invoice", "INV-1", "transition", NEW, AD, "Maria Lopez"],
        [],
        ["2026-11-02 11:00:00+01:00", "invoice", "INV-2", "transition", NEW, AD, "Maria Lopez"],
    ]
    assert list(log_frame(rows, ZONE)["record"]) == ["INV-1", "INV-2"]
    table = report(rows, invoices(("INV-1", "Maria Lopez", 1), ("INV-2", "Maria Lopez", 1)))
    assert table.loc["Maria Lopez", "submitted"] == 2


def test_a_payment_logged_without_a_paid_percent_counts_its_money_but_not_as_fully_paid() -> None:
    log = [
        ["2026-11-05 12:00:00+01:00", "deal", "D-1", "payment", "0", "10", "Maria Lopez", ""],
        ["2026-11-06 12:00:00+01:00", "deal", "D-2", "payment", "0", "20", "Maria Lopez", "paid"],
    ]
    table = report(log)
    assert table.loc["Maria Lopez", "deal_received"] == 30.0
    assert table.loc["Maria Lopez", "deals_fully_paid"] == 0
