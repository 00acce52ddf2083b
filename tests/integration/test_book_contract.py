"""One contract for every SpreadsheetBook: the .xlsx workbook and the Google Sheet (double).

Each test runs on the three writers through a small harness that plays the people (typing by
header) and looks at the result the way a person would see it: the workbook's openpyxl path,
its fast path (the cells patched in the file's XML) and the Google Sheet. Reading tests run on
the two backends (both workbook paths read alike). The engine's whole story then
runs on the Google backend, counting the API requests of every tick.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import openpyxl
import pytest

from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook import book as workbook_book
from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.errors import BookChangedError, SchemaError
from functions.model import CellLock, CellWrite, LogEntry, QueueView, ReportTab, SheetChanges
from functions.notify import EmailRenderer
from functions.ports import SpreadsheetBook
from functions.schema import Schema, load_schema
from functions.text.log_times import naive_time, same_log_row
from functions.tick.engine import Engine
from tests.builders import typed_invoice
from tests.fakes import FakeMail
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.a1 import quote_title
from tests.google_double.people import SheetEditor, new_google_book, no_sleep

SCHEMA: Schema = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
    ("Sergey Popov", "sergey@example.com", "accountant", True),
]
SETTINGS = {"company": "Northwind", "time_zone": "Europe/Berlin", "sender": "flow@example.com"}
NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
BACKENDS = ["workbook", "google"]
# The workbook writes through the fast path whenever it can; "workbook" forces openpyxl's.
WRITERS = ["workbook", "workbook_fast", "google"]


def header(tab: str, key: str) -> str:
    return SCHEMA.tab(tab).column(key).header["en"]


class Harness(Protocol):
    """A backend plus what people do to it and see in it."""

    @property
    def book(self) -> SpreadsheetBook: ...

    def put(self, tab: str, row: int, values: dict[str, Any]) -> None: ...

    def cells(self, tab: str, row: int) -> dict[str, Any]: ...

    def log(self) -> list[list[str]]: ...

    def locked(self, record: str, column: str) -> bool: ...

    def queue(self, name: str) -> list[str] | None: ...

    def lists(self) -> dict[str, list[str]]: ...

    def titles(self) -> list[str]: ...

    def reports(self, title: str) -> list[list[list[Any]]]:
        """The cells of every tab titled `title` (case and spaces ignored), row by row."""


class WorkbookHarness:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.book = WorkbookBook(path, SCHEMA)

    def _sheet(self, wb: Any, tab: str) -> tuple[Any, dict[str, int]]:
        ws = wb[SCHEMA.tab(tab).title["en"]]
        by_header = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
        columns = {c.key: by_header[c.header["en"]] for c in SCHEMA.tab(tab).columns}
        return ws, columns

    def put(self, tab: str, row: int, values: dict[str, Any]) -> None:
        wb = openpyxl.load_workbook(self.path)
        ws, columns = self._sheet(wb, tab)
        for key, value in values.items():
            ws.cell(row, columns[key]).value = value
        wb.save(self.path)

    def cells(self, tab: str, row: int) -> dict[str, Any]:
        ws, columns = self._sheet(openpyxl.load_workbook(self.path), tab)
        return {key: ws.cell(row, col).value for key, col in columns.items()}

    def log(self) -> list[list[str]]:
        ws = openpyxl.load_workbook(self.path)["Log"]
        return [[v or "" for v in row] for row in ws.iter_rows(min_row=2, values_only=True)]

    def _row(self, ws: Any, columns: dict[str, int], record: str) -> int:
        return next(
            r for r in range(2, ws.max_row + 1) if ws.cell(r, columns["id"]).value == record
        )

    def locked(self, record: str, column: str) -> bool:
        ws, columns = self._sheet(openpyxl.load_workbook(self.path), "invoices")
        return bool(ws.cell(self._row(ws, columns, record), columns[column]).protection.locked)

    def queue(self, name: str) -> list[str] | None:
        wb = openpyxl.load_workbook(self.path)
        title = SCHEMA.queue_title(name, "en")
        if title not in wb.sheetnames:
            return None
        return [str(row[0]) for row in wb[title].iter_rows(min_row=2, values_only=True)]

    def lists(self) -> dict[str, list[str]]:
        ws = openpyxl.load_workbook(self.path)["Lists"]
        return {c[0].value: [x.value for x in c[1:] if x.value] for c in ws.iter_cols()}

    def titles(self) -> list[str]:
        return list(openpyxl.load_workbook(self.path).sheetnames)

    def reports(self, title: str) -> list[list[list[Any]]]:
        wb = openpyxl.load_workbook(self.path)
        wanted = title.strip().casefold()
        return [
            [list(row) for row in ws.iter_rows(values_only=True)]
            for ws in wb.worksheets
            if ws.title.strip().casefold() == wanted
        ]


class GoogleHarness:
    def __init__(self, double: GoogleDouble, sid: str, book: SpreadsheetBook) -> None:
        self.double, self.sid, self.book = double, sid, book
        self.editor = SheetEditor(double, sid, SCHEMA)

    def put(self, tab: str, row: int, values: dict[str, Any]) -> None:
        self.editor.put(tab, row, values)

    def cells(self, tab: str, row: int) -> dict[str, Any]:
        grid = self.editor.grid(tab)
        columns = self.editor.columns(tab, grid[0])
        line = grid[row - 1] if row - 1 < len(grid) else []
        return {
            k: (line[c] if c < len(line) and line[c] != "" else None) for k, c in columns.items()
        }

    def log(self) -> list[list[str]]:
        return self.editor.log()

    def locked(self, record: str, column: str) -> bool:
        return not self.editor.may_edit("invoices", record, column, "irina@example.com")

    def queue(self, name: str) -> list[str] | None:
        if SCHEMA.queue_title(name, "en") not in self.editor.queues():
            return None
        return self.editor.queue(name)

    def lists(self) -> dict[str, list[str]]:
        answer = self.editor.client.http_client.values_get(self.sid, "Lists")
        columns = list(
            zip(*[r + [""] * (3 - len(r)) for r in answer.get("values", [])], strict=True)
        )
        return {c[0]: [x for x in c[1:] if x] for c in columns}

    def titles(self) -> list[str]:
        return [sheet.title for sheet in self.double.book(self.sid).ordered()]

    def reports(self, title: str) -> list[list[list[Any]]]:
        book = self.double.book(self.sid)
        wanted = title.strip().casefold()
        return [
            [
                [book.value(sheet, r, c) for c in range(sheet.last_column())]
                for r in range(sheet.last_row())
            ]
            for sheet in book.ordered()
            if sheet.title.strip().casefold() == wanted
        ]


@pytest.fixture(scope="session")
def workbook_template(tmp_path_factory: pytest.TempPathFactory) -> bytes:
    path = tmp_path_factory.mktemp("template") / "sheetflow.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings=SETTINGS)
    return path.read_bytes()


@pytest.fixture
def make(
    request: pytest.FixtureRequest,
    tmp_path: Path,
    workbook_template: bytes,
    monkeypatch: pytest.MonkeyPatch,
) -> Callable[[], Harness]:
    """A factory of fresh books of the writer under test (people and settings filled in)."""
    kind = request.param
    if kind == "workbook":
        monkeypatch.setattr(workbook_book, "fast_apply", lambda *_args: None)

    def build() -> Harness:
        if kind in ("workbook", "workbook_fast"):
            path = tmp_path / f"book{len(list(tmp_path.iterdir()))}.xlsx"
            path.write_bytes(workbook_template)
            return WorkbookHarness(path)
        double = GoogleDouble()
        writers = [email for _n, email, _r, _a in PEOPLE]
        sid, book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
        return GoogleHarness(double, sid, book)

    return build


backends = pytest.mark.parametrize("make", WRITERS, indirect=True)


@pytest.fixture
def harness(make: Callable[[], Harness]) -> Harness:
    """A book with two typed invoices that already carry IDs."""
    made = make()
    made.put("invoices", 2, {"id": "INV-000001", "manager": "Mia", "decision": "Rework"})
    made.put("invoices", 3, {"id": "INV-000002", "manager": "Mia"})
    return made


def changes(**kwargs: Any) -> SheetChanges:
    return SheetChanges(**kwargs)


# --- reading -------------------------------------------------------------------------------


def hand_made(
    kind: str, tmp_path: Path, invoice_headers: list[str], rows: list[list[Any]]
) -> SpreadsheetBook:
    """A book typed by hand: Invoices with these headers and rows, empty People and Settings."""
    tabs = {
        "Invoices": [invoice_headers, *rows],
        "People": [SCHEMA.tab("people").headers("en")],
        "Settings": [SCHEMA.tab("settings").headers("en")],
    }
    if kind == "workbook":
        wb = openpyxl.Workbook()
        wb.remove(wb.active)
        for title, lines in tabs.items():
            ws = wb.create_sheet(title)
            for line in lines:
                ws.append(line)
        path = tmp_path / "hand.xlsx"
        wb.save(path)
        return WorkbookBook(path, SCHEMA)
    double = GoogleDouble()
    sid = double.create_spreadsheet("hand made", first_tab="Invoices")
    owner = double.client(OWNER)
    owner.http_client.batch_update(
        sid,
        {
            "requests": [
                {"addSheet": {"properties": {"title": "People"}}},
                {"addSheet": {"properties": {"title": "Settings"}}},
            ]
        },
    )
    data = [
        {
            "range": f"{quote_title(title)}!A1",
            "values": [["" if v is None else v for v in line] for line in lines],
        }
        for title, lines in tabs.items()
    ]
    owner.http_client.values_batch_update(sid, {"valueInputOption": "RAW", "data": data})
    return GoogleSheetBook(
        sid, double.client(SERVICE_ACCOUNT), SCHEMA, SERVICE_ACCOUNT, sleep=no_sleep
    )


@pytest.mark.parametrize("kind", BACKENDS)
def test_reordered_columns_and_an_extra_column_are_read_by_header(
    kind: str, tmp_path: Path
) -> None:
    headers = list(reversed(SCHEMA.tab("invoices").headers("en")))
    headers = ["  my notes", *[f" {h.upper()} " if h == "Signer" else h for h in headers]]
    width = len(headers)
    first: list[Any] = ["ignore me"] + [None] * (width - 1)
    first[headers.index(" SIGNER ")] = "Dana Director"
    first[headers.index("ID")] = "INV-000007"
    last: list[Any] = [None] * width
    last[headers.index("Amount")] = 12.5
    read = hand_made(kind, tmp_path, headers, [first, [None] * width, last]).read()
    rows = read.table("invoices").rows
    assert [r.number for r in rows] == [2, 4]
    assert rows[0].values["signer"] == "Dana Director"
    assert rows[0].values["id"] == "INV-000007"
    assert rows[1].values["amount"] == 12.5
    assert "my notes" not in rows[0].values
    assert "deals" not in read.tables


@pytest.mark.parametrize("kind", BACKENDS)
def test_a_renamed_header_raises_schema_error_naming_it(kind: str, tmp_path: Path) -> None:
    headers = ["Approver" if h == "Signer" else h for h in SCHEMA.tab("invoices").headers("en")]
    book = hand_made(kind, tmp_path, headers, [])
    with pytest.raises(SchemaError, match='tab "Invoices" has no column "Signer"') as caught:
        book.read()
    assert (caught.value.tab, caught.value.column) == ("Invoices", "Signer")


@backends
def test_a_created_book_reads_back_its_people_and_settings(make: Callable[[], Harness]) -> None:
    read = make().book.read()
    assert read.locale == "en"
    assert set(read.tables) == {"invoices", "deals", "people", "settings"}
    assert read.table("invoices").rows == ()
    assert [r.values["name"] for r in read.table("people").rows] == [p[0] for p in PEOPLE]
    keys = [r.values["key"] for r in read.table("settings").rows]
    assert keys == [label["en"] for label in SCHEMA.labels.settings_keys.values()]  # every key


# --- writing -------------------------------------------------------------------------------


@backends
def test_compare_and_set_keeps_a_persons_newer_value_and_says_so(harness: Harness) -> None:
    writes = [
        CellWrite("invoices", "INV-000001", 2, "decision", None, "Approve"),  # cell says Rework
        CellWrite("invoices", "INV-000001", 2, "status", "Rework", None),
    ]
    skipped = harness.book.apply(changes(writes=writes), harness.book.read().fingerprint)
    assert skipped == ["INV-000001 Decision: kept the value a person typed meanwhile"]
    cells = harness.cells("invoices", 2)
    assert (cells["decision"], cells["status"]) == ("Rework", "Rework")


@pytest.mark.parametrize("make", ["workbook", "workbook_fast"], indirect=True)
def test_the_fast_writer_patches_plain_writes_and_the_other_never_does(
    make: Callable[[], Harness], request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The two workbook writers under test really are two: the suite would else prove one."""
    made = make()
    made.put("invoices", 2, {"id": "INV-000001"})
    patched: list[bool] = []
    fast = vars(workbook_book)["fast_apply"]  # openpyxl-only: the harness made it refuse

    def watched(*args: Any) -> Any:
        result = fast(*args)
        patched.append(result is not None)
        return result

    monkeypatch.setattr(workbook_book, "fast_apply", watched)
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    assert made.book.apply(changes(writes=[write]), made.book.read().fingerprint) == []
    assert made.cells("invoices", 2)["status"] == "New"
    assert patched == [request.node.callspec.params["make"] == "workbook_fast"]


