"""The local folder adapter and the PDF reader on real files (no engine)."""

from __future__ import annotations

import hashlib
import io
import os
import time
from pathlib import Path

import pytest

from functions.adapters.folders import local as local_folder
from functions.adapters.folders import pdf_text
from functions.adapters.folders.local import LocalFolder
from functions.model import FolderScan
from tests import invoice_pdfs

FUTURE = 4_102_444_800.0


def scan(
    base: Path, cursor: dict[str, object] | None = None, seen: set[str] | None = None
) -> FolderScan:
    return LocalFolder(base, clock=FUTURE).scan("in", cursor or {}, seen or set())


def test_a_file_larger_than_the_limit_is_noted_as_too_big_and_never_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pdf_text, "MAX_BYTES", 1000)
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "big.pdf").write_bytes(b"%PDF-1.4\n" + b"0" * 5000)
    (file,) = scan(tmp_path).files
    assert (file.kind, file.problem, file.text) == ("pdf", "too_big", "")


def test_the_pdf_reader_never_reads_past_the_limit() -> None:
    class Unreadable(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise AssertionError("read")

    assert pdf_text.pdf_text(Unreadable(), pdf_text.MAX_BYTES + 1) == ("", "too_big")


def test_hashing_reads_a_file_in_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_folder, "_CHUNK", 7)
    path = tmp_path / "f"
    path.write_bytes(b"x" * 100)

    assert local_folder._digest(path) == hashlib.sha256(b"x" * 100).hexdigest()[:32]


def test_a_file_still_being_copied_waits_for_the_next_tick(tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.pdf").write_bytes(invoice_pdfs.english_invoice())
    fresh = LocalFolder(tmp_path).scan("in", {}, set())
    assert fresh.files == []
    assert fresh.cursor == {"files": {}}
    old = time.time() - 60
    os.utime(tmp_path / "in" / "a.pdf", (old, old))
    assert [f.name for f in LocalFolder(tmp_path).scan("in", {}, set()).files] == ["a.pdf"]


def test_hidden_and_office_lock_files_are_left_out(tmp_path: Path) -> None:
    (tmp_path / "in" / ".git").mkdir(parents=True)
    (tmp_path / "in" / ".git" / "x.pdf").write_bytes(b"%PDF-1.4")
    (tmp_path / "in" / ".~lock.a.pdf#").write_bytes(b"lock")
    (tmp_path / "in" / "~$a.docx").write_bytes(b"lock")
    assert scan(tmp_path).files == []


def test_only_changed_paths_are_hashed_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "in").mkdir()
    for n in range(3):
        (tmp_path / "in" / f"{n}.pdf").write_bytes(invoice_pdfs.scanned_invoice() + bytes([n]))
    first = scan(tmp_path)
    seen = {f.key for f in first.files}
    hashed: list[Path] = []
    real = local_folder._digest

    def counting(path: Path) -> str:
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(local_folder, "_digest", counting)
    (tmp_path / "in" / "new.pdf").write_bytes(b"%PDF-1.4 new")
    second = scan(tmp_path, first.cursor, seen)
    assert [p.name for p in hashed] == ["new.pdf"]
    assert [f.name for f in second.files] == ["new.pdf"]


def test_a_missing_folder_and_a_file_in_its_place_are_problems_not_crashes(tmp_path: Path) -> None:
    assert scan(tmp_path).problem == "missing"
    (tmp_path / "in").write_bytes(b"not a folder")
    assert scan(tmp_path).problem == "not_a_folder"


@pytest.mark.parametrize(
    ("head", "name", "kind"),
    [
        (b"%PDF-1.7", "x.bin", "pdf"),
        (b"\x89PNG\r\n", "x", "image"),
        (b"RIFF\x00\x00\x00\x00WEBP", "x", "image"),
        (b"PK\x03\x04", "invoice.docx", "other"),
        (b"\x00\x00", "photo.HEIC", "image"),
    ],
)
def test_file_kinds_come_from_their_first_bytes(head: bytes, name: str, kind: str) -> None:
    assert pdf_text.file_kind(head, name) == kind
