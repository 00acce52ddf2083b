"""The report is written by itself once a month, and on demand."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from tests.fakes import FakeBook
from tests.unit.test_engine import PEOPLE, make_engine, new_invoice


def settings_zone(book: FakeBook, zone: str) -> None:
    book.tabs["settings"].append({"key": "Time zone", "value": zone})


def test_the_first_tick_of_a_month_writes_last_months_report_once(tmp_path: Path) -> None:
    book = FakeBook(PEOPLE)
    settings_zone(book, "Europe/Berlin")
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    assert book.reports == {}  # the first tick only remembers where reports start
    # 23:30 UTC on 30 Nov is 00:30 on 1 Dec in Berlin: November is over there.
    report = engine.tick(datetime(2026, 11, 30, 23, 30, tzinfo=UTC))
    assert list(book.reports) == ["Report 2026-11"]
    tab = book.reports["Report 2026-11"]
    maria = next(row for row in tab.rows if row[0] == "Maria Lopez")
    assert maria[1] == 1  # one invoice submitted in November
    assert tab.rows[-1][0] == "Total"
    assert report.outcome == "done"
    book.reports.clear()
    engine.tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    engine.tick(datetime(2026, 12, 15, 9, 0, tzinfo=UTC))
    assert book.reports == {}  # once, not at every tick
    assert [r[3] for r in book.log].count("Report") == 1


def test_a_report_on_demand_is_written_and_logged(tmp_path: Path) -> None:
    book = FakeBook(PEOPLE)
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(datetime(2026, 11, 20, 9, 0, tzinfo=UTC))
    tab = engine.monthly_report("2026-11", datetime(2026, 11, 21, tzinfo=UTC))
    assert book.reports["Report 2026-11"] == tab
    assert book.log[-1][3] == "Report"
