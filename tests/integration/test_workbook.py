"""The local .xlsx backend on real files: create, read by header, compare-and-set writes, save."""

from __future__ import annotations

import hashlib
import os
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from functions.adapters.workbook.book import WorkbookBook, create_workbook
from functions.errors import (
    BookBusyError,
    BookChangedError,
    ConfigError,
    NotAWorkbookError,
    SchemaError,
)
from functions.model import CellLock, CellWrite, LogEntry, QueueView, SheetChanges
from functions.schema import MAIN_TABS, Locale, Schema, load_schema

SCHEMA: Schema = load_schema()
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Bea Accountant", "bea@example.com", "accountant", True),
    ("Old Accountant", "old@example.com", "accountant", False),
    ("Mia Manager", "mia@example.com", "manager", True),
]
SETTINGS = {"company": "Northwind", "locale": "en", "currency": "EUR"}
LOCALES: list[Locale] = ["en", "ru"]


def title(key: str, locale: Locale = "en") -> str:
    return SCHEMA.tab(key).title[locale]


def header(tab: str, key: str, locale: Locale = "en") -> str:
    return SCHEMA.tab(tab).column(key).header[locale]


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """One freshly created book per locale; tests start from a copy (creating takes a while)."""
    made: dict[str, bytes] = {}
    for locale in LOCALES:
        path = tmp_path_factory.mktemp(locale) / "sheetflow.xlsx"
        create_workbook(path, SCHEMA, locale, people=PEOPLE, settings=SETTINGS)
        made[locale] = path.read_bytes()
    return made


@pytest.fixture
def new_book(tmp_path: Path, templates: dict[str, bytes]) -> Callable[[Locale], Path]:
    def make(locale: Locale = "en") -> Path:
        path = tmp_path / "sheetflow.xlsx"
        path.write_bytes(templates[locale])
        return path

    return make


def column_letter(ws: Any, text: str) -> str:
    return next(c.column_letter for c in ws[1] if c.value == text)


def type_cells(path: Path, tab: str, rows: dict[int, dict[str, Any]]) -> None:
    """Edit cells the way a person would: by header, then save."""
    wb = openpyxl.load_workbook(path)
    ws = wb[title(tab)]
    for row, values in rows.items():
        for key, value in values.items():
            ws[f"{column_letter(ws, header(tab, key))}{row}"] = value
    wb.save(path)


def cells(path: Path, tab: str, *where: tuple[int, str]) -> list[Any]:
    """The cells at (row, column key), from one load of the book."""
    ws = openpyxl.load_workbook(path)[title(tab)]
    return [ws[f"{column_letter(ws, header(tab, key))}{row}"] for row, key in where]


def tab_titles(path: Path) -> list[str]:
    wb = openpyxl.load_workbook(path, read_only=True)
    titles: list[str] = wb.sheetnames
    wb.close()
    return titles


def changes(**kwargs: Any) -> SheetChanges:
    return SheetChanges(**kwargs)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def invoice_rows(path: Path) -> list[dict[str, Any]]:
    return [dict(r.values) for r in WorkbookBook(path, SCHEMA).read().table("invoices").rows]


@pytest.fixture
def book_path(new_book: Callable[[Locale], Path]) -> Path:
    """An English book with two typed invoices that already carry IDs."""
    path = new_book("en")
    type_cells(
        path,
        "invoices",
        {
            2: {"id": "INV-000001", "manager": "Mia", "decision": "Rework"},
            3: {"id": "INV-000002", "manager": "Mia"},
        },
    )
    return path


