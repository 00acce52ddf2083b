"""A book never runs against a state that is not its own: no replayed history, no re-sent email.

Through the CLI as a person meets it: a workbook moved or copied without its state, a copy
pointed at another book's state, a LibreOffice re-save, and `sheetflow adopt`.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from functions.adapters.workbook.book import WorkbookBook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from tests.e2e.cli import init, run, tick

SCHEMA = load_schema()


def outbox(folder: Path) -> list[Path]:
    return sorted((folder / "outbox").glob("*.eml"))


def story(path: Path) -> None:
    """An invoice submitted, approved and claimed: the supplier has been emailed."""
    edit = WorkbookEditor(path, SCHEMA)
    edit.add_row(
        "invoices",
        {
            "manager": "Maria Lopez",
            "supplier": "Acme",
            "supplier_email": "b@acme.example",
            "invoice_no": "A-17",
            "invoice_date": "20.11.2026",
            "amount": "1 234,50",
            "invoice_file": "https://files.example/A-17.pdf",
            "signer": "Dmitry Volkov",
        },
    )
    tick(path, "2026-11-28T09:00+01:00")
    edit.set("invoices", "INV-000001", {"decision": "Approve"})
    tick(path, "2026-11-28T09:10+01:00")
    edit.set("invoices", "INV-000001", {"accountant": "Irina K"})
    tick(path, "2026-11-28T09:20+01:00")


def test_a_moved_book_without_its_state_sends_nothing_and_says_how_to_adopt(
    book: Path,
    tmp_path: Path,
) -> None:
    story(book)
    moved = tmp_path / "elsewhere" / "renamed.xlsx"
    moved.parent.mkdir()
    shutil.copy2(book, moved)
    result = run("tick", "--book", str(moved), "--now", "2026-11-28T10:00+01:00")
    assert result.returncode == 1
    line = result.stderr.strip()
    assert len(line.splitlines()) == 1
    assert str(moved.with_name("renamed.state.sqlite")) in line
    assert f"sheetflow adopt --book {moved}" in line
    assert outbox(moved.parent) == []
    log = WorkbookEditor(moved, SCHEMA).rows("log")
    assert log == WorkbookEditor(book, SCHEMA).rows("log")  # nothing written either


def test_adopting_records_the_book_as_it_stands_and_sends_nothing_again(
    book: Path,
    tmp_path: Path,
) -> None:
    story(book)
    copy = tmp_path / "copy" / "sheetflow.xlsx"
    copy.parent.mkdir()
    shutil.copy2(book, copy)
    adopted = run("adopt", "--book", str(copy), "--now", "2026-11-28T10:00+01:00")
    assert adopted.returncode == 0, adopted.stderr
    assert "1 invoices and 0 deals recorded, no email sent" in adopted.stdout
    out = tick(copy, "2026-11-28T10:05+01:00")
    assert outbox(copy.parent) == []
    assert "In payment" not in out  # nothing moved: the claim was already recorded
    edit = WorkbookEditor(copy, SCHEMA)
    assert "Adopted" in [r["event"] for r in edit.rows("log")]
    # The adopted invoice goes on from where it stood: payment tells the manager once.
    edit.set("invoices", "INV-000001", {"paid_on": "28.11.2026"})
    tick(copy, "2026-11-28T10:10+01:00")
    sent = [p.read_text(errors="replace") for p in outbox(copy.parent)]
    assert len(sent) == 1
    assert "maria@example.com" in sent[0]


def test_a_book_pointed_at_another_books_state_is_refused(
    book: Path,
    tmp_path: Path,
) -> None:
    story(book)
    other = tmp_path / "other.xlsx"
    init(other)
    state = book.with_name("sheetflow.state.sqlite")
    result = run("tick", "--book", str(other), "--state", str(state))
    assert result.returncode == 1
    assert f"the state at {state} belongs to another book" in result.stderr
    assert outbox(other.parent) == []


def test_a_new_book_needs_no_state_to_start(book: Path) -> None:
    assert not book.with_name("sheetflow.state.sqlite").exists()
    story(book)
    assert len(outbox(book.parent)) >= 3


def test_the_identity_survives_a_libreoffice_re_save(tmp_path: Path) -> None:
    if shutil.which("soffice") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("LibreOffice (soffice) is not installed; .ci/run installs it")
        pytest.skip("needs LibreOffice")
    path = tmp_path / "book.xlsx"
    init(path)
    before = WorkbookBook(path, SCHEMA).read().identity
    out = tmp_path / "resaved"
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation=file://{tmp_path / 'profile'}",
            "--headless",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(path),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    assert before
    assert WorkbookBook(out / "book.xlsx", SCHEMA).read().identity == before
