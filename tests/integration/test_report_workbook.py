"""Report tabs in a real workbook, and the `report` command."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import openpyxl

from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from functions.wiring.bootstrap import Config, build_engine
from tests.e2e.cli import run

SCHEMA = load_schema()
NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Oleg Smirnov", "oleg@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
]


def book_with_activity(tmp_path: Path) -> Path:
    path = tmp_path / "book.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings={"time_zone": "Europe/Berlin"})
    edit = WorkbookEditor(path, SCHEMA)
    edit.add_row(
        "deals",
        {
            "deal_id": "D-1",
            "deal": "Beams",
            "manager": "Maria Lopez",
            "amount": 1000,
            "paid": 0,
            "paid_pct": 0,
        },
    )
    edit.add_row(
        "deals",
        {
            "deal_id": "D-2",
            "deal": "Paper",
            "manager": "Oleg Smirnov",
            "amount": 400,
            "paid": 100,
            "paid_pct": "=F3/E3",
        },
    )
    engine = build_engine(Config(str(path)))
    engine.tick(NOW)
    edit.set("deals", "D-1", {"paid": 250, "paid_pct": "25%"})
    edit.set("deals", "D-2", {"paid": 400})
    edit.add_row(
        "invoices",
        {
            "manager": "Oleg Smirnov",
            "supplier": "Acme",
            "supplier_email": "b@acme.example",
            "invoice_no": "A-1",
            "invoice_date": "20.11.2026",
            "amount": 50,
            "invoice_file": "f.pdf",
            "signer": "Dmitry Volkov",
        },
    )
    engine.tick(NOW + timedelta(hours=1))
    return path


def test_a_regenerated_report_replaces_the_old_tab_and_has_a_chart(tmp_path: Path) -> None:
    path = book_with_activity(tmp_path)
    engine = build_engine(Config(str(path)))
    engine.monthly_report("2026-11", NOW + timedelta(hours=2))
    engine.monthly_report("2026-11", NOW + timedelta(hours=3))
    wb = openpyxl.load_workbook(path)
    reports = [t for t in wb.sheetnames if t.startswith("Report")]
    assert reports == ["Report 2026-11"]
    ws = wb["Report 2026-11"]
    assert [c.value for c in ws[1]][:2] == ["Manager", "Invoices submitted"]
    rows = {r[0]: r for r in ws.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == {"Maria Lopez", "Oleg Smirnov", "Total"}
    received = [c.value for c in ws[1]].index("Deal payments received")
    assert rows["Maria Lopez"][received] == 250.0
    assert rows["Oleg Smirnov"][received] == 300.0  # the formula was computed from Paid/Amount
    assert rows["Total"][received] == 550.0
    assert rows["Oleg Smirnov"][1] == 1
    assert ws.cell(2, received + 1).number_format == "#,##0.00"
    assert ws.cell(len(rows) + 1, 1).font.bold
    assert len(ws._charts) == 1


def test_the_report_command_prints_csv_and_writes_the_tab(tmp_path: Path) -> None:
    path = book_with_activity(tmp_path)
    result = run("report", "--book", str(path), "--month", "2026-11", "--csv")
    assert result.returncode == 0, result.stderr
    table = list(csv.reader(io.StringIO(result.stdout)))
    assert table[0][0] == "Manager"
    assert [row[0] for row in table[1:]] == ["Maria Lopez", "Oleg Smirnov", "Total"]
    assert "Report 2026-11" in openpyxl.load_workbook(path, read_only=True).sheetnames


def test_a_bad_month_is_refused_with_one_line(tmp_path: Path) -> None:
    path = book_with_activity(tmp_path)
    result = run("report", "--book", str(path), "--month", "2026-13")
    assert result.returncode == 1
    assert "--month" in result.stderr


def test_a_deal_formula_without_a_value_is_read_as_the_formula(tmp_path: Path) -> None:
    path = tmp_path / "book.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE)
    WorkbookEditor(path, SCHEMA).add_row(
        "deals", {"deal_id": "D-9", "amount": 100, "paid": 10, "paid_pct": "=F2/E2"}
    )
    deals = WorkbookBook(path, SCHEMA).read().table("deals")
    assert deals.rows[0].get("paid_pct") == "=F2/E2"
