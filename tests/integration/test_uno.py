"""Real LibreOffice Calc, driven through Python-UNO, edits a book as sheetflow leaves it.

A person sorts Invoices by Amount, inserts and deletes a row, pastes a copied row and types
a whole new invoice: LibreOffice allows all of it. Typing over an automation cell (Status)
or a claimed Accountant is allowed by LibreOffice too (a protected sheet would refuse sorting
and deleting rows, see the README), and the next tick restores both with a Note, keeping the
overwritten value in the Log. Needs `soffice` and Debian's `python3-uno`; in CI both are
installed by .ci/run and a missing one fails the test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from functions.wiring.bootstrap import Config, build_engine
from tests.builders import supplier_invoice

pytestmark = pytest.mark.slow

SCHEMA = load_schema()
SYSTEM_PYTHON = "/usr/bin/python3"
DRIVER = Path(__file__).parent.parent / "uno_edit.py"
INSTALL = "apt-get install -y --no-install-recommends libreoffice-calc-nogui python3-uno"
ZONE = ZoneInfo("Europe/Berlin")
PEOPLE = [
    ("Maria Lopez", "maria@northwind.example", "manager", True),
    ("Dmitry Volkov", "dmitry@northwind.example", "director", True),
    ("Irina Kuznetsova", "irina@northwind.example", "accountant", True),
    ("Sergey Popov", "sergey@northwind.example", "accountant", True),
]
SETTINGS = {"company": "Northwind", "time_zone": "Europe/Berlin", "sender": "flow@example.com"}
NEW_INVOICE = {
    "Manager": "Maria Lopez",
    "Supplier": "Nordic Wood",
    "Supplier email": "billing@nordicwood.example",
    "Invoice no.": "NW-5",
    "Invoice date": "2026-11-25",
    "Amount": "750",
    "Currency": "EUR",
    "Invoice file": "https://files.northwind.example/invoices/NW-5.pdf",
    "Signer": "Dmitry Volkov",
    "Comment": "urgent, please",
}


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=ZONE)


def tick(book: Path, now: datetime) -> None:
    assert build_engine(Config(str(book))).tick(now).outcome in ("done", "idle")


@pytest.fixture
def uno_python() -> str:
    missing = [
        what
        for what, ok in (
            ("soffice", shutil.which("soffice") is not None),
            ("python3-uno", _has_uno()),
        )
        if not ok
    ]
    if missing:
        message = f"{', '.join(missing)} missing; install with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return SYSTEM_PYTHON


def _has_uno() -> bool:
    if not Path(SYSTEM_PYTHON).exists():
        return False
    check = subprocess.run([SYSTEM_PYTHON, "-c", "import uno"], capture_output=True, timeout=60)
    return check.returncode == 0


@pytest.fixture
def busy_book(tmp_path: Path) -> Path:
    """In payment (Accountant claimed), Rework, Awaiting decision: the book after busy ticks."""
    book = tmp_path / "sheetflow.xlsx"
    create_workbook(book, SCHEMA, "en", people=PEOPLE, settings=SETTINGS)
    edit = WorkbookEditor(book, SCHEMA)
    edit.add_row("invoices", supplier_invoice("A-1017", "20.11.2026", "1 234,50"))
    edit.add_row("invoices", supplier_invoice("BP-88", date(2026, 11, 20), 5600))
    edit.add_row("invoices", supplier_invoice("CT-3", "21.11.2026", "980.00"))
    tick(book, at(9, 0))
    edit.set("invoices", "INV-000001", {"decision": "Approve"})
    edit.set("invoices", "INV-000002", {"decision": "Rework", "comment": "Wrong VAT rate"})
    tick(book, at(9, 30))
    edit.set("invoices", "INV-000001", {"accountant": "Irina Kuznetsova"})
    tick(book, at(10, 0))
    return book


def edit_in_libreoffice(python: str, book: Path) -> dict[str, str]:
    plan = {
        "sheet": "Invoices",
        "copy": "INV-000002",
        "new_row": NEW_INVOICE,
        "guarded": {
            "Status": ["INV-000003", "Closed"],
            "Accountant": ["INV-000001", "Sergey Popov"],
        },
    }
    out = book.with_suffix(".uno.json")
    run = subprocess.run(
        [python, str(DRIVER), str(book), str(out), json.dumps(plan)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    outcome: dict[str, str] = json.loads(out.read_text(encoding="utf-8"))
    return outcome


def test_libreoffice_allows_every_edit_people_make_and_the_tick_guards_its_own_cells(
    uno_python: str, busy_book: Path
) -> None:
    outcome = edit_in_libreoffice(uno_python, busy_book)

    expected = ["sort", "insert", "delete", "paste"] + [f"type {h}" for h in NEW_INVOICE]
    assert {k: outcome[k] for k in expected} == dict.fromkeys(expected, "done")
    edit = WorkbookEditor(busy_book, SCHEMA)
    amounts = [r["amount"] for r in edit.rows("invoices")[:3]]
    assert amounts == sorted(amounts, reverse=True), "sorted by Amount in LibreOffice"

    tick(busy_book, at(10, 30))

    rows = edit.rows("invoices")
    by_id = {r["id"]: r for r in rows if r["id"] and "copy" not in str(r["note"] or "")}
    assert [r["id"] for r in rows[:3]] == ["INV-000002", "INV-000001", "INV-000003"]
    assert by_id["INV-000001"]["accountant"] == "Irina Kuznetsova"  # restored
    assert "Accountant is locked" in by_id["INV-000001"]["note"]
    assert by_id["INV-000003"]["status"] == "Awaiting decision"  # restored
    assert "Status is filled in by sheetflow" in by_id["INV-000003"]["note"]
    assert by_id["INV-000002"]["status"] == "Rework"
    copies = [r for r in rows if "looks like a copy" in str(r["note"] or "")]
    assert len(copies) == 1
    new = by_id["INV-000004"]
    assert (new["supplier"], new["amount"], new["status"]) == (
        "Nordic Wood",
        750,
        "Awaiting decision",
    )
    log = edit.rows("log")
    assert any(
        r["event"] != "typed" and "Sergey Popov" in str(r["from"] or "") + str(r["details"] or "")
        for r in log
    )


def test_a_protected_sheet_makes_libreoffice_refuse_deleting_rows_though_the_file_allows_it(
    uno_python: str, busy_book: Path
) -> None:
    """Why Invoices is not sheet-protected: LibreOffice refuses row edits whatever the flags."""
    import openpyxl

    wb = openpyxl.load_workbook(busy_book)
    ws = wb["Invoices"]
    ws.protection.sheet = True
    ws.protection.insertRows = ws.protection.deleteRows = ws.protection.sort = False  # allowed
    wb.save(busy_book)

    outcome = edit_in_libreoffice(uno_python, busy_book)

    assert outcome["insert"] == "done"
    assert outcome["delete"].startswith("refused: at ./sc/")  # LibreOffice's own refusal
