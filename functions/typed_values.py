"""Values as values: once a row is accepted, typed amounts become numbers and typed dates dates.

People type `1 234,50` or `20.11.2026` as text; such a column can be neither summed nor
sorted. Once an invoice is accepted (past New: every required field valid), each money or
date cell still holding text that reads cleanly is written back as a number or a date, and
the Log keeps the text exactly as typed. Text that does not read cleanly is left alone: the
Note already says what is wrong with it. Pure: the planner calls it once per invoice row.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal

from functions.flow_context import FlowContext
from functions.model import LogEntry, Stored, stored
from functions.text.formats import day, money
from functions.text.parsing import parse_amount, parse_date

# What a date cell is written as: the ISO text of midnight, which the workbook writes as a
# date cell and reads back as the same datetime (so the next tick sees no change).
DATE_WRITTEN = "%Y-%m-%dT00:00:00"
# A Google Sheet keeps a date as days since 1899-12-30, and reads it back as that number.
SERIAL_DAY_0 = date(1899, 12, 30)


def settle_typed_values(
    record: str, values: Mapping[str, Stored], status: str, ctx: FlowContext, tab: str = "invoices"
) -> tuple[dict[str, Stored], list[LogEntry]]:
    """The cells to rewrite as numbers or dates, and one Log row per cell with the typed text."""
    if status == "new":
        return {}, []
    writes: dict[str, Stored] = {}
    log: list[LogEntry] = []
    currency = str(values.get("currency") or "").strip() or ctx.settings.currency
    for column in ctx.schema.tab(tab).columns:
        typed = values.get(column.key)
        if column.owner != "people" or not isinstance(typed, str) or not typed.strip():
            continue
        value: Stored = None
        shown = ""
        if column.type == "money":
            number, problem = parse_amount(typed, "", ctx.locale)
            if problem is None and isinstance(number, Decimal):
                value, shown = stored(float(number)), money(number, currency, ctx.locale)
        elif column.type == "date" and (ctx.date_cells or ctx.date_serials):
            when, problem = parse_date(typed, "", ctx.locale)
            if problem is None and isinstance(when, date):
                value = (
                    (when - SERIAL_DAY_0).days  # read back as this number: no change next tick
                    if ctx.date_serials
                    else datetime(when.year, when.month, when.day).strftime(DATE_WRITTEN)
                )
                shown = day(when, ctx.locale)
        if value is None:
            continue
        writes[column.key] = value
        header = column.header[ctx.locale]
        log.append(
            ctx.log(
                record,
                "typed",
                flow="invoice",
                from_=typed,
                to=shown,
                details=header,
            )
        )
    return writes, log
