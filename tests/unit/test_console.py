"""The terminal's report: figures as the book's locale writes them."""

from __future__ import annotations

from rich.console import Console

from functions.model import ReportTab
from functions.wiring.console import print_report_tab

TAB = ReportTab(
    title="Report 2026-11",
    headers=("", "Paid (sum)", "Invoices submitted", "Median hours to decision"),
    formats=("text", "money", "int", "hours"),
    rows=(("Maria Lopez", 1234.5, 3, 0.6), ("Total", 1234567.5, 1200, 12.25)),
    chart_column=1,
)


def shown(locale: str) -> str:
    console = Console(width=120, record=True, color_system=None)
    print_report_tab(TAB, console, locale)
    return console.export_text()


def test_an_english_book_gets_commas_for_thousands_and_a_point_for_decimals() -> None:
    text = shown("en")
    assert "1,234.50" in text
    assert "1,234,567.50" in text
    assert "1,200" in text
    assert "12.25" in text


def test_a_russian_book_gets_spaces_for_thousands_and_a_comma_for_decimals() -> None:
    text = shown("ru")
    assert "1\u00a0234,50" in text
    assert "1\u00a0234\u00a0567,50" in text
    assert "0,6" in text
    assert "1,234.50" not in text