@backends
def test_an_edit_after_the_read_makes_apply_write_nothing(harness: Harness) -> None:
    harness.book.read()  # an earlier tick: the Google book knows its tabs already
    fingerprint = harness.book.read().fingerprint
    harness.put("invoices", 3, {"comment": "typed meanwhile"})
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    with pytest.raises(BookChangedError):
        harness.book.apply(changes(writes=[write]), fingerprint)
    assert harness.cells("invoices", 2)["status"] is None
    assert harness.cells("invoices", 3)["comment"] == "typed meanwhile"


@backends
def test_ids_are_assigned_by_row_and_later_writes_find_the_new_id(harness: Harness) -> None:
    harness.put("invoices", 4, {"manager": "Mia"})
    writes = [
        CellWrite("invoices", "INV-000003", 4, "status", "New", None),  # listed before its ID
        CellWrite("invoices", None, 4, "id", "INV-000003", None),
    ]
    assert harness.book.apply(changes(writes=writes), harness.book.read().fingerprint) == []
    cells = harness.cells("invoices", 4)
    assert (cells["id"], cells["status"]) == ("INV-000003", "New")


@backends
def test_a_write_follows_its_record_to_the_row_it_moved_to(harness: Harness) -> None:
    harness.put("invoices", 2, {"id": "INV-000002"})  # a person sorted the rows
    harness.put("invoices", 3, {"id": "INV-000001"})
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    harness.book.apply(changes(writes=[write]), harness.book.read().fingerprint)
    assert harness.cells("invoices", 3)["status"] == "New"
    assert harness.cells("invoices", 2)["status"] is None