# --- creating ------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", LOCALES)
def test_created_book_has_every_tab_in_order_with_exact_bold_frozen_headers(
    new_book: Callable[[Locale], Path], locale: Locale
) -> None:
    wb = openpyxl.load_workbook(new_book(locale))
    main = [title(key, locale) for key in MAIN_TABS]
    assert wb.sheetnames == [*main, SCHEMA.labels.lists_title[locale]]
    for key in MAIN_TABS:
        ws = wb[title(key, locale)]
        tab = SCHEMA.tab(key)
        extra = [SCHEMA.labels.settings_description[locale]] if tab.key == "settings" else []
        assert [c.value for c in ws[1]] == tab.headers(locale) + extra
        assert all(c.font.bold for c in ws[1])
        assert ws.freeze_panes == "A2"
        assert ws.auto_filter.ref.startswith("A1:")
        widths = [ws.column_dimensions[c.column_letter].width for c in ws[1]]
        assert widths[: len(tab.columns)] == [column.width for column in tab.columns]


@pytest.mark.parametrize("locale", LOCALES)
def test_created_book_reads_back_its_people_and_settings(
    new_book: Callable[[Locale], Path], locale: Locale
) -> None:
    path = new_book(locale)
    read = WorkbookBook(path, SCHEMA).read()
    assert read.locale == locale
    assert set(read.tables) == {"invoices", "deals", "people", "settings"}
    assert read.table("invoices").rows == ()
    people = [r.values for r in read.table("people").rows]
    assert people[0]["name"] == "Dana Director"
    assert people[0]["role"] == SCHEMA.choice_words("roles", locale)[1]  # director
    assert people[3]["active"] == SCHEMA.choice_words("yes_no", locale)[1]  # no
    keys = [r.values["key"] for r in read.table("settings").rows]
    assert keys == [label[locale] for label in SCHEMA.labels.settings_keys.values()]  # every key
    assert read.fingerprint == sha(path)


def test_lists_tab_is_hidden_and_names_active_people_by_role(
    new_book: Callable[[Locale], Path],
) -> None:
    ws = openpyxl.load_workbook(new_book("en"))["Lists"]
    assert ws.sheet_state == "hidden"
    columns = {c[0].value: [x.value for x in c[1:] if x.value] for c in ws.iter_cols()}
    assert columns == {
        "directors": ["Dana Director"],
        "accountants": ["Axel Accountant", "Bea Accountant"],
        "managers": ["Mia Manager"],
    }


@pytest.mark.parametrize(("locale", "lists_ref"), [("en", "Lists!"), ("ru", "'Списки'!")])
def test_dropdowns_are_warning_only_lists_on_every_dropdown_column(
    new_book: Callable[[Locale], Path], locale: Locale, lists_ref: str
) -> None:
    wb = openpyxl.load_workbook(new_book(locale))
    found: dict[tuple[str, str], Any] = {}
    for key in ("invoices", "people"):
        ws = wb[title(key, locale)]
        by_letter = {c.column_letter: c.value for c in ws[1]}
        for validation in ws.data_validations.dataValidation:
            letter = str(validation.sqref).split(":")[0].rstrip("0123456789")
            assert str(validation.sqref) == f"{letter}2:{letter}1000"
            assert (validation.type, validation.errorStyle) == ("list", "warning")
            found[key, by_letter[letter]] = validation.formula1
    words = {name: ",".join(SCHEMA.choice_words(name, locale)) for name in ("decisions", "roles")}
    assert found[("invoices", header("invoices", "signer", locale))] == f"{lists_ref}$A$2:$A$200"
    assert found[("invoices", header("invoices", "accountant", locale))] == (
        f"{lists_ref}$B$2:$B$200"
    )
    assert found[("invoices", header("invoices", "decision", locale))] == f'"{words["decisions"]}"'
    assert found[("people", header("people", "role", locale))] == f'"{words["roles"]}"'
    assert ("people", header("people", "active", locale)) in found


