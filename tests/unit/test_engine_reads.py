"""A tick reads only its flow's rows (a Cloud Function runs one flow): what it asks the book."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from functions.tick.planner import ALL_FLOWS
from tests.fakes import FakeBook
from tests.unit.test_engine import PEOPLE, make_engine, new_invoice

DEAL_WATCH, INVOICE_FLOW = frozenset({"deal"}), frozenset({"invoice"})
NOV_20 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def ticked(book: FakeBook, tmp_path: Path, *flows: frozenset[str]) -> list[object]:
    """What each tick's read asked for, one tick per flow set, each after an edit."""
    engine, _ = make_engine(book, tmp_path)
    for index, wanted in enumerate(flows):
        book.tabs["invoices"].append(new_invoice(supplier=f"Acme {index}"))
        engine.tick(NOV_20.replace(minute=index), flows=wanted)
    return list(book.asked_tabs)


def test_each_flow_reads_its_own_rows_once_the_state_knows_the_book(tmp_path: Path) -> None:
    asked = ticked(FakeBook(PEOPLE), tmp_path, INVOICE_FLOW, DEAL_WATCH, INVOICE_FLOW)
    assert asked == [{"invoices"}, {"deals"}, {"invoices"}]


def test_deal_watch_on_an_empty_state_reads_the_invoices_too(tmp_path: Path) -> None:
    # whether the book has a past (and the state is missing) is told by its invoices
    asked = ticked(FakeBook(PEOPLE), tmp_path, DEAL_WATCH, DEAL_WATCH)
    assert asked == [{"deals", "invoices"}, {"deals"}]


def test_a_tick_of_every_flow_reads_every_tab(tmp_path: Path) -> None:
    assert ticked(FakeBook(PEOPLE), tmp_path, ALL_FLOWS, ALL_FLOWS) == [None, None]


def test_a_due_report_is_left_by_deal_watch_to_the_invoice_flow(tmp_path: Path) -> None:
    # deal_watch reading the Invoices and the Log as well as its deals would hold both flows'
    # rows at once: 449 MiB at 100,000 + 100,000 (make bench), over the 400 MiB target
    book = FakeBook(PEOPLE)
    engine, _ = make_engine(book, tmp_path)
    book.tabs["invoices"].append(new_invoice())
    engine.tick(NOV_20, flows=INVOICE_FLOW)
    engine.tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC), flows=DEAL_WATCH)
    assert book.asked_tabs[-1] == frozenset({"deals"})
    assert book.reports == {}
    engine.tick(datetime(2026, 12, 1, 9, 1, tzinfo=UTC), flows=INVOICE_FLOW)
    assert book.asked_tabs[-1] == frozenset({"invoices"})
    (tab,) = book.reports.values()
    maria = next(row for row in tab.rows if row[0] == "Maria Lopez")
    assert maria[1] == 1, "the invoice submitted in November is counted"


def test_the_monthly_report_on_demand_reads_the_invoices_only(tmp_path: Path) -> None:
    book = FakeBook(PEOPLE)
    engine, _ = make_engine(book, tmp_path)
    book.tabs["invoices"].append(new_invoice())
    engine.tick(NOV_20)
    engine.monthly_report("2026-11", datetime(2026, 11, 21, tzinfo=UTC))
    assert book.asked_tabs[-1] == frozenset({"invoices"})
    assert "Report 2026-11" in book.reports