@backends
def test_a_write_for_a_deleted_record_is_reported_not_written(harness: Harness) -> None:
    write = CellWrite("invoices", "INV-000099", 2, "status", "New", None)
    skipped = harness.book.apply(changes(writes=[write]), None)
    assert skipped == ["INV-000099 Status: the row is gone (deleted meanwhile?); nothing written"]
    assert harness.cells("invoices", 2)["status"] is None


@backends
@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","open")', "#N/A", "=1+1"])
def test_text_that_looks_like_a_formula_stays_text(harness: Harness, text: str) -> None:
    write = CellWrite("invoices", "INV-000001", 2, "note", text, None)
    harness.book.apply(changes(writes=[write]), None)
    assert harness.cells("invoices", 2)["note"] == text
    assert harness.book.read().table("invoices").rows[0].values["note"] == text


@backends
def test_a_lock_protects_the_cell_and_an_unlock_releases_it(harness: Harness) -> None:
    lock = CellLock("invoices", "INV-000002", "accountant", True)
    harness.book.apply(changes(locks=[lock]), None)
    assert harness.locked("INV-000002", "accountant")
    assert not harness.locked("INV-000001", "accountant")
    unlock = CellLock("invoices", "INV-000002", "accountant", False)
    harness.book.apply(changes(locks=[unlock]), None)
    assert not harness.locked("INV-000002", "accountant")


