"""The invoices folder on the workbook backend: a folder (and its subfolders) beside the book.

A file is known by its content (SHA-256), so a renamed or moved file, or a second copy, is
the same file. Hashing every file every tick would read the whole folder: the scan keeps,
in its cursor, each path's size, modification time and hash, and hashes only what is new or
changed since. A tick thus costs one directory walk with a `stat` per file.

The cursor travels in the state's meta with the tick's journal. Which files are new is
decided by their hash against `seen` (also in meta), never by the cursor alone, so a tick
that crashes before its commit sees the same files again next time.
"""

from __future__ import annotations

import hashlib
import os
import time
from collections.abc import Container, Iterator
from pathlib import Path

from functions.adapters.folders.pdf_text import file_kind, pdf_text
from functions.model import JSON, FolderFile, FolderScan

MAX_NEW = 100  # files read per tick; more wait for the next tick (their hashes are kept)
SETTLE_SECONDS = 5.0  # a file changed this recently may still be being copied: next tick
_CHUNK = 1 << 20


class LocalFolder:
    """Folders named in Settings relative to `base` (the workbook's folder), or absolute."""

    def __init__(self, base: Path, clock: float | None = None) -> None:
        self.base = base
        self._clock = clock  # tests fix "now" to see files that were just written

    def scan(self, location: str, cursor: JSON, seen: Container[str]) -> FolderScan:
        root = (self.base / Path(location).expanduser()).resolve()
        if not root.exists():
            return FolderScan(location, cursor=cursor, problem="missing", detail=str(root))
        if not root.is_dir():
            return FolderScan(location, cursor=cursor, problem="not_a_folder", detail=str(root))
        known: dict[str, list[object]] = cursor.get("files") or {}
        now = self._clock if self._clock is not None else time.time()
        memo: dict[str, list[object]] = {}
        found: list[FolderFile] = []
        keys: set[str] = set()
        for path, rel, stat in _walk(root):
            entry = known.get(rel)
            if entry and entry[0] == stat.st_size and entry[1] == stat.st_mtime_ns:
                key = str(entry[2])
            elif stat.st_mtime > now - SETTLE_SECONDS:
                continue  # still being written, maybe
            else:
                try:
                    key = "sha256:" + _digest(path)
                except OSError:
                    continue  # gone or unreadable meanwhile: next tick
            memo[rel] = [stat.st_size, stat.st_mtime_ns, key]
            if key in seen or key in keys or len(found) >= MAX_NEW:
                continue
            keys.add(key)
            found.append(self._file(path, rel, key, stat.st_size))
        return FolderScan(location, found, {"files": memo})

    def _file(self, path: Path, rel: str, key: str, size: int) -> FolderFile:
        try:
            with path.open("rb") as stream:
                kind = file_kind(stream.read(1024), path.name)
                stream.seek(0)
                text, problem = pdf_text(stream, size) if kind == "pdf" else ("", None)
        except OSError:
            kind, text, problem = "other", "", "corrupt"
        parts = Path(rel).parts
        return FolderFile(
            key,
            path.name,
            self._link(path),
            kind,
            added_by=parts[:1] if len(parts) > 1 else (),  # Invoices/Maria Lopez/…: Maria
            text=text,
            problem=problem,
        )

    def _link(self, path: Path) -> str:
        """A path relative to the workbook's folder (opens from the book), else a file: URI."""
        try:
            return path.relative_to(self.base.resolve()).as_posix()
        except ValueError:
            return path.as_uri()


def _walk(root: Path) -> Iterator[tuple[Path, str, os.stat_result]]:
    """Every regular file below `root`, hidden and office lock files left out."""
    stack = [(root, "")]
    while stack:
        folder, prefix = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            if entry.name.startswith((".", "~$")):
                continue
            rel = prefix + entry.name
            try:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((Path(entry.path), rel + "/"))
                elif entry.is_file(follow_symlinks=False):
                    yield Path(entry.path), rel, entry.stat()
            except OSError:
                continue


def _digest(path: Path) -> str:
    """The first 128 bits of the SHA-256 of the content, read in chunks (big files too)."""
    digest = hashlib.sha256()
    with path.open("rb") as stream:
        while chunk := stream.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()[:32]
