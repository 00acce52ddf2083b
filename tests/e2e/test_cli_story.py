"""The CLI as a person uses it: init, edit the workbook, tick after each step."""

from __future__ import annotations

import email
import email.policy
from pathlib import Path

from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from tests.builders import typed_invoice
from tests.e2e.cli import run, run_until_ctrl_c, tick


def test_the_whole_invoice_story_through_the_cli(book: Path) -> None:
    edit = WorkbookEditor(book, load_schema())
    typed = {"supplier": "Acme <Steel>", "supplier_email": "b@acme.example", "amount": "1 234,50"}
    edit.add_row("invoices", typed_invoice("A-17", **typed))
    out = tick(book, "2026-11-28T09:00+01:00")
    assert "INV-000001" in out
    assert "Awaiting decision" in out
    assert "dmitry@example.com" in out

    edit.set("invoices", "INV-000001", {"decision": "Rework"})
    out = tick(book, "2026-11-28T09:10+01:00")
    assert "Rework needs a Comment" in out
    edit.set("invoices", "INV-000001", {"comment": "Wrong VAT"})
    assert "Rework" in tick(book, "2026-11-28T09:20+01:00")
    edit.set("invoices", "INV-000001", {"invoice_file": "https://files.example/A-17-v2.pdf"})
    tick(book, "2026-11-28T09:30+01:00")
    assert edit.row("invoices", "INV-000001")["decision"] is None
    edit.set("invoices", "INV-000001", {"decision": "Approve"})
    tick(book, "2026-11-28T09:40+01:00")
    edit.set("invoices", "INV-000001", {"accountant": "Irina K"})
    assert "In payment" in tick(book, "2026-11-28T09:50+01:00")
    edit.set("invoices", "INV-000001", {"accountant": "Sergey Popov"})
    out = tick(book, "2026-11-28T10:00+01:00")
    assert "conflict" in out
    assert edit.row("invoices", "INV-000001")["accountant"] == "Irina K"
    edit.set("invoices", "INV-000001", {"paid_on": "28.11.2026"})
    tick(book, "2026-11-28T10:10+01:00")
    edit.set("invoices", "INV-000001", {"closing_docs": "https://files.example/waybill.pdf"})
    tick(book, "2026-11-28T10:20+01:00")

    row = edit.row("invoices", "INV-000001")
    assert row["status"] == "Closed"
    assert row["amount"] == 1234.5  # accepted: a number now; the Log keeps the typed text
    log = edit.rows("log")
    assert any(r["event"] == "Typed text made a value" and r["from"] == "1 234,50" for r in log)
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=email.policy.default)
        for p in sorted((book.parent / "outbox").glob("*.eml"))
    ]
    subjects_to = [(str(m["To"]), str(m["Subject"])) for m in messages]
    assert len(messages) == 9, subjects_to
    supplier = [m for m in messages if "b@acme.example" in str(m["To"])]
    assert len(supplier) == 1
    assert len({str(m["Message-ID"]) for m in messages}) == 9
    log_events = [r["event"] for r in edit.rows("log")]
    assert log_events.count("Status changed") == 7
    assert "Restored" in log_events
    edits = [r for r in edit.rows("log") if r["event"] == "Edited"]
    assert ("Decision", None, "Approve") in [(r["details"], r["from"], r["to"]) for r in edits]

    idle = tick(book, "2026-11-28T10:30+01:00")
    assert "idle" in idle


def test_tick_on_a_missing_file_fails_with_one_line(tmp_path: Path) -> None:
    result = run("tick", "--book", str(tmp_path / "nope.xlsx"))
    assert result.returncode == 1
    assert result.stderr.strip().count("\n") == 0
    assert "does not exist" in result.stderr
    assert "Traceback" not in result.stderr


def test_tick_on_a_file_that_is_not_a_workbook_fails_with_one_line(tmp_path: Path) -> None:
    bogus = tmp_path / "notes.xlsx"
    bogus.write_text("just text")
    result = run("tick", "--book", str(bogus))
    assert result.returncode == 1
    assert "not" in result.stderr
    assert "Traceback" not in result.stderr


def test_init_refuses_to_overwrite_without_force(book: Path) -> None:
    before = book.read_bytes()
    result = run("init", "--book", str(book))
    assert result.returncode == 1
    assert "--force" in result.stderr
    assert book.read_bytes() == before
    assert run("init", "--book", str(book), "--force").returncode == 0


def test_the_book_can_come_from_the_environment(book: Path) -> None:
    result = run("tick", env={"SHEETFLOW_BOOK": str(book)})
    assert result.returncode == 0, result.stderr


def test_a_renamed_header_stops_the_tick_and_names_it(book: Path) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(book)
    ws = wb["Invoices"]
    for cell in ws[1]:
        if cell.value == "Signer":
            cell.value = "Approver"
    wb.save(book)
    before = book.read_bytes()
    result = run("tick", "--book", str(book))
    assert result.returncode == 1
    assert "Signer" in result.stderr
    assert book.read_bytes() == before


def test_run_ticks_until_ctrl_c_and_stops_cleanly(book: Path) -> None:
    returncode, out, err = run_until_ctrl_c(book)
    assert returncode == 0, err
    assert "tick" in out or "idle" in out or ":" in out
    assert out.strip().endswith("stopped")
    assert "Traceback" not in err


def test_a_tick_while_another_holds_the_lock_says_skipped_and_exits_0(book: Path) -> None:
    from functions.adapters.sqlite.state import SqliteState

    state = SqliteState(book.with_name("sheetflow.state.sqlite"))
    assert state.acquire_lock("another-process", 300)
    try:
        result = run("tick", "--book", str(book))
    finally:
        state.release_lock("another-process")
    assert result.returncode == 0
    assert "skipped: another tick is running" in result.stdout


def test_a_google_sheet_without_credentials_fails_with_a_clear_line(tmp_path: Path) -> None:
    env = {
        "GOOGLE_APPLICATION_CREDENTIALS": str(tmp_path / "missing-key.json"),
        "CLOUDSDK_CONFIG": str(tmp_path / "gcloud"),
        "NO_GCE_CHECK": "True",
    }
    result = run(
        "tick",
        "--book",
        "gsheet:1AbCdEfGhIjKlMnOpQrStUvWxYz",
        "--mail",
        "gmail:flow@example.com",
        env=env,
    )
    assert result.returncode == 1
    assert "Google credentials" in result.stderr or "GOOGLE_APPLICATION_CREDENTIALS" in (
        result.stderr
    )
    assert "Traceback" not in result.stderr


def test_a_malformed_google_address_is_refused(tmp_path: Path) -> None:
    result = run("tick", "--book", "gsheet:bad id")
    assert result.returncode == 1
    assert "not a Google Sheet address" in result.stderr
