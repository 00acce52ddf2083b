"""A Google Sheet formatted like the workbook: status colours, number formats, real dates.

Status colours are conditional format rules on the Status column, made once by init (a tick
adds none, init --force does not pile them up); the Log's Time is a date-time serial in the
Settings time zone; an accepted invoice's typed amount and dates become numbers with their
formats; the monthly report reads old text Times and new serial ones alike.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.gsheets.book import GoogleSheetBook, create_google_book
from functions.adapters.look import STATUS_FILLS
from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import Locale, load_schema
from functions.text.log_times import from_serial, to_serial
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.google_double.state import Sheet

SCHEMA = load_schema()
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Maria Lopez", "maria@example.com", "manager", True),
]
SETTINGS = {"company": "N", "time_zone": "Europe/Moscow"}
NOW = datetime(2026, 11, 28, 8, 0, 5, tzinfo=UTC)  # 11:00:05 in Moscow
INVOICE = {
    "manager": "Maria Lopez",
    "supplier": "Acme",
    "supplier_email": "billing@acme.example",
    "invoice_no": "A-1",
    "invoice_date": "20.11.2026",
    "amount": "1 234,50",
    "invoice_file": "https://files.example/a-1.pdf",
    "signer": "Dana Director",
}


@pytest.fixture
def double() -> GoogleDouble:
    return GoogleDouble()


def tab(double: GoogleDouble, sid: str, key: str, locale: Locale = "en") -> Sheet:
    return double.book(sid).sheet_by_title(SCHEMA.tab(key).title[locale])


def col(key: str, column: str) -> int:
    return [c.key for c in SCHEMA.tab(key).columns].index(column)


def all_rules(double: GoogleDouble, sid: str) -> list[dict[str, Any]]:
    return [r for s in double.book(sid).sheets for r in s.conditional_formats]


def engine_for(double: GoogleDouble, sid: str, tmp_path: Path) -> Engine:
    client = double.client(SERVICE_ACCOUNT)
    book = GoogleSheetBook(sid, client, SCHEMA, SERVICE_ACCOUNT, sleep=no_sleep)
    return Engine(book, SqliteState(tmp_path / "s.sqlite"), FakeMail(), EmailRenderer(), SCHEMA)


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_init_colours_each_status_by_one_conditional_rule_on_the_status_column(
    double: GoogleDouble, locale: Locale
) -> None:
    sid, _book = new_google_book(double, SCHEMA, locale, PEOPLE, SETTINGS)
    invoices = tab(double, sid, "invoices", locale)
    status = col("invoices", "status")

    rules = invoices.conditional_formats
    assert len(rules) == len(STATUS_FILLS) == 7
    labels = [r["booleanRule"]["condition"]["values"][0]["userEnteredValue"] for r in rules]
    assert labels == [SCHEMA.status_label(s, locale) for s in STATUS_FILLS]
    for rule, colour in zip(rules, STATUS_FILLS.values(), strict=True):
        assert rule["ranges"] == [  # the whole column below the header, rows added later too
            {"sheetId": invoices.id, "startRowIndex": 1}
            | {"startColumnIndex": status, "endColumnIndex": status + 1}
        ]
        assert rule["booleanRule"]["condition"]["type"] == "TEXT_EQ"
        rgb = rule["booleanRule"]["format"]["backgroundColorStyle"]["rgbColor"]
        assert round(rgb["red"] * 255) == int(colour[:2], 16)
        assert round(rgb["blue"] * 255) == int(colour[4:], 16)
    assert all_rules(double, sid) == rules  # Deals has no Status column; nothing elsewhere


@pytest.mark.parametrize(
    ("locale", "pattern"), [("en", "yyyy-mm-dd hh:mm"), ("ru", "dd.mm.yyyy hh:mm")]
)
def test_init_formats_the_log_time_as_a_date_time_and_freezes_and_wraps_headers(
    double: GoogleDouble, locale: Locale, pattern: str
) -> None:
    sid, _book = new_google_book(double, SCHEMA, locale, PEOPLE, SETTINGS)
    log = tab(double, sid, "log", locale)
    assert log.cell(1, 0).format["numberFormat"] == {"type": "DATE_TIME", "pattern": pattern}
    assert log.column_sizes[0] >= 16 * 7  # a date-time with minutes fits
    for key in ("invoices", "deals", "log"):
        sheet = tab(double, sid, key, locale)
        assert sheet.frozen_rows == 1
        assert sheet.cell(0, 0).format["wrapStrategy"] == "WRAP"
        assert sheet.cell(0, 0).format["textFormat"]["bold"] is True
    invoices = tab(double, sid, "invoices", locale)
    assert invoices.cell(5, col("invoices", "note")).format["wrapStrategy"] == "WRAP"
    amount = invoices.cell(5, col("invoices", "amount")).format["numberFormat"]
    assert amount == {"type": "NUMBER", "pattern": "#,##0.00"}
    paid_pct = tab(double, sid, "deals", locale).cell(5, col("deals", "paid_pct")).format
    assert paid_pct["numberFormat"]["type"] == "PERCENT"


def test_a_tick_writes_serial_times_numbers_and_dates_and_adds_no_rules(
    double: GoogleDouble, tmp_path: Path
) -> None:
    sid, _book = new_google_book(
        double, SCHEMA, "en", PEOPLE, SETTINGS, writers=[e for _n, e, _r, _a in PEOPLE]
    )
    editor = SheetEditor(double, sid, SCHEMA)
    editor.add_row("invoices", INVOICE)
    rules_before = all_rules(double, sid)
    engine = engine_for(double, sid, tmp_path)

    assert engine.tick(NOW).outcome == "done"

    invoices, log = tab(double, sid, "invoices"), tab(double, sid, "log")
    row = editor.row_number("invoices", "INV-000001") - 1
    amount = invoices.cell(row, col("invoices", "amount"))
    assert amount.entered == {"numberValue": 1234.5}
    assert amount.format["numberFormat"] == {"type": "NUMBER", "pattern": "#,##0.00"}
    when = invoices.cell(row, col("invoices", "invoice_date"))
    assert when.entered == {"numberValue": 46346}  # 2026-11-20 as Sheets counts days
    assert when.format["numberFormat"] == {"type": "DATE", "pattern": "yyyy-mm-dd"}
    times = [log.cell(r, 0) for r in range(1, log.last_row())]
    assert times
    assert all(set(t.entered or {}) == {"numberValue"} for t in times)
    assert {from_serial((t.entered or {})["numberValue"]) for t in times} == {
        datetime(2026, 11, 28, 11, 0, 5)  # the Settings zone's wall clock
    }
    assert all(t.format["numberFormat"]["type"] == "DATE_TIME" for t in times)
    typed = [r for r in editor.log() if r[3] == "Typed text made a value"]
    assert [r[4] for r in typed] == ["20.11.2026", "1 234,50"]  # the Log keeps the typed text

    assert engine.tick(NOW + timedelta(minutes=1)).outcome == "idle"  # nothing read as an edit
    editor.set("invoices", "INV-000001", {"decision": "Approve"})
    assert engine.tick(NOW + timedelta(minutes=2)).outcome == "done"
    assert all_rules(double, sid) == rules_before  # ticks add no conditional format rules


def test_init_force_replaces_the_rules_with_the_tabs_instead_of_piling_them_up(
    double: GoogleDouble,
) -> None:
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS)
    client = double.client(SERVICE_ACCOUNT)
    create_google_book(sid, client, SCHEMA, "en", SERVICE_ACCOUNT, PEOPLE, SETTINGS, force=True)
    create_google_book(sid, client, SCHEMA, "en", SERVICE_ACCOUNT, PEOPLE, SETTINGS, force=True)
    assert len(all_rules(double, sid)) == 7
    assert len(tab(double, sid, "invoices").conditional_formats) == 7


def test_the_report_on_google_counts_old_text_times_and_new_serial_times(
    double: GoogleDouble, tmp_path: Path
) -> None:
    sid, _book = new_google_book(
        double, SCHEMA, "en", PEOPLE, SETTINGS, writers=[e for _n, e, _r, _a in PEOPLE]
    )
    editor = SheetEditor(double, sid, SCHEMA)
    old = {  # a Log row as sheetflow wrote it before: Time as text with its offset
        "time": "2026-11-02 10:00:00+03:00",
        "flow": "Invoice",
        "record": "INV-000009",
        "event": "Status changed",
        "from": "New",
        "to": "Awaiting decision",
        "by": "Maria Lopez",
    }
    editor.append_rows("log", [old])
    editor.add_row("invoices", INVOICE)
    engine = engine_for(double, sid, tmp_path)
    assert engine.tick(NOW).outcome == "done"
    log = tab(double, sid, "log")
    assert log.cell(1, 0).entered == {"stringValue": old["time"]}  # the old text Time stays
    assert log.cell(2, 0).entered == {"numberValue": to_serial(datetime(2026, 11, 28, 11, 0, 5))}

    report = engine.monthly_report("2026-11", NOW + timedelta(hours=1))

    submitted = dict(zip(report.headers, report.rows[0], strict=True))
    assert submitted["Manager"] == "Maria Lopez"
    assert submitted["Invoices submitted"] == 2  # one old text Time, one serial