@backends
def test_log_rows_are_appended_in_order_below_the_last_row(harness: Harness) -> None:
    first = LogEntry("10:00", "invoice", "INV-000001", "created", to="New")
    second = LogEntry("10:01", "invoice", "INV-000001", "signer", details="=1+1")
    third = LogEntry("10:02", "invoice", "INV-000002", "created")
    harness.book.apply(changes(log=[first, second]), None)
    harness.book.apply(changes(log=[third]), harness.book.read().fingerprint)
    assert harness.log() == [e.as_row() for e in (first, second, third)]


@backends
def test_replaying_the_same_plan_does_not_log_it_twice(harness: Harness) -> None:
    entries = [
        LogEntry("10:00", "invoice", "INV-000001", "created"),
        LogEntry("10:00", "invoice", "INV-000002", "created"),
    ]
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    plan = changes(writes=[write], log=entries)
    assert harness.book.apply(plan, harness.book.read().fingerprint) == []
    assert harness.book.apply(plan, None) == []  # a journal replayed after a crash
    assert harness.log() == [e.as_row() for e in entries]
    assert harness.cells("invoices", 2)["status"] == "New"


def queue(name: str, *records: str) -> QueueView:
    headers = (header("invoices", "id"), header("invoices", "status"))
    return QueueView(
        name, SCHEMA.queue_title(name, "en"), headers, tuple((r, "x") for r in records)
    )


