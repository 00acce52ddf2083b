"""Printing a tick's report for people at a terminal (rich)."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from .engine import TickReport

_STYLE = {"done": "green", "idle": "dim", "skipped": "yellow", "busy": "yellow", "retry": "yellow"}


def print_report(report: TickReport, console: Console, *, title: str = "tick") -> None:
    style = _STYLE.get(report.outcome, "white")
    headline = report.message or report.outcome
    console.print(f"[bold]{title}[/bold]: [{style}]{headline}[/{style}]", highlight=False)
    if report.transitions:
        table = Table(show_header=True, header_style="bold", box=None, pad_edge=False)
        table.add_column("record")
        table.add_column("from")
        table.add_column("")
        table.add_column("to")
        for record, before, after in report.transitions:
            table.add_row(record, before or "—", "→", f"[cyan]{after}[/cyan]")
        console.print(table)
    for email in report.emails:
        console.print(f"  [magenta]✉[/magenta] {email}", highlight=False)
    for conflict in report.conflicts:
        console.print(f"  [red]⚠ conflict[/red] {conflict}", highlight=False)
    for problem in report.problems:
        console.print(f"  [yellow]• {problem}[/yellow]", highlight=False)
