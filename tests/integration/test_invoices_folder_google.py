"""The invoices folder on Google: a Drive folder (the double's Drive, checked against
drive.v3.json), the Google Sheet (the double), SQLite state, and the whole tick.

Also the budget: at most one Drive request per tick to look at the folder, an idle tick two
small Drive requests in all (the sheet's version and an empty changes page).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import requests

from functions.adapters.firestore.state import FirestoreState
from functions.adapters.folders.drive import DriveFolder, drive_id
from functions.adapters.sqlite.state import SqliteState
from functions.entry.cloud import handle
from functions.notify import EmailRenderer
from functions.ports import StateStore
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests import invoice_pdfs
from tests.crash_points import Crash
from tests.fakes import FakeMail
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep

SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
]
SETTINGS = {"company": "Northwind", "time_zone": "Europe/Berlin", "sender": "flow@example.com"}
MARIA = "maria@example.com"
FOLDER_KINDS = ("drive.files.list", "drive.changes.list", "drive.changes.getStartPageToken")


class DriveStory:
    def __init__(self, tmp_path: Path, *, shared: bool = True, before: int = 0) -> None:
        self.double = GoogleDouble()
        self.drive = self.double.drive
        readers = (SERVICE_ACCOUNT, MARIA) if shared else (MARIA,)
        self.root = self.drive.folder("Invoices", owner=OWNER, shared_with=readers)
        for n in range(before):  # invoices already in the folder when it is configured
            self.drive.upload(
                f"old {n}.pdf", invoice_pdfs.english_invoice(f"OLD-{n}"), self.root, by=MARIA
            )
        settings = {
            **SETTINGS,
            "invoices_folder": f"https://drive.google.com/drive/folders/{self.root}?usp=sharing",
        }
        writers = [email for _n, email, _r, _a in PEOPLE]
        self.sid, self.book = new_google_book(
            self.double, SCHEMA, "en", PEOPLE, settings, writers=writers
        )
        self.editor = SheetEditor(self.double, self.sid, SCHEMA)
        self.state: StateStore = SqliteState(tmp_path / "state.sqlite")
        http = self.double.client(SERVICE_ACCOUNT).http_client
        self.folder = DriveFolder(http, SERVICE_ACCOUNT, sleep=no_sleep)
        self.now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
        # outcome, the service account's requests, the folder's requests (downloads apart)
        self.ticks: list[tuple[str, list[str], int]] = []

    def engine(self, checkpoint: Callable[[str], None] | None = None) -> Engine:
        return Engine(
            self.book,
            self.state,
            FakeMail(),
            EmailRenderer(),
            SCHEMA,
            checkpoint or (lambda step: None),
            folder=self.folder,
        )

    def tick(self, checkpoint: Callable[[str], None] | None = None) -> str:
        self.now += timedelta(minutes=1)
        mark, before = self.double.mark(), self.folder.requests - self.folder.downloads
        outcome = self.engine(checkpoint).tick(self.now).outcome
        kinds = self.double.kinds(mark, user=SERVICE_ACCOUNT)
        looking = self.folder.requests - self.folder.downloads - before
        self.ticks.append((outcome, kinds, looking))
        return outcome

    def settle(self, ticks: int = 5) -> None:
        """The folder's setup ticks (check, start token, walk), then the row's ticks."""
        for _ in range(ticks):
            self.tick()

    def upload(self, name: str, data: bytes, parent: str | None = None, by: str = MARIA) -> str:
        return self.drive.upload(name, data, parent or self.root, by=by)

    def invoices(self) -> list[dict[str, Any]]:
        return self.editor.rows("invoices")


def link(file_id: str) -> str:
    return f"https://drive.google.com/file/d/{file_id}/view?usp=drivesdk"


def test_a_russian_invoice_uploaded_by_a_manager_becomes_her_prefilled_row(
    tmp_path: Path,
) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    file_id = story.upload("счёт 47.pdf", invoice_pdfs.russian_invoice())
    story.settle(3)
    (row,) = story.invoices()
    assert (row["id"], row["manager"], row["invoice_file"]) == (
        "INV-000001",
        "Maria Lopez",
        link(file_id),
    )
    assert (row["supplier"], row["invoice_no"], row["amount"], row["currency"]) == (
        'ООО "Ромашка"',
        "47",
        12500,
        "RUB",
    )
    assert row["status"] == "New"
    assert row["note"].startswith("Read from the file: Supplier, Invoice no., Invoice date")


def test_renamed_moved_or_trashed_files_never_make_a_second_row(tmp_path: Path) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    file_id = story.upload("a.pdf", invoice_pdfs.english_invoice())
    story.settle(2)
    story.drive.rename(file_id, "renamed.pdf", by=MARIA)
    story.settle(2)
    sub = story.drive.folder("2026", story.root, owner=MARIA)
    story.drive.move(file_id, sub, by=MARIA)
    story.settle(3)
    story.drive.trash(file_id, by=MARIA)
    story.settle(2)
    rows = story.invoices()
    assert [(r["id"], r["invoice_file"]) for r in rows] == [("INV-000001", link(file_id))]
    assert story.tick() == "idle"


def test_files_in_subfolders_and_files_there_before_are_all_picked_up(tmp_path: Path) -> None:
    story = DriveStory(tmp_path, before=3)
    sub = story.drive.folder("Maria", story.root, owner=MARIA)
    story.upload("in sub.pdf", invoice_pdfs.russian_invoice(), sub)
    story.settle(8)
    numbers = sorted(str(r["invoice_no"]) for r in story.invoices())
    assert numbers == ["47", "OLD-0", "OLD-1", "OLD-2"]


def test_each_tick_looks_at_the_folder_with_at_most_one_drive_request(tmp_path: Path) -> None:
    story = DriveStory(tmp_path, before=2)
    story.settle(4)
    story.upload("a.pdf", invoice_pdfs.english_invoice())
    story.upload("b.pdf", invoice_pdfs.scanned_invoice())
    story.settle(3)
    assert [looking for _o, _k, looking in story.ticks] == [1] * len(story.ticks)
    listing = [sum(k in FOLDER_KINDS for k in kinds) for _o, kinds, _f in story.ticks]
    assert max(listing) == 1
    assert story.folder.downloads == 4  # one per PDF: the two there before, a.pdf, b.pdf
    assert story.tick() == "idle"
    outcome, kinds, folder = story.ticks[-1]
    assert (outcome, kinds, folder) == ("idle", ["drive.files.get", "drive.changes.list"], 1)


def test_scans_corrupt_and_other_files_get_a_row_with_a_note(tmp_path: Path) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    story.upload("scan.pdf", invoice_pdfs.scanned_invoice())
    story.upload("broken.pdf", invoice_pdfs.corrupt_invoice())
    story.drive.upload("notes.txt", b"hello", story.root, by=MARIA, mime="text/plain")
    story.settle(3)
    notes = sorted(str(r["note"]) for r in story.invoices())
    assert notes[0].startswith("broken.pdf is damaged or not a valid PDF")
    assert notes[1].startswith("notes.txt is not a PDF or an image")
    assert notes[2].startswith("scan.pdf has no text layer")


def test_a_folder_not_shared_with_the_service_account_is_one_log_line_and_a_settings_note(
    tmp_path: Path,
) -> None:
    story = DriveStory(tmp_path, shared=False)
    story.settle(4)
    lines = [r for r in story.editor.log() if r[1] == "Invoices folder"]
    assert len(lines) == 1
    assert f"share it with {SERVICE_ACCOUNT}" in lines[0][7]
    settings = {r["key"]: r["value"] for r in story.editor.rows("settings")}
    assert settings["Invoices folder note"] == lines[0][7]
    story.drive.files[story.root].shared_with.add(SERVICE_ACCOUNT)
    story.upload("a.pdf", invoice_pdfs.english_invoice())
    story.settle(5)
    settings = {r["key"]: r["value"] for r in story.editor.rows("settings")}
    assert settings.get("Invoices folder note") is None
    assert [r["invoice_no"] for r in story.invoices()] == ["INV-2026-0042"]


@pytest.mark.parametrize("step", ["read", "journal_saved", "sheet_applied", "before_commit"])
def test_a_tick_killed_between_noticing_a_file_and_committing_makes_exactly_one_row(
    tmp_path: Path, step: str
) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    story.upload("a.pdf", invoice_pdfs.russian_invoice())

    def kill(at: str) -> None:
        if at == step:
            raise Crash(at)

    with pytest.raises(Crash):
        story.tick(kill)
    story.settle(3)
    assert [r["id"] for r in story.invoices()] == ["INV-000001"]
    assert sum(r[3] == "From the folder" for r in story.editor.log()) == 1


def test_folder_links_and_ids_are_understood() -> None:
    assert drive_id("https://drive.google.com/drive/folders/1AbCdEfGhIjK_lmn-o?usp=sharing") == (
        "1AbCdEfGhIjK_lmn-o"
    )
    assert drive_id("https://drive.google.com/drive/u/0/folders/1AbCdEfGhIjKlmn") == (
        "1AbCdEfGhIjKlmn"
    )
    assert drive_id(" 1AbCdEfGhIjKlmn ") == "1AbCdEfGhIjKlmn"
    assert drive_id("Invoices/2026") is None


# --- the double's Drive refuses what Drive refuses (drive.v3.json and documented rules) --------


@pytest.fixture
def drive() -> tuple[GoogleDouble, str, requests.Session]:
    double = GoogleDouble()
    root = double.drive.folder("Invoices", owner=OWNER, shared_with=(SERVICE_ACCOUNT,))
    return double, root, double.session(SERVICE_ACCOUNT)


BASE = "https://www.googleapis.com/drive/v3"


def test_the_double_refuses_an_unknown_field_in_a_selection(drive: Any) -> None:
    double, root, session = drive
    answer = session.get(f"{BASE}/files/{root}", params={"fields": "id,colour"})
    assert answer.status_code == 400
    assert answer.json()["error"]["errors"][0]["location"] == "fields"


def test_the_double_refuses_a_bad_parameter_value_and_a_missing_page_token(drive: Any) -> None:
    double, root, session = drive
    bad = session.get(f"{BASE}/files", params={"q": f"'{root}' in parents", "pageSize": "x"})
    assert bad.status_code == 400
    missing = session.get(f"{BASE}/changes")
    assert missing.status_code == 400
    assert missing.json()["error"]["errors"][0]["reason"] == "required"


def test_the_double_hides_files_not_shared_and_shows_their_changes_as_removed(
    drive: Any,
) -> None:
    double, root, session = drive
    token = session.get(f"{BASE}/changes/startPageToken").json()["startPageToken"]
    private = double.drive.folder("Private", owner=OWNER)
    secret = double.drive.upload("secret.pdf", b"%PDF-1.4", private, by=OWNER)
    assert session.get(f"{BASE}/files/{secret}").status_code == 404
    changes = session.get(f"{BASE}/changes", params={"pageToken": token}).json()
    assert [c["removed"] for c in changes["changes"]] == [True, True]
    assert "file" not in changes["changes"][1]
    assert changes["newStartPageToken"] == str(int(token) + 2)


def test_the_double_downloads_content_but_not_folders(drive: Any) -> None:
    double, root, session = drive
    file_id = double.drive.upload("a.pdf", b"%PDF-1.4 data", root, by=OWNER)
    assert session.get(f"{BASE}/files/{file_id}", params={"alt": "media"}).content == (
        b"%PDF-1.4 data"
    )
    assert session.get(f"{BASE}/files/{root}", params={"alt": "media"}).status_code == 403


def test_a_file_whose_drive_link_a_manager_pasted_joins_that_row(tmp_path: Path) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    file_id = story.upload("a.pdf", invoice_pdfs.english_invoice())
    pasted = f"https://drive.google.com/file/d/{file_id}/view?usp=sharing"
    story.editor.add_row("invoices", {"manager": "Maria Lopez", "invoice_file": pasted})
    story.settle(3)
    (row,) = story.invoices()
    assert (row["id"], row["invoice_file"], row["invoice_no"]) == ("INV-000001", pasted, None)


def test_an_upload_becomes_a_row_through_the_cloud_function_with_firestore_state(
    tmp_path: Path, firestore_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    story = DriveStory(tmp_path)
    monkeypatch.setenv("SHEETFLOW_BOOK", f"gsheet:{story.sid}")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    story.state = FirestoreState(firestore_client, root=f"sheetflow-test/{uuid.uuid4().hex}")

    class Request:
        headers: dict[str, str] = {}
        args: dict[str, str] = {}

    def run() -> dict[str, Any]:
        body, status = handle("invoice_flow", Request(), build=lambda _config: story.engine())
        assert status == 200
        return body

    for _ in range(3):
        run()
    story.upload("счёт.pdf", invoice_pdfs.russian_invoice())
    for _ in range(3):
        run()
    (row,) = story.invoices()
    assert (row["id"], row["manager"], row["invoice_no"]) == ("INV-000001", "Maria Lopez", "47")
    (file_id,) = story.drive.files.keys() - {story.root}
    assert story.state.load_meta()["folder"]["seen"] == {f"drive:{file_id}": "INV-000001"}


def test_a_new_scan_uploaded_for_an_invoice_in_rework_goes_back_to_its_signer(
    tmp_path: Path,
) -> None:
    story = DriveStory(tmp_path)
    story.settle(3)
    story.editor.add_row(
        "invoices",
        {
            "manager": "Maria Lopez",
            "supplier": 'ООО "Ромашка"',
            "supplier_email": "buh@romashka.example",
            "invoice_no": "47",
            "invoice_date": "15.11.2026",
            "amount": 12000,
            "invoice_file": "https://drive.google.com/file/d/old-scan-0000000/view",
            "signer": "Dmitry Volkov",
        },
    )
    story.settle(2)
    director = story.editor.as_user("dmitry@example.com")
    director.set("invoices", "INV-000001", {"decision": "Rework", "comment": "amount is wrong"})
    story.settle(2)
    assert story.editor.row("invoices", "INV-000001")["status"] == "Rework"
    file_id = story.upload("счёт 47 исправленный.pdf", invoice_pdfs.russian_invoice())
    story.settle(3)
    (row,) = story.invoices()
    assert (row["invoice_file"], row["status"]) == (link(file_id), "Awaiting decision")
    assert (row["decision"], row["comment"]) == (None, None)