@backends
def test_queues_are_created_replaced_and_removed(harness: Harness) -> None:
    book = harness.book
    book.apply(changes(queues=[queue("Axel", "INV-000001"), queue("Bea", "INV-000002")]), None)
    assert harness.queue("Axel") == ["INV-000001"]
    assert harness.queue("Bea") == ["INV-000002"]
    book.apply(changes(queues=[queue("Axel", "INV-000001", "INV-000002")]), None)
    assert harness.queue("Axel") == ["INV-000001", "INV-000002"]
    assert harness.queue("Bea") is None
    book.apply(changes(log=[LogEntry("t", "invoice", "INV-000001", "x")]), None)  # queues=None
    assert harness.queue("Axel") == ["INV-000001", "INV-000002"]
    book.apply(changes(queues=[]), None)
    assert harness.queue("Axel") is None


@backends
def test_lists_are_rewritten(harness: Harness) -> None:
    lists = {"directors": ["Zoe"], "accountants": [], "managers": ["Mia", "Max"]}
    harness.book.apply(changes(lists=lists), None)
    assert harness.lists() == lists


def report(title: str, rows: list[tuple[Any, ...]]) -> ReportTab:
    return ReportTab(
        title,
        ("Manager", "Invoices submitted", "Deal payments received", "Median hours to decision"),
        ("text", "int", "money", "hours"),
        tuple(rows),
        chart_column=2,
    )


@backends
def test_a_report_tab_rewritten_stays_one_tab_in_its_place_with_the_new_rows(
    harness: Harness,
) -> None:
    first = report(
        "Report 2026-11",
        [
            ("Maria Lopez", 2, 1234.5, 3.5),
            ("Oleg Smirnov", 1, 0.0, None),
            ("Total", 3, 1234.5, 3.5),
        ],
    )
    harness.book.apply(changes(reports=[first]), harness.book.read().fingerprint)
    october = report("Report 2026-10", [("Maria Lopez", 1, 10.0, 1.0), ("Total", 1, 10.0, 1.0)])
    harness.book.apply(changes(reports=[october]), None)
    titles = harness.titles()
    assert titles.index("Report 2026-11") < titles.index("Report 2026-10")
    second = report("Report 2026-11", [("Maria Lopez", 5, 12.25, None), ("Total", 5, 12.25, None)])
    harness.book.apply(changes(reports=[second]), harness.book.read().fingerprint)
    (tab,) = harness.reports("Report 2026-11")
    assert tab == [list(second.headers), *(list(row) for row in second.rows)]
    assert harness.titles() == titles  # same place, the October tab still after it
    assert len(harness.reports("Report 2026-10")) == 1


@backends
def test_read_log_returns_the_rows_earlier_applies_appended_in_order(harness: Harness) -> None:
    assert list(harness.book.read_log()) == []
    first = LogEntry("2026-11-02 10:00:00+01:00", "invoice", "INV-000001", "created", to="New")
    second = LogEntry("2026-11-02 10:01:00+01:00", "invoice", "INV-000001", "note", details="=1")
    third = LogEntry("2026-11-03 09:00:00+01:00", "deal", "D-1", "payment", "0", "250")
    harness.book.apply(changes(log=[first, second]), None)
    fingerprint = harness.book.read().fingerprint
    log = harness.book.read_log()
    assert iter(log) is log  # handed over row by row, never the whole Log at once
    assert _same(list(log), [first, second])
    harness.book.apply(changes(log=[third]), fingerprint)  # reading the Log keeps the read
    rows = list(harness.book.read_log())
    assert _same(rows, [first, second, third])
    # Time is a real date-time (a date-time cell, a serial on Google): the zone's wall clock.
    assert not any(isinstance(r[0], str) for r in rows)
    assert [naive_time(r[0]) for r in rows] == [
        datetime(2026, 11, 2, 10, 0),
        datetime(2026, 11, 2, 10, 1),
        datetime(2026, 11, 3, 9, 0),
    ]