def test_protection_leaves_people_columns_editable_and_locks_automation_columns(
    new_book: Callable[[Locale], Path],
) -> None:
    wb = openpyxl.load_workbook(new_book("en"))
    protection = wb[title("log")].protection
    assert protection.sheet
    allowed = ("sort", "autoFilter", "insertRows", "deleteRows", "formatCells")
    assert [getattr(protection, flag) for flag in allowed] == [False] * len(allowed)
    # LibreOffice refuses sorting and deleting rows on any protected sheet: people's tabs stay
    # unprotected, and the tick guards their automation cells (tests/integration/test_uno.py).
    for key in ("invoices", "deals", "people"):
        assert not wb[title(key)].protection.sheet
    ws = wb[title("invoices")]
    for key in ("signer", "decision", "accountant", "manager"):
        letter = column_letter(ws, header("invoices", key))
        assert ws.column_dimensions[letter].protection.locked is False
        assert ws[f"{letter}2"].protection.locked is False
        assert ws[f"{letter}1000"].protection.locked is False
    for key in ("id", "status", "note"):
        letter = column_letter(ws, header("invoices", key))
        assert ws.column_dimensions[letter].protection.locked is not False
        assert ws[f"{letter}2"].protection.locked is True
    assert ws["A1"].protection.locked is True


def test_create_refuses_to_overwrite_an_existing_file_unless_forced(tmp_path: Path) -> None:
    path = tmp_path / "sheetflow.xlsx"
    path.write_bytes(b"precious")
    with pytest.raises(ConfigError, match="already exists; use --force to replace it"):
        create_workbook(path, SCHEMA, "en")
    assert path.read_bytes() == b"precious"
    create_workbook(path, SCHEMA, "en", force=True)
    assert WorkbookBook(path, SCHEMA).read().locale == "en"


# --- reading -------------------------------------------------------------------------------


def hand_made_book(path: Path, invoice_headers: list[str], rows: list[list[Any]]) -> None:
    wb = openpyxl.Workbook()
    wb.active.title = "Invoices"
    wb.active.append(invoice_headers)
    for row in rows:
        wb.active.append(row)
    for key in ("people", "settings"):
        wb.create_sheet(title(key)).append(SCHEMA.tab(key).headers("en"))
    wb.save(path)


def test_reordered_columns_and_an_extra_column_are_read_by_header(tmp_path: Path) -> None:
    headers = list(reversed(SCHEMA.tab("invoices").headers("en")))
    headers = ["  my notes", *[f" {h.upper()} " if h == "Signer" else h for h in headers]]
    path = tmp_path / "book.xlsx"
    width = len(headers)
    first = ["ignore me"] + [None] * (width - 1)
    first[headers.index(" SIGNER ")] = "Dana Director"
    first[headers.index("ID")] = "INV-000007"
    last: list[object] = [None] * width
    last[headers.index("Amount")] = 12.5
    hand_made_book(path, headers, [first, [None] * width, last])
    read = WorkbookBook(path, SCHEMA).read()
    rows = read.table("invoices").rows
    assert [r.number for r in rows] == [2, 4]
    assert rows[0].values["signer"] == "Dana Director"
    assert rows[0].values["id"] == "INV-000007"
    assert rows[1].values["amount"] == 12.5
    assert "my notes" not in rows[0].values
    assert "deals" not in read.tables


def test_a_renamed_header_raises_schema_error_naming_it(tmp_path: Path) -> None:
    headers = ["Approver" if h == "Signer" else h for h in SCHEMA.tab("invoices").headers("en")]
    path = tmp_path / "book.xlsx"
    hand_made_book(path, headers, [])
    with pytest.raises(SchemaError, match='tab "Invoices" has no column "Signer"') as caught:
        WorkbookBook(path, SCHEMA).read()
    assert (caught.value.tab, caught.value.column) == ("Invoices", "Signer")


def test_a_missing_people_tab_raises_schema_error(new_book: Callable[[Locale], Path]) -> None:
    path = new_book("en")
    wb = openpyxl.load_workbook(path)
    del wb["People"]
    wb.save(path)
    with pytest.raises(SchemaError, match='no "People" tab'):
        WorkbookBook(path, SCHEMA).read()


