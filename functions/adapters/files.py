"""Writing files so that a reader (or a crash) sees the old file or the new one, never half."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from functions.errors import ConfigError


def write_atomically(
    path: Path, data: bytes, before_replace: Callable[[], None] | None = None
) -> None:
    """Write a temp file beside `path`, fsync it, then swap it in (keeping the file's mode)."""
    mode = path.stat().st_mode & 0o777 if path.exists() else 0o644
    fd, temp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.chmod(temp, mode)
        if before_replace is not None:
            before_replace()
        os.replace(temp, path)
    except BaseException:
        Path(temp).unlink(missing_ok=True)
        raise
    _fsync_folder(path.parent)


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # Windows cannot open a folder; the rename is durable enough there
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def save_book_file(
    path: Path, data: bytes, before_replace: Callable[[], None] | None = None
) -> None:
    """`write_atomically` for a workbook: a folder that refuses the file is a one-line error."""
    try:
        write_atomically(path, data, before_replace)
    except OSError as exc:
        raise ConfigError(why_not_written(path, exc)) from exc


def why_not_written(path: Path, exc: OSError) -> str:
    """Why `path` could not be written, naming the file and the cause, on one line."""
    return f"cannot write {path}: {_folder_problem(path, exc)}"


def _folder_problem(path: Path, exc: OSError) -> str:
    if not path.parent.is_dir():
        return f"the folder {path.parent} does not exist"
    if isinstance(exc, PermissionError) or not os.access(path.parent, os.W_OK):
        return f"the folder {path.parent} is read-only"
    return exc.strerror or str(exc)
