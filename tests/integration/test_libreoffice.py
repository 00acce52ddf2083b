"""Real LibreOffice opens, exports and re-saves the workbooks sheetflow writes.

People keep the local workbook open in LibreOffice, so these tests run the real `soffice`
(headless) on a workbook played through a few ticks: it must export every tab as people
would see it, and a file LibreOffice saved must still be read, ticked and protected as before.
Without LibreOffice on PATH the tests skip, except in CI (CI=true), where they fail.
"""

from __future__ import annotations

import csv
import os
import shutil
import signal
import subprocess
import uuid
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl
import pytest

from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.adapters.workbook.loading import existing_cells
from functions.model import BookRead, Cell
from functions.schema import Schema, load_schema
from functions.tick.engine import TickReport
from functions.wiring.bootstrap import Config, build_engine
from tests.builders import supplier_invoice

pytestmark = pytest.mark.slow

SCHEMA: Schema = load_schema()
TIMEOUT = 120  # seconds for one soffice run; a first start creates its profile
INSTALL = "apt-get install -y --no-install-recommends libreoffice-calc-nogui"
# Every sheet (-1) to UTF-8 CSV, comma separated, "-quoted, cells as shown (formatted).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,UTF8,1,,0,false,true,false,false,false,-1"
XLSX_FILTER = "xlsx:Calc MS Excel 2007 XML"
ZONE = ZoneInfo("Europe/Berlin")
PEOPLE = [
    ("Maria Lopez", "maria@northwind.example", "manager", True),
    ("Dmitry Volkov", "dmitry@northwind.example", "director", True),
    ("Irina Kuznetsova", "irina@northwind.example", "accountant", True),
    ("Sergey Popov", "sergey@northwind.example", "accountant", True),
]
SETTINGS = {"company": "Northwind", "locale": "en", "time_zone": "Europe/Berlin"}
STATUSES = {
    "INV-000001": "In payment",
    "INV-000002": "Rework",
    "INV-000003": "Awaiting decision",
}


def header(key: str) -> str:
    return SCHEMA.tab("invoices").column(key).header["en"]


def at(hour: int, minute: int) -> datetime:
    return datetime(2026, 11, 27, hour, minute, tzinfo=ZONE)


def tick(book: Path, now: datetime) -> TickReport:
    report = build_engine(Config(str(book))).tick(now)
    assert report.outcome in ("done", "idle"), report
    return report


@dataclass(frozen=True)
class Converted:
    """What soffice made of the story workbook."""

    source: Path  # the workbook sheetflow wrote
    csv: Path  # folder with one CSV per sheet
    resaved: Path  # the workbook as LibreOffice saved it


@pytest.fixture(scope="module")
def soffice() -> str:
    found = shutil.which("soffice") or shutil.which("libreoffice")
    if found is None:
        message = f"LibreOffice (soffice) is not on PATH; install it with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return found


