"""The invoices folder on the workbook backend: real files, real PDFs, the whole tick.

The workbook, its SQLite state and a folder beside it; Settings `Invoices folder` names the
folder; each test drops, copies, renames, moves or deletes files and runs ticks.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.folders.local import LocalFolder
from functions.adapters.workbook.book import create_workbook
from functions.tick.engine import Engine
from tests import invoice_pdfs
from tests.crash_points import Crash as Killed
from tests.local_backend import (
    PEOPLE,
    SCHEMA,
    SETTINGS,
    edit_book,
    make_engine,
    new_book,
    rows_by_header,
    state_path,
)

FUTURE = 4_102_444_800.0  # 2100: every file has settled (LocalFolder waits for fresh copies)


def engine(book: Path, checkpoint: Any = None) -> Engine:
    made = make_engine(book, checkpoint=checkpoint)
    made.folder = LocalFolder(book.parent, clock=FUTURE)
    return made


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = new_book(tmp_path / "office", prepared_rows=20)
    (path.parent / "Invoices").mkdir()
    edit_book(path, [("settings", "Invoices folder", {"value": "Invoices"})])  # init wrote the key
    return path


def drop(book: Path, name: str, data: bytes) -> Path:
    target = book.parent / "Invoices" / name
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(data)
    return target


def invoices(book: Path) -> list[dict[str, Any]]:
    return rows_by_header(book, "Invoices")


def log(book: Path) -> list[dict[str, Any]]:
    return rows_by_header(book, "Log")


def settle(book: Path, ticks: int = 2) -> None:
    for _ in range(ticks):
        engine(book).tick()


def test_a_russian_invoice_dropped_in_becomes_a_prefilled_new_row(book: Path) -> None:
    drop(book, "счёт 47.pdf", invoice_pdfs.russian_invoice())
    settle(book)
    (row,) = invoices(book)
    assert row["ID"] == "INV-000001"
    assert row["Invoice file"] == "Invoices/счёт 47.pdf"
    assert (row["Supplier"], row["Invoice no."], row["Invoice date"]) == (
        'ООО "Ромашка"',
        "47",
        "2026-11-15",
    )
    assert (row["Amount"], row["Currency"], row["Status"]) == (12500, "RUB", "New")
    assert row["Note"].startswith(
        "Read from the file: Supplier, Invoice no., Invoice date, Amount, Currency"
        " (ИНН 7701234567). Check them before choosing a Signer."
    )
    assert "Fill in: Manager, Supplier email, Invoice date" not in row["Note"]
    assert "Fill in: Manager, Supplier email" in row["Note"]
    events = [(e["Record"], e["Event"]) for e in log(book)]
    assert events.index(("INV-000001", "From the folder")) < events.index(("INV-000001", "Created"))


def test_an_english_invoice_in_a_managers_subfolder_gets_that_manager(book: Path) -> None:
    drop(book, "Maria Lopez/acme.pdf", invoice_pdfs.english_invoice())
    settle(book)
    (row,) = invoices(book)
    assert row["Manager"] == "Maria Lopez"
    assert row["Invoice file"] == "Invoices/Maria Lopez/acme.pdf"
    assert (row["Supplier"], row["Invoice no."], row["Invoice date"]) == (
        "Acme Supplies Ltd",
        "INV-2026-0042",
        "2026-11-14",
    )
    assert (row["Amount"], row["Currency"]) == (1140, "EUR")
    assert "(tax ID GB123456789)" in row["Note"]


def test_the_same_file_copied_renamed_moved_or_deleted_never_makes_a_second_row(
    book: Path,
) -> None:
    first = drop(book, "a.pdf", invoice_pdfs.english_invoice())
    settle(book)
    shutil.copy(first, first.with_name("copy of a.pdf"))
    settle(book)
    first.rename(first.with_name("renamed.pdf"))
    settle(book)
    (book.parent / "Invoices" / "sub").mkdir()
    (book.parent / "Invoices" / "renamed.pdf").rename(book.parent / "Invoices/sub/moved.pdf")
    settle(book)
    (book.parent / "Invoices/sub/moved.pdf").unlink()
    (book.parent / "Invoices/copy of a.pdf").unlink()
    settle(book)
    rows = invoices(book)
    assert [r["ID"] for r in rows] == ["INV-000001"]
    assert rows[0]["Invoice file"] == "Invoices/a.pdf"  # the row stays as it was
    assert engine(book).tick().outcome == "idle"


def test_each_kind_of_unreadable_file_gets_a_row_with_a_note_saying_why(book: Path) -> None:
    drop(book, "1 scan.pdf", invoice_pdfs.scanned_invoice())
    drop(book, "2 broken.pdf", invoice_pdfs.corrupt_invoice())
    drop(book, "3 locked.pdf", invoice_pdfs.protected_invoice())
    drop(book, "4 notes.txt", b"call the supplier")
    drop(book, "5 photo.jpg", b"\xff\xd8\xff\xe0" + b"\x00" * 100)
    settle(book)
    notes = {r["Invoice file"].split("/")[-1]: r["Note"] for r in invoices(book)}
    assert notes["1 scan.pdf"].startswith("1 scan.pdf has no text layer (a scan?)")
    assert notes["2 broken.pdf"].startswith("2 broken.pdf is damaged or not a valid PDF")
    assert notes["3 locked.pdf"].startswith("3 locked.pdf is password-protected")
    assert notes["4 notes.txt"].startswith("4 notes.txt is not a PDF or an image")
    assert notes["5 photo.jpg"].startswith("5 photo.jpg has no text layer")
    assert all(r["Status"] == "New" for r in invoices(book))


def test_a_file_whose_link_a_manager_already_pasted_joins_that_row(book: Path) -> None:
    typed = {"manager": "Maria Lopez", "supplier": "Typed Ltd", "invoice_file": "Invoices/a.pdf"}
    edit_book(book, [("invoices", "new", typed)])
    settle(book)
    drop(book, "a.pdf", invoice_pdfs.english_invoice())
    settle(book)
    (row,) = invoices(book)
    assert (row["ID"], row["Supplier"], row["Invoice no."]) == ("INV-000001", "Typed Ltd", None)


def test_the_note_stays_until_the_row_moves_and_typed_values_are_kept(book: Path) -> None:
    drop(book, "a.pdf", invoice_pdfs.english_invoice())
    settle(book)
    edit_book(book, [("invoices", "INV-000001", {"supplier": "Acme (typed)"})])
    settle(book)
    (row,) = invoices(book)
    assert row["Supplier"] == "Acme (typed)"
    assert row["Note"].startswith("Read from the file:")
    edit_book(
        book,
        [
            (
                "invoices",
                "INV-000001",
                {
                    "manager": "Maria Lopez",
                    "supplier_email": "billing@acme.example",
                    "signer": "Dmitry Volkov",
                },
            )
        ],
    )
    settle(book)
    (row,) = invoices(book)
    assert (row["Status"], row["Note"]) == ("Awaiting decision", None)


def test_ids_come_from_the_planners_counter_after_typed_rows(book: Path) -> None:
    edit_book(book, [("invoices", "new", {"manager": "Maria Lopez"})])
    drop(book, "a.pdf", invoice_pdfs.english_invoice())
    settle(book)
    drop(book, "b.pdf", invoice_pdfs.russian_invoice())
    edit_book(book, [("invoices", "new", {"manager": "Maria Lopez"})])
    settle(book)
    assert [(r["ID"], (r["Invoice file"] or "")[-5:]) for r in invoices(book)] == [
        ("INV-000001", ""),
        ("INV-000002", "a.pdf"),
        ("INV-000003", ""),
        ("INV-000004", "b.pdf"),
    ]


@pytest.mark.parametrize("step", ["read", "journal_saved", "sheet_applied", "before_commit"])
def test_a_tick_killed_between_noticing_a_file_and_committing_makes_exactly_one_row(
    book: Path, step: str
) -> None:
    drop(book, "a.pdf", invoice_pdfs.russian_invoice())

    def kill(at: str) -> None:
        if at == step:
            raise Killed(at)

    with pytest.raises(Killed):
        engine(book, kill).tick()
    settle(book, 3)
    rows = invoices(book)
    assert [(r["ID"], r["Invoice file"]) for r in rows] == [("INV-000001", "Invoices/a.pdf")]
    assert [e["Event"] for e in log(book)].count("From the folder") == 1


def test_a_new_scan_of_an_invoice_in_rework_replaces_its_file_and_resubmits_it(
    book: Path,
) -> None:
    typed = {
        "manager": "Maria Lopez",
        "supplier": "Acme Supplies Ltd",
        "supplier_email": "billing@acme.example",
        "invoice_no": "INV-2026-0042",
        "invoice_date": "14.11.2026",
        "amount": 1140,
        "invoice_file": "Invoices/old.pdf",
        "signer": "Dmitry Volkov",
    }
    edit_book(book, [("invoices", "new", typed)])
    settle(book)
    edit_book(book, [("invoices", "INV-000001", {"decision": "Rework", "comment": "wrong VAT"})])
    settle(book)
    assert invoices(book)[0]["Status"] == "Rework"
    drop(book, "fixed.pdf", invoice_pdfs.english_invoice())
    settle(book, 3)
    (row,) = invoices(book)
    assert (row["Invoice file"], row["Status"]) == ("Invoices/fixed.pdf", "Awaiting decision")
    assert "New scan" in [e["Event"] for e in log(book)]


def test_a_missing_folder_is_one_log_line_and_a_note_on_settings(book: Path) -> None:
    edit_book(book, [("settings", "Invoices folder", {"value": "Scans"})])
    settle(book, 3)
    problems = [e for e in log(book) if e["Flow"] == "Invoices folder"]
    assert len(problems) == 1
    assert problems[0]["Details"].startswith("Invoices folder “Scans” does not exist")
    notes = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    assert notes["Invoices folder note"] == problems[0]["Details"]
    (book.parent / "Scans").mkdir()
    settle(book, 2)
    notes = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    assert notes.get("Invoices folder note") is None
    assert engine(book).tick().outcome == "idle"


def test_a_folder_taken_out_of_settings_is_no_longer_looked_at(book: Path) -> None:
    edit_book(book, [("settings", "Invoices folder", {"value": "Scans"})])
    settle(book, 2)
    edit_book(book, [("settings", "Invoices folder", {"value": None})])
    settle(book, 2)
    notes = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    assert notes.get("Invoices folder note") is None
    (book.parent / "Scans").mkdir()
    (book.parent / "Scans" / "a.pdf").write_bytes(invoice_pdfs.english_invoice())
    assert engine(book).tick().outcome == "idle"
    assert invoices(book) == []


def test_an_idle_tick_with_an_unchanged_folder_reads_nothing(book: Path) -> None:
    drop(book, "a.pdf", invoice_pdfs.english_invoice())
    settle(book)
    assert engine(book).tick().outcome == "idle"
    assert state_path(book).exists()


def test_a_russian_book_gets_russian_notes(tmp_path: Path) -> None:
    path = tmp_path / "книга.xlsx"
    settings = {**SETTINGS, "invoices_folder": "Счета"}
    create_workbook(path, SCHEMA, "ru", people=PEOPLE, settings=settings)
    (tmp_path / "Счета").mkdir()
    (tmp_path / "Счета" / "счёт.pdf").write_bytes(invoice_pdfs.russian_invoice())
    (tmp_path / "Счета" / "скан.pdf").write_bytes(invoice_pdfs.scanned_invoice())
    settle(path)
    notes = sorted(r["Примечание"] for r in rows_by_header(path, "Счета"))
    assert notes[0].startswith(
        "Прочитано из файла: Поставщик, № счёта, Дата счёта, Сумма, Валюта (ИНН 7701234567)."
        " Проверьте эти значения, прежде чем выбрать подписанта (Подписант)"
    )
    assert notes[1].startswith("скан.pdf не содержит текстового слоя (скан?)")