def write_not_a_book(path: Path, kind: str) -> None:
    if kind == "text":
        path.write_text("ID,Manager\n1,Mia\n")
    elif kind == "truncated":
        create_workbook(path, SCHEMA, "en")
        path.write_bytes(path.read_bytes()[:2000])
    elif kind == "foreign":
        wb = openpyxl.Workbook()
        wb.active.title = "Budget"
        wb.save(path)


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("text", "is not an .xlsx workbook"),
        ("truncated", "is not an .xlsx workbook"),
        ("missing", "is not an .xlsx workbook"),
        ("foreign", "is not a sheetflow workbook: no Invoices tab"),
    ],
)
def test_files_that_are_not_sheetflow_books_raise_not_a_workbook(
    tmp_path: Path, kind: str, message: str
) -> None:
    path = tmp_path / "book.xlsx"
    write_not_a_book(path, kind)
    with pytest.raises(NotAWorkbookError, match=message):
        WorkbookBook(path, SCHEMA).read()


def test_a_formula_cells_cached_value_is_read_and_survives_a_save(
    new_book: Callable[[Locale], Path],
) -> None:
    path = new_book("en")
    type_cells(path, "deals", {2: {"deal_id": "D-1", "amount": 200, "paid": 100}})
    wb = openpyxl.load_workbook(path)
    ws = wb[title("deals")]
    pct = column_letter(ws, header("deals", "paid_pct"))
    ws[f"{pct}2"] = "=F2/E2"
    wb.save(path)
    # openpyxl cannot write a computed value: put one in the XML as LibreOffice would.
    with zipfile.ZipFile(path) as source:
        parts = {info: source.read(info) for info in source.infolist()}
    with zipfile.ZipFile(path, "w") as target:
        for info, body in parts.items():
            if info.filename == "xl/worksheets/sheet2.xml":
                assert b"<f>F2/E2</f><v /></c>" in body
                body = body.replace(b"<f>F2/E2</f><v /></c>", b"<f>F2/E2</f><v>0.5</v></c>")
            target.writestr(info, body)
    book = WorkbookBook(path, SCHEMA)
    assert book.read().table("deals").rows[0].values["paid_pct"] == 0.5

    book.apply(changes(log=[LogEntry("t", "deal", "D-1", "seen")]), None)

    assert book.read().table("deals").rows[0].values["paid_pct"] == 0.5
    assert cells(path, "deals", (2, "paid_pct"))[0].value == "=F2/E2"


# --- busy and changed books ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("lock_file", "app"), [(".~lock.sheetflow.xlsx#", "LibreOffice"), ("~$sheetflow.xlsx", "Excel")]
)
def test_an_office_lock_file_makes_the_book_busy_and_apply_writes_nothing(
    book_path: Path, lock_file: str, app: str
) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    assert book.busy_reason() is None
    fingerprint = book.read().fingerprint
    (book_path.parent / lock_file).write_text("someone,host")
    before = book_path.read_bytes()
    reason = book.busy_reason()
    assert reason is not None
    assert app in reason
    assert lock_file in reason
    with pytest.raises(BookBusyError):
        book.apply(changes(log=[LogEntry("t", "invoice", "INV-000001", "x")]), fingerprint)
    assert book_path.read_bytes() == before


