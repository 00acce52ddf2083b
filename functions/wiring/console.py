"""Printing a tick's report for people at a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from functions.model import ReportTab
from functions.text import formats
from functions.text.messages import say
from functions.tick.engine import TickReport

_STYLE = {"done": "green", "idle": "dim", "skipped": "yellow", "busy": "yellow", "retry": "yellow"}


def print_report(report: TickReport, console: Console, *, title: str | None = None) -> None:
    """The tick's summary in the book's language (report.locale)."""
    lang = report.locale
    title = say(lang, "tick_title") if title is None else title
    style = _STYLE.get(report.outcome, "white")
    outcome = f"tick_outcome_{report.outcome}"
    headline = escape(report.message or say(lang, outcome))  # sheet text is never rich markup
    console.print(f"[bold]{escape(title)}[/bold]: [{style}]{headline}[/{style}]", highlight=False)
    if report.transitions:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column(say(lang, "tick_column_record"))
        table.add_column(say(lang, "tick_column_from"))
        table.add_column("")
        table.add_column(say(lang, "tick_column_to"))
        for record, before, after in report.transitions:
            table.add_row(
                escape(record), escape(before or "—"), "→", f"[cyan]{escape(after)}[/cyan]"
            )
        console.print(table)
    for email in report.emails:
        console.print(f"  [magenta]✉[/magenta] {escape(email)}", highlight=False)
    for conflict in report.conflicts:
        word = say(lang, "tick_conflict")
        console.print(f"  [red]⚠ {word}[/red] {escape(conflict)}", highlight=False)
    for problem in report.problems:
        console.print(f"  [yellow]• {escape(problem)}[/yellow]", highlight=False)


def print_report_tab(tab: ReportTab, console: Console, locale: str = "en") -> None:
    """A report turned on its side: one line per figure, one column per manager, fits a terminal.

    Amounts as the book's locale writes them (Babel): `1,234.50`, `1 234,50`."""
    table = Table(title=escape(tab.title), header_style="bold", title_style="bold")
    table.add_column("")
    for row in tab.rows:
        table.add_column(escape(str(row[0])), justify="right")
    for index, header in enumerate(tab.headers[1:], start=1):
        table.add_row(
            escape(header),
            *(escape(_shown(row[index], tab.formats[index], locale)) for row in tab.rows),
        )
    console.print(table)


def _shown(value: object, fmt: str, locale: str) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if fmt == "money":
        return formats.amount(value, locale)
    return formats.number(value, locale)