def _same(rows: list[list[Any]], entries: list[LogEntry]) -> bool:
    return len(rows) == len(entries) and all(
        same_log_row(_logged(r), e.as_row()) for r, e in zip(rows, entries, strict=True)
    )


def _logged(row: list[Any]) -> list[Any]:
    """A Log row as text cells, padded to the Log's width (the workbook trims trailing cells)."""
    width = len(SCHEMA.tab("log").columns)
    return ["" if v is None else v for v in row] + [""] * (width - len(row))


# --- the engine on the Google backend ------------------------------------------------------


def invoice(number: str, **extra: Any) -> dict[str, Any]:
    typed = typed_invoice(number, supplier="Acme Steel", amount=1234.5, currency="EUR")
    return {**typed, **extra}


STORY: list[tuple[str, Callable[[SheetEditor], None]]] = [
    ("dmitry@example.com", lambda e: e.set("invoices", "INV-000001", {"decision": "Approve"})),
    ("irina@example.com", lambda e: e.set("invoices", "INV-000001", {"accountant": "Irina K"})),
    ("irina@example.com", lambda e: e.set("invoices", "INV-000001", {"paid_on": "28.11.2026"})),
    (
        "maria@example.com",
        lambda e: e.set("invoices", "INV-000001", {"closing_docs": "https://files.example/w"}),
    ),
]


class GoogleStory:
    """The whole invoice story on a Google Sheet, counting the service account's requests."""

    def __init__(self, tmp_path: Path, rows: int) -> None:
        self.double = GoogleDouble()
        writers = [email for _n, email, _r, _a in PEOPLE]
        self.sid, self.book = new_google_book(
            self.double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers
        )
        self.editor = SheetEditor(self.double, self.sid, SCHEMA)
        self.state = SqliteState(tmp_path / f"state-{rows}.sqlite")
        self.mail = FakeMail()
        self.now = NOW
        self.ticks: list[tuple[str, int, list[str]]] = []
        self.queues: dict[str, list[str]] = {}
        self.in_payment: dict[Any, bool] = {}
        fillers = [invoice(f"F-{n}", invoice_file=None) for n in range(2, rows + 1)]
        self.editor.append_rows("invoices", [invoice("A-17"), *fillers])

    def engine(self, checkpoint: Callable[[str], None] | None = None) -> Engine:
        return Engine(
            self.book,
            self.state,
            self.mail,
            EmailRenderer(),
            SCHEMA,
            checkpoint or (lambda step: None),
        )

    def tick(self, label: str, engine: Engine | None = None) -> str:
        self.now += timedelta(minutes=5)
        mark = self.double.mark()
        outcome = (engine or self.engine()).tick(self.now).outcome
        kinds = self.double.kinds(mark, user=SERVICE_ACCOUNT)
        self.ticks.append((label, len(kinds), kinds))
        return outcome

    def settle(self, label: str) -> None:
        """Tick until idle: the busy tick, the one reading our own write, then an idle one."""
        self.tick(label)
        self.tick(f"{label}: re-read")
        assert self.tick(f"{label}: idle") == "idle"


def _refused(story: GoogleStory) -> bool:
    """Whether Google refuses Sergey's overwrite of Irina's claim (nothing is changed)."""
    try:
        story.editor.as_user("sergey@example.com").set(
            "invoices", "INV-000001", {"accountant": "Sergey Popov"}
        )
    except Exception as exc:  # the double answers 403 as Google does
        return "protected cell" in str(exc)
    return False


def play(tmp_path: Path, rows: int) -> GoogleStory:
    story = GoogleStory(tmp_path, rows)
    story.settle("first tick")
    for user, edit in STORY:
        edit(story.editor.as_user(user))
        story.settle(user)
        if story.editor.row("invoices", "INV-000001")["status"] == "In payment":
            story.queues = {name: story.editor.queue(name) for name in ("Irina K", "Sergey Popov")}
            story.in_payment = {
                (column, user): story.editor.may_edit("invoices", "INV-000001", column, user)
                for column in ("accountant", "decision")
                for user in ("sergey@example.com", "dmitry@example.com")
            } | {("refused", "x"): _refused(story)}
    return story


@pytest.fixture(scope="module")
def stories(tmp_path_factory: pytest.TempPathFactory) -> dict[int, GoogleStory]:
    return {rows: play(tmp_path_factory.mktemp(f"story{rows}"), rows) for rows in (10, 2000)}


