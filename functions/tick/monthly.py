"""The monthly report's part of a tick: when it is due, and the tab and Log line it writes."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from itertools import chain
from zoneinfo import ZoneInfo

from functions.directory import read_directory, read_settings
from functions.meta import LAST_REPORT, TIME_ZONE
from functions.model import BookRead, Cell, LogEntry, ReportTab
from functions.months import previous_month
from functions.schema import Locale, Schema
from functions.text.messages import say

REPORT_TABS = frozenset({"invoices"})  # the row tabs the monthly report counts
# The flow whose tick writes a due report: it reads the Invoices anyway. deal_watch leaves it
# to invoice_flow (and to monthly_report's job), or it would hold both flows' rows at once.
REPORT_FLOW = "invoice"


def report_due(meta: Mapping[str, object], now: datetime) -> str | None:
    """Last month, once the first tick of a month (Settings time zone) comes round."""
    last, zone = meta.get(LAST_REPORT), meta.get(TIME_ZONE)
    if not isinstance(last, str) or not isinstance(zone, str):
        return None
    month = previous_month(now, ZoneInfo(zone))
    return month if month > last else None


def report_tab(
    read: BookRead,
    month: str,
    log: Iterable[Sequence[Cell]],
    pending: list[LogEntry],
    schema: Schema,
) -> ReportTab:
    """The `Report YYYY-MM` tab from the Log as the book holds it plus `pending` lines."""
    # pandas (~50 MB, a slower cold start) is loaded only by the ticks that write a report.
    from functions.report import compute_report, report_log
    from functions.report import report_tab as report_table

    settings, _ = read_settings(read.table("settings"), schema, read.locale)
    people = read_directory(read.table("people"), schema)
    # The Log streams through: only the rows the report counts are kept.
    rows: Iterable[Sequence[Cell]] = chain(log, (e.as_row() for e in pending))
    counted = report_log(rows, settings.zone, schema, month)
    table = compute_report(counted, read, people, schema, settings.zone, month)
    return report_table(table, schema, "ru" if read.locale == "ru" else "en", month)


def report_logged(month: str, read: BookRead, now: datetime, schema: Schema) -> LogEntry:
    """The Log line saying the month's report was written."""
    settings, _ = read_settings(read.table("settings"), schema, read.locale)
    stamp = now.astimezone(settings.zone).isoformat(sep=" ", timespec="seconds")
    locale: Locale = "ru" if read.locale == "ru" else "en"
    return LogEntry(
        stamp,
        "report",
        month,
        "report",
        details=say(locale, "report_written"),
        flow_shown=schema.log_word("log_flows", "report", locale),
        event_shown=schema.log_word("log_events", "report", locale),
    )