def test_a_book_saved_by_someone_else_after_the_read_is_not_written(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    fingerprint = book.read().fingerprint
    type_cells(book_path, "invoices", {3: {"comment": "typed meanwhile"}})
    after_edit = book_path.read_bytes()
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    with pytest.raises(BookChangedError, match="saved by someone else"):
        book.apply(changes(writes=[write]), fingerprint)
    assert book_path.read_bytes() == after_edit


# --- writing -------------------------------------------------------------------------------


def test_ids_are_assigned_by_row_and_later_writes_find_the_new_id(book_path: Path) -> None:
    type_cells(book_path, "invoices", {4: {"manager": "Mia"}})
    book = WorkbookBook(book_path, SCHEMA)
    read = book.read()
    writes = [
        CellWrite("invoices", "INV-000003", 4, "status", "New", None),  # listed before its ID
        CellWrite("invoices", None, 4, "id", "INV-000003", None),
    ]
    assert book.apply(changes(writes=writes), read.fingerprint) == []
    rows = invoice_rows(book_path)
    assert (rows[2]["id"], rows[2]["status"]) == ("INV-000003", "New")


def test_a_write_follows_its_record_to_the_row_it_moved_to(book_path: Path) -> None:
    # A person sorted the rows.
    type_cells(book_path, "invoices", {2: {"id": "INV-000002"}, 3: {"id": "INV-000001"}})
    book = WorkbookBook(book_path, SCHEMA)
    write = CellWrite("invoices", "INV-000001", 2, "status", "New", None)
    book.apply(changes(writes=[write]), book.read().fingerprint)
    moved, other = cells(book_path, "invoices", (3, "status"), (2, "status"))
    assert (moved.value, other.value) == ("New", None)


def test_compare_and_set_keeps_a_persons_newer_value_and_says_so(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    writes = [
        CellWrite("invoices", "INV-000001", 2, "decision", None, "Approve"),  # cell says Rework
        CellWrite("invoices", "INV-000001", 2, "status", "Rework", None),
    ]
    skipped = book.apply(changes(writes=writes), book.read().fingerprint)
    assert skipped == ["INV-000001 Decision: kept the value a person typed meanwhile"]
    decision, status = cells(book_path, "invoices", (2, "decision"), (2, "status"))
    assert (decision.value, status.value) == ("Rework", "Rework")


def test_a_write_the_cell_already_holds_is_not_reported(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    write = CellWrite("invoices", "INV-000001", 2, "decision", "Rework", "Approve")
    assert book.apply(changes(writes=[write]), None) == []


def test_a_write_for_a_deleted_record_is_reported_not_written(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    write = CellWrite("invoices", "INV-000099", 2, "status", "New", None)
    skipped = book.apply(changes(writes=[write]), None)
    assert skipped == ["INV-000099 Status: the row is gone (deleted meanwhile?); nothing written"]
    assert cells(book_path, "invoices", (2, "status"))[0].value is None


@pytest.mark.parametrize("text", ['=HYPERLINK("http://evil.example","open")', "#N/A"])
def test_text_that_looks_like_a_formula_is_written_as_text(book_path: Path, text: str) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    book.apply(changes(writes=[CellWrite("invoices", "INV-000001", 2, "note", text, None)]), None)
    written = cells(book_path, "invoices", (2, "note"))[0]
    assert (written.value, written.data_type) == (text, "s")
    assert invoice_rows(book_path)[0]["note"] == text


def test_locks_change_the_cells_protection(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    book.apply(changes(locks=[CellLock("invoices", "INV-000002", "accountant", True)]), None)
    locked, other = cells(book_path, "invoices", (3, "accountant"), (2, "accountant"))
    assert (locked.protection.locked, other.protection.locked) == (True, False)
    book.apply(changes(locks=[CellLock("invoices", "INV-000002", "accountant", False)]), None)
    assert cells(book_path, "invoices", (3, "accountant"))[0].protection.locked is False


def test_a_write_below_the_prepared_rows_unlocks_peoples_cells_in_that_row(
    book_path: Path,
) -> None:
    type_cells(book_path, "invoices", {1005: {"manager": "Mia"}})
    book = WorkbookBook(book_path, SCHEMA)
    write = CellWrite("invoices", None, 1005, "id", "INV-000003", None)
    book.apply(changes(writes=[write]), book.read().fingerprint)
    signer, status = cells(book_path, "invoices", (1005, "signer"), (1005, "status"))
    assert (signer.protection.locked, status.protection.locked) == (False, True)


def log_rows(path: Path) -> list[list[Any]]:
    ws = openpyxl.load_workbook(path)[title("log")]
    return [[v or "" for v in row] for row in ws.iter_rows(min_row=2, values_only=True)]


def test_log_rows_are_appended_in_order_below_the_last_row(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    first = LogEntry("10:00", "invoice", "INV-000001", "created", to="New")
    second = LogEntry("10:01", "invoice", "INV-000001", "signer", details="=1+1")
    third = LogEntry("10:02", "invoice", "INV-000002", "created")
    book.apply(changes(log=[first, second]), None)
    book.apply(changes(log=[third]), book.read().fingerprint)
    assert log_rows(book_path) == [e.as_row() for e in (first, second, third)]


def test_replaying_the_same_plan_does_not_log_it_twice(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    entries = [LogEntry("10:00", "invoice", "INV-000001", "created")]
    book.apply(changes(log=entries), book.read().fingerprint)
    book.apply(changes(log=entries), None)  # a journal replayed after a crash
    assert log_rows(book_path) == [entries[0].as_row()]


def queue(name: str, *records: str) -> QueueView:
    return QueueView(
        name,
        SCHEMA.queue_title(name, "en"),
        ("ID", "Status"),
        tuple((r, "In payment") for r in records),
    )


def test_queue_tabs_are_created_replaced_and_removed(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    book.apply(changes(queues=[queue("Axel", "INV-000001"), queue("Bea", "INV-000002")]), None)
    wb = openpyxl.load_workbook(book_path)
    assert wb.sheetnames[5:] == ["Queue — Axel", "Queue — Bea", "Lists"]
    ws = wb["Queue — Axel"]
    assert [list(r) for r in ws.values] == [["ID", "Status"], ["INV-000001", "In payment"]]
    assert ws.protection.sheet
    assert ws["A1"].font.bold

    book.apply(changes(queues=[queue("Axel", "INV-000001", "INV-000002")]), None)
    wb = openpyxl.load_workbook(book_path)
    assert [s for s in wb.sheetnames if s.startswith("Queue")] == ["Queue — Axel"]
    assert wb["Queue — Axel"].max_row == 3

    book.apply(changes(log=[LogEntry("t", "invoice", "INV-000001", "x")]), None)  # queues=None
    assert "Queue — Axel" in tab_titles(book_path)
    book.apply(changes(queues=[]), None)
    assert not [t for t in tab_titles(book_path) if t.startswith("Queue")]


def test_queue_titles_that_clash_once_cut_to_31_characters_get_numbered(
    book_path: Path,
) -> None:
    views = [
        queue("Alexandra Konstantinopolskaya Smith"),
        queue("Alexandra Konstantinopolskaya Jones"),
    ]
    WorkbookBook(book_path, SCHEMA).apply(changes(queues=views), None)
    titles = [t for t in tab_titles(book_path) if t.startswith("Queue")]
    assert titles == [views[0].title, views[0].title[:27] + " (2)"]
    assert max(len(t) for t in titles) == 31


def test_the_tab_a_person_had_open_stays_open_when_queue_tabs_move(book_path: Path) -> None:
    wb = openpyxl.load_workbook(book_path)
    wb.active = wb[title("people")]
    wb.save(book_path)
    WorkbookBook(book_path, SCHEMA).apply(changes(queues=[queue("Axel"), queue("Bea")]), None)
    assert openpyxl.load_workbook(book_path).active.title == title("people")


def test_lists_are_rewritten_and_stay_hidden(book_path: Path) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    lists = {"directors": ["Zoe"], "accountants": [], "managers": ["Mia", "Max"]}
    book.apply(changes(lists=lists), None)
    ws = openpyxl.load_workbook(book_path)["Lists"]
    assert ws.sheet_state == "hidden"
    columns = {c[0].value: [x.value for x in c[1:] if x.value] for c in ws.iter_cols()}
    assert columns == lists


def test_saving_leaves_no_temp_files_and_a_failed_swap_keeps_the_old_book(
    book_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = WorkbookBook(book_path, SCHEMA)
    book.apply(changes(log=[LogEntry("t", "invoice", "INV-000001", "x")]), None)
    assert sorted(p.name for p in book_path.parent.iterdir()) == ["sheetflow.xlsx"]
    before = book_path.read_bytes()

    def fail(source: str, target: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", fail)  # os is shared: files.write_atomically uses it too
    with pytest.raises(ConfigError, match=f"cannot write {book_path}: disk full"):
        book.apply(changes(log=[LogEntry("t", "invoice", "INV-000001", "y")]), None)
    assert sorted(p.name for p in book_path.parent.iterdir()) == ["sheetflow.xlsx"]
    assert book_path.read_bytes() == before