def test_the_story_on_google_ends_closed_with_each_email_once(
    stories: dict[int, GoogleStory],
) -> None:
    story = stories[10]
    assert story.editor.row("invoices", "INV-000001")["status"] == "Closed"
    keys = [e.key for e in story.mail.sent]
    assert len(keys) == len(set(keys))
    assert [k.split(":")[2] for k in keys] == [
        "signer_request",
        "accountants_approved",
        "accountants_approved",
        "supplier_in_payment",
        "manager_paid",
        "closed",
        "closed",
    ]
    events = [row[3] for row in story.editor.log() if row[2] == "INV-000001"]
    assert events.count("Status changed") == 5
    assert story.queues == {"Irina K": ["INV-000001"], "Sergey Popov": []}  # once claimed
    assert story.editor.queue("Irina K") == []  # closed


def test_a_claimed_invoice_keeps_its_accountant_and_decision_for_sheetflow_alone(
    stories: dict[int, GoogleStory],
) -> None:
    story = stories[10]
    # While In payment: nobody but sheetflow (and the owner) may change the claim or decision.
    assert story.in_payment[("refused", "x")]
    assert not any(v for k, v in story.in_payment.items() if k != ("refused", "x"))
    assert story.editor.row("invoices", "INV-000001")["accountant"] == "Irina K"
    # Closed: the protections are gone, so protected ranges do not pile up.
    assert story.editor.may_edit("invoices", "INV-000001", "accountant", "sergey@example.com")


@pytest.mark.slow
def test_requests_per_tick_stay_within_budget_and_do_not_grow_with_rows(
    stories: dict[int, GoogleStory],
) -> None:
    for story in stories.values():
        for label, count, kinds in story.ticks:
            if label.endswith("idle"):
                assert kinds == ["drive.files.get"], label
            elif label != story.ticks[0][0]:
                assert count <= 4, (label, kinds)
        first = story.ticks[0]
        assert first[2] == [  # an instance's first tick: 5, the metadata and the re-check
            "drive.files.get",
            "sheets.spreadsheets.get",
            "sheets.spreadsheets.values.batchGet",
            "drive.files.get",
            "sheets.spreadsheets.batchUpdate",
        ]
        later_busy = [t for t in story.ticks[1:] if "sheets.spreadsheets.batchUpdate" in t[2]]
        assert later_busy
        assert all(
            t[2][:3]
            == [
                "drive.files.get",
                "sheets.spreadsheets.values.batchGet",
                "drive.files.get",  # the version re-check before writing: rows may have moved
            ]
            for t in later_busy
        )
    small, large = ([c for _l, c, _k in s.ticks] for s in (stories[10], stories[2000]))
    assert small == large
    assert stories[2000].editor.row("invoices", "INV-002000")["status"] == "New"


def test_a_tick_killed_after_writing_the_sheet_is_finished_once_on_google(tmp_path: Path) -> None:
    story = GoogleStory(tmp_path, 3)

    def crash(step: str) -> None:
        if step == "sheet_applied":
            raise RuntimeError("killed")

    with pytest.raises(RuntimeError):
        story.engine(crash).tick(NOW)
    log_before = story.editor.log()
    story.tick("replay")
    assert story.editor.log() == log_before  # the replayed journal appended nothing again
    assert story.editor.row("invoices", "INV-000001")["status"] == "Awaiting decision"
    assert [e.key.split(":")[2] for e in story.mail.sent] == ["signer_request"]


def test_an_edit_made_during_the_tick_is_never_overwritten_on_google(tmp_path: Path) -> None:
    story = GoogleStory(tmp_path, 1)
    story.settle("first")
    director = story.editor.as_user("dmitry@example.com")

    def someone_edits(step: str) -> None:
        if step == "read":
            director.set("invoices", "INV-000001", {"decision": "Approve"})

    story.editor.set("invoices", "INV-000001", {"comment": "looks fine"})
    # that tick only appends a Log row (the comment): no cell is written, nothing to re-check
    assert story.tick("edited during the tick", story.engine(someone_edits)) == "done"
    assert story.editor.row("invoices", "INV-000001")["decision"] == "Approve"
    story.tick("next")
    row = story.editor.row("invoices", "INV-000001")
    assert (row["status"], row["comment"]) == ("Awaiting accountant", "looks fine")
