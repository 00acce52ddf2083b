"""Monthly per-manager report, computed with pandas from the Log and the current rows.

Pure: takes what was read, returns a table. Month boundaries are in the Settings time zone.
"""

from __future__ import annotations

import re
from array import array
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache, partial
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd

from functions.directory import Directory
from functions.model import BookRead, Cell, ReportTab, Stored
from functions.record import share
from functions.schema import Locale, Schema
from functions.text.log_times import log_instant
from functions.text.parsing import parse_decimal, text

LOG_COLUMNS = ("time", "flow", "record", "event", "from", "to", "by", "details")
# Details of a payment: `Paid % 30 → 45.5` (older Logs) or `Paid % 30% → 45,5 %` (Babel).
_PCT = re.compile(r"→\s*([\d.,]+)\s*%?\s*$")
_PCT_BEFORE = re.compile(r"([\d.,]+)\s*%?\s*→")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def month_bounds(month: str, zone: ZoneInfo) -> tuple[pd.Timestamp, pd.Timestamp]:
    start = pd.Timestamp(datetime.strptime(month, "%Y-%m")).tz_localize(zone)
    return start, start + pd.DateOffset(months=1)


def log_frame(
    rows: Iterable[Sequence[Cell]],
    zone: ZoneInfo,
    keep: Callable[[list[str], datetime], bool] | None = None,
) -> pd.DataFrame:
    """The Log tab as a frame with aware local times (rows with a bad time are dropped).

    A Time may be old text with its offset, a date-time cell or a serial number (log_times).
    Rows are taken one at a time and only those `keep` accepts (its texts, its instant) are
    held, each short text once: a Log is never held whole (see report_log).
    """
    width = len(LOG_COLUMNS)
    columns: list[list[str]] = [[] for _ in LOG_COLUMNS]
    micros = array("q")  # the instants, as microseconds since 1970 (exact, 8 bytes each)
    for row in rows:
        instant = log_instant(row[0] if row else None, zone)
        if instant is None:
            continue
        cells = [text(v) for v in row[:width]]
        cells += [""] * (width - len(cells))
        if keep is not None and not keep(cells, instant):
            continue
        for column, value in zip(columns, cells, strict=True):
            column.append(share(value))
        micros.append((instant - _EPOCH) // _MICROSECOND)
    frame = pd.DataFrame(
        {
            name: pd.Series(column, dtype=object)
            for name, column in zip(LOG_COLUMNS, columns, strict=True)
        }
    )
    at = pd.to_datetime(np.frombuffer(micros, dtype=np.int64), unit="us", utc=True)
    frame["at"] = pd.Series(at.tz_convert(zone), index=frame.index)
    return frame.sort_values("at", kind="stable")


def report_log(
    rows: Iterable[Sequence[Cell]], zone: ZoneInfo, schema: Schema, month: str
) -> pd.DataFrame:
    """The Log rows `compute_report` counts for `month`, as `log_frame` gives them.

    A busy book's Log grows by hundreds of thousands of rows a year (about 6.5 per invoice);
    held whole with pandas it took ~560 MiB at 650,000 rows. The report needs only the invoice
    transitions before the month's end (a decision's wait may start months earlier, and the
    first one names who submitted) and the deal payments within the month.
    """
    start, end = (bound.to_pydatetime() for bound in month_bounds(month, zone))
    flow_key = cache(partial(schema.log_key, "log_flows"))  # a Log repeats a few words
    event_key = cache(partial(schema.log_key, "log_events"))

    def counted(cells: list[str], at: datetime) -> bool:
        if at >= end:
            return False
        flow, event = flow_key(cells[1]), event_key(cells[3])
        if flow == "invoice":
            return event == "transition"
        return flow == "deal" and event == "payment" and at >= start

    return log_frame(rows, zone, keep=counted)


def _status_keys(frame: pd.DataFrame, schema: Schema) -> pd.DataFrame:
    keys = {label: schema.status_key(label) for label in set(frame["from"]) | set(frame["to"])}
    return frame.assign(src=frame["from"].map(keys), dst=frame["to"].map(keys))


def _money(value: Cell) -> float:
    """A Log amount: `3000` (older Logs), `3,000.00` or `3 000,00` (Babel, en or ru)."""
    number = parse_decimal(value)
    return float(number) if number is not None else 0.0


def _percent(value: object) -> float:
    number = parse_decimal(value) if isinstance(value, str) else None
    return float(number) if number is not None else float("nan")


def _hours_since(events: pd.DataFrame, starts: pd.DataFrame) -> pd.Series:
    """For each event, hours since the latest start of the same record before it."""
    if events.empty or starts.empty:
        return pd.Series(dtype=float, index=events.index)
    merged = pd.merge_asof(
        events.reset_index().sort_values("at"),
        starts[["at", "record"]].rename(columns={"at": "start"}).sort_values("start"),
        left_on="at",
        right_on="start",
        by="record",
        allow_exact_matches=True,
    ).set_index("index")
    return ((merged["at"] - merged["start"]).dt.total_seconds() / 3600).reindex(events.index)


def compute_report(
    log: pd.DataFrame, read: BookRead, people: Directory, schema: Schema, zone: ZoneInfo, month: str
) -> pd.DataFrame:
    """One row per manager (every active manager, plus anyone with activity); no totals."""
    start, end = month_bounds(month, zone)
    # The Log shows events and flows in the book's language; read them back as keys.
    flows = {shown: schema.log_key("log_flows", shown) for shown in set(log["flow"])}
    events = {shown: schema.log_key("log_events", shown) for shown in set(log["event"])}
    log = log.assign(flow=log["flow"].map(flows), event=log["event"].map(events))
    invoices = {text(r.get("id")): r for r in read.table("invoices").rows if text(r.get("id"))}
    canonical = {p.name.casefold(): p.name for p in people.people}

    def manager_of(record: str, fallback: str) -> str:
        row = invoices.get(record)
        name = text(row.get("manager")) if row else fallback
        return canonical.get(name.casefold(), name) or "—"

    inv = _status_keys(log[log["flow"] == "invoice"], schema)
    moves = inv[inv["event"] == "transition"]
    submitted_by = moves[moves["src"] == "new"].groupby("record")["by"].first()
    moves = moves.assign(manager=[manager_of(r, submitted_by.get(r, "")) for r in moves["record"]])
    in_month = moves[(moves["at"] >= start) & (moves["at"] < end)]
    decisions = in_month[
        (in_month["src"] == "awaiting_decision")
        & in_month["dst"].isin(["awaiting_accountant", "rework"])
    ]
    paid = in_month[in_month["dst"] == "awaiting_closing_docs"]
    hours_decision = _hours_since(decisions, moves[moves["dst"] == "awaiting_decision"])
    hours_payment = _hours_since(paid, moves[moves["dst"] == "awaiting_accountant"])
    amounts = {record: _money(row.get("amount")) for record, row in invoices.items()}

    deals = log[
        (log["flow"] == "deal")
        & (log["event"] == "payment")
        & (log["at"] >= start)
        & (log["at"] < end)
    ]
    delta = deals["to"].map(_money) - deals["from"].map(_money)
    after = deals["details"].str.extract(_PCT, expand=False).map(_percent)
    before = deals["details"].str.extract(_PCT_BEFORE, expand=False).map(_percent)
    deals = deals.assign(
        manager=[canonical.get(b.casefold(), b) or "—" for b in deals["by"]],
        received=delta.clip(lower=0),
        refunds=(-delta).clip(lower=0),
        full=((after >= 100) & (before < 100)).astype(int),
    )

    names = sorted(
        {p.name for p in people.active("manager")}
        | set(in_month["manager"])
        | set(deals["manager"])
    )

    def count(frame: pd.DataFrame) -> pd.Series:
        return frame.groupby("manager").size().reindex(names, fill_value=0).astype(int)

    def total(values: pd.Series, by: pd.Series) -> pd.Series:
        return values.astype(float).groupby(by).sum().reindex(names, fill_value=0.0)

    def median(values: pd.Series, by: pd.Series) -> pd.Series:
        return values.astype(float).groupby(by).median().reindex(names)

    table = pd.DataFrame(index=pd.Index(names, name="manager"))
    table["submitted"] = count(in_month[in_month["src"] == "new"])
    table["approved"] = count(in_month[in_month["dst"] == "awaiting_accountant"])
    table["reworked"] = count(in_month[in_month["dst"] == "rework"])
    table["paid_count"] = count(paid)
    table["paid_sum"] = total(paid["record"].map(amounts), paid["manager"])
    table["closed"] = count(in_month[in_month["dst"] == "closed"])
    table["hours_to_decision"] = median(hours_decision, decisions["manager"])
    table["hours_to_payment"] = median(hours_payment, paid["manager"])
    table["deal_received"] = total(deals["received"], deals["manager"])
    table["deal_refunds"] = total(deals["refunds"], deals["manager"])
    table["deals_fully_paid"] = total(deals["full"], deals["manager"]).astype(int)
    table.attrs["all_hours"] = (hours_decision.median(), hours_payment.median())
    return table


def _cell(value: object, fmt: str) -> Stored:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return None
    if fmt == "int":
        return int(str(value).split(".")[0])
    if fmt in ("money", "hours"):
        return float(Decimal(str(value)).quantize(Decimal("0.01" if fmt == "money" else "0.1")))
    return str(value)


def report_tab(table: pd.DataFrame, schema: Schema, locale: Locale, month: str) -> ReportTab:
    """The report as a tab: one row per manager and a totals row."""
    columns = schema.labels.report_columns
    keys = [c.key for c in columns]
    body = table.reset_index()
    totals: dict[str, object] = {
        key: body[key].sum() for key in keys[1:] if not key.startswith("hours")
    }
    totals["hours_to_decision"], totals["hours_to_payment"] = table.attrs.get(
        "all_hours", (None, None)
    )
    totals["manager"] = schema.labels.report_total[locale]
    rows = [
        tuple(_cell(record[c.key], c.format) for c in columns) for record in body.to_dict("records")
    ]
    rows.append(tuple(_cell(totals[c.key], c.format) for c in columns))
    return ReportTab(
        title=schema.labels.report_title[locale].format(month=month),
        headers=tuple(c.header(locale) for c in columns),
        formats=tuple(c.format for c in columns),
        rows=tuple(rows),
        chart_column=keys.index("deal_received"),
    )