@pytest.fixture(scope="module")
def story(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A workbook after three ticks: In payment (Accountant locked), Rework, Awaiting decision.

    INV-000001 is typed as text, the way the demo types it; INV-000002 holds a real date
    and a real number, the way LibreOffice stores what a person types there.
    """
    book = tmp_path_factory.mktemp("story") / "sheetflow.xlsx"
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
    assert {r["id"]: r["status"] for r in edit.rows("invoices")} == STATUSES
    return book


def run_soffice(soffice: str, profile: Path, *args: str) -> str:
    """One headless soffice run with its own profile; killed (with its children) on timeout."""
    command = [soffice, f"-env:UserInstallation={profile.as_uri()}", "--headless", *args]
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, so a hung soffice.bin goes too
    )
    try:
        output, _ = process.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"soffice did not finish within {TIMEOUT} s: {command}\n{output}")
    assert process.returncode == 0, f"{command} exited {process.returncode}:\n{output}"
    return output


@pytest.fixture(scope="module")
def converted(
    soffice: str, story: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Converted]:
    """Two soffice runs for the whole module: every sheet to CSV, and a re-save as .xlsx."""
    root = tmp_path_factory.mktemp("libreoffice")
    profile = Path(f"/tmp/lo-profile-{uuid.uuid4().hex}")
    csv_dir, xlsx_dir = root / "csv", root / "xlsx"
    try:
        output = run_soffice(
            soffice, profile, "--convert-to", CSV_FILTER, "--outdir", str(csv_dir), str(story)
        )
        assert any(csv_dir.glob("*.csv")), f"no CSV written:\n{output}"
        output = run_soffice(
            soffice, profile, "--convert-to", XLSX_FILTER, "--outdir", str(xlsx_dir), str(story)
        )
        resaved = xlsx_dir / story.name
        assert resaved.exists(), f"no .xlsx written:\n{output}"
        assert resaved.read_bytes() != story.read_bytes()
        yield Converted(story, csv_dir, resaved)
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def csv_rows(converted: Converted, sheet: str) -> list[dict[str, str]]:
    path = converted.csv / f"{converted.source.stem}-{sheet}.csv"
    assert path.exists(), sorted(p.name for p in converted.csv.iterdir())
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def open_book(path: Path) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # extensions openpyxl does not keep
        return openpyxl.load_workbook(path)


def rows_of(read: BookRead) -> dict[str, list[tuple[int, dict[str, Cell]]]]:
    return {
        key: [(row.number, dict(row.values)) for row in table.rows]
        for key, table in read.tables.items()
    }


def locked_for_libreoffice(ws: Any, row: int, column: int) -> bool:
    """A cell's lock as LibreOffice applies it: a cell without a style takes its column's."""
    cell = dict(existing_cells(ws)).get((row, column))
    if cell is not None and cell.has_style:
        return bool(cell.protection.locked)
    for dimension in ws.column_dimensions.values():
        if dimension.min <= column <= dimension.max and dimension.has_style:
            return bool(dimension.protection.locked)
    return True


def columns_by_header(ws: Any) -> dict[str, int]:
    return {str(cell.value): cell.column for cell in ws[1] if cell.value is not None}


# --- LibreOffice reads what sheetflow wrote ----------------------------------------------


def test_libreoffice_exports_every_tab_of_the_workbook(converted: Converted) -> None:
    titles = open_book(converted.source).sheetnames  # Queue — … titles and the hidden Lists
    exported = {p.name for p in converted.csv.glob("*.csv")}
    assert exported == {f"{converted.source.stem}-{title}.csv" for title in titles}


def test_libreoffice_shows_the_invoices_as_sheetflow_wrote_them(converted: Converted) -> None:
    rows = csv_rows(converted, SCHEMA.tab("invoices").title["en"])
    assert list(rows[0]) == [column.header["en"] for column in SCHEMA.tab("invoices").columns]
    assert {row[header("id")]: row[header("status")] for row in rows} == STATUSES
    by_id = {row[header("id")]: row for row in rows}
    # Typed as text, accepted: now a number and a date, shown in the book's formats.
    assert by_id["INV-000001"][header("amount")] == "1234.5"  # a number (CSV: not as shown)
    assert by_id["INV-000001"][header("invoice_date")] == "2026-11-20"
    assert by_id["INV-000002"][header("invoice_date")] == "2026-11-20"  # a date, not 46346
    assert by_id["INV-000002"][header("comment")] == "Wrong VAT rate"
    assert by_id["INV-000001"][header("accountant")] == "Irina Kuznetsova"
    assert all(row[header("updated")].startswith("2026-11-27 ") for row in rows)


def test_libreoffice_shows_the_transitions_in_the_log(converted: Converted) -> None:
    rows = csv_rows(converted, SCHEMA.tab("log").title["en"])
    transitions = [
        (row["Record"], row["From"], row["To"]) for row in rows if row["Event"] == "Status changed"
    ]
    assert sorted(transitions) == [
        ("INV-000001", "Awaiting accountant", "In payment"),
        ("INV-000001", "Awaiting decision", "Awaiting accountant"),
        ("INV-000001", "New", "Awaiting decision"),
        ("INV-000002", "Awaiting decision", "Rework"),
        ("INV-000002", "New", "Awaiting decision"),
        ("INV-000003", "New", "Awaiting decision"),
    ]
    assert all(row["Time"].startswith("2026-11-27") for row in rows)


# --- sheetflow reads what LibreOffice saved ----------------------------------------------


def test_a_workbook_saved_by_libreoffice_reads_the_same(converted: Converted) -> None:
    before = WorkbookBook(converted.source, SCHEMA).read()
    after = WorkbookBook(converted.resaved, SCHEMA).read()
    assert after.locale == before.locale
    assert rows_of(after) == rows_of(before)
    invoice_2 = next(r for r in after.table("invoices").rows if r.get("id") == "INV-000002")
    assert invoice_2.get("invoice_date") == datetime(2026, 11, 20)  # still a date
    assert invoice_2.get("amount") == 5600


def test_sheetflow_ticks_on_a_workbook_saved_by_libreoffice(
    converted: Converted, tmp_path: Path
) -> None:
    book = tmp_path / converted.source.name
    shutil.copy(converted.resaved, book)
    for state in converted.source.parent.glob(f"{converted.source.stem}.state.sqlite*"):
        shutil.copy(state, tmp_path / state.name)  # the snapshot of the last tick

    idle = tick(book, at(10, 30))
    assert (idle.outcome, idle.transitions, idle.emails) == ("idle", [], [])

    edit = WorkbookEditor(book, SCHEMA)
    edit.set("invoices", "INV-000003", {"decision": "Approve"})
    done = tick(book, at(11, 0))
    assert done.transitions == [("INV-000003", "Awaiting decision", "Awaiting accountant")]
    statuses = {r["id"]: r["status"] for r in edit.rows("invoices")}
    assert statuses == {**STATUSES, "INV-000003": "Awaiting accountant"}
    assert tick(book, at(11, 30)).outcome == "idle"


def test_protection_and_dropdowns_survive_a_libreoffice_save(converted: Converted) -> None:
    wb = open_book(converted.resaved)
    assert wb.active.title == SCHEMA.tab("invoices").title["en"]
    assert wb[SCHEMA.labels.lists_title["en"]].sheet_state == "hidden"
    ws = wb[SCHEMA.tab("invoices").title["en"]]
    assert not ws.protection.sheet  # LibreOffice would refuse sorting and deleting rows
    protection = wb[SCHEMA.tab("log").title["en"]].protection
    assert protection.sheet is True
    # Still allowed to people (False means allowed): sorting, filtering, adding rows.
    assert (protection.sort, protection.autoFilter, protection.insertRows) == (False,) * 3
    heading, body = ws.cell(1, 1).font, ws.cell(2, 1).font
    assert (heading.bold, heading.name, heading.sz) == (True, body.name, body.sz)  # no serif
    col = columns_by_header(ws)
    row_of = {ws.cell(row, col[header("id")]).value: row for row in range(2, 5)}

    def locked(row: int, key: str) -> bool:
        return locked_for_libreoffice(ws, row, col[header(key)])

    assert locked(2, "signer") is False
    assert locked(2, "status") is True
    assert locked(2, "id") is True
    assert locked(row_of["INV-000001"], "accountant") is True  # taken: In payment
    assert locked(row_of["INV-000003"], "accountant") is False
    for key in ("signer", "invoice_date", "paid_on", "comment"):  # a blank prepared row
        assert locked(50, key) is False, key
    assert locked(50, "status") is True

    validations = ws.data_validations.dataValidation
    for key, formula in (("signer", "Lists!"), ("decision", '"Approve,Rework"')):
        letter = openpyxl.utils.get_column_letter(col[header(key)])
        found = [v for v in validations if f"{letter}2" in v.sqref and f"{letter}1000" in v.sqref]
        assert len(found) == 1, (key, [(v.sqref, v.formula1) for v in validations])
        assert found[0].type == "list"
        assert found[0].formula1.startswith(formula), found[0].formula1
        assert found[0].errorStyle == "warning"  # a typed email must still be accepted


# --- no LibreOffice needed -----------------------------------------------------------------


def test_a_locked_cell_in_a_peoples_column_has_a_style_of_its_own(story: Path) -> None:
    """LibreOffice gives a style-less cell its column's style: unlocked in people's columns."""
    ws = open_book(story)[SCHEMA.tab("invoices").title["en"]]
    col = columns_by_header(ws)
    row = next(r for r in range(2, 5) if ws.cell(r, col[header("id")]).value == "INV-000001")
    cell = ws.cell(row, col[header("accountant")])
    assert (cell.has_style, cell.protection.locked) == (True, True)
    assert locked_for_libreoffice(ws, row, col[header("accountant")]) is True
