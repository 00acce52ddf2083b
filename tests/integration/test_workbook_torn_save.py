"""A tick killed in the middle of writing the workbook leaves the book as it was.

The save writes a temporary file beside the book and swaps it in only once it is complete. A
forked tick is SIGKILLed halfway through writing that file (the temp file is left truncated,
as after a power cut): the book must still be byte for byte the one before the tick, open
cleanly, and the next tick must do the work as if the dead one had never started.
"""

from __future__ import annotations

import os
import signal
import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

import openpyxl
import pytest

from functions.tick.engine import LEASE_SECONDS
from tests.local_backend import dump_book, edit_book, make_engine, new_book, typed_invoice

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)


class TornFile:
    """Writes half of what it is given, then the process dies (SIGKILL) mid-write."""

    def __init__(self, handle: IO[Any]) -> None:
        self.handle = handle

    def __enter__(self) -> TornFile:
        return self

    def __exit__(self, *exc: object) -> None:
        self.handle.close()

    def write(self, data: bytes) -> int:
        self.handle.write(data[: len(data) // 2])
        self.handle.flush()
        os.fsync(self.handle.fileno())
        os.kill(os.getpid(), signal.SIGKILL)
        raise AssertionError("unreachable")

    def __getattr__(self, name: str) -> Any:
        return getattr(self.handle, name)


def tick_killed_mid_save(book: Path, now: datetime, clock: float) -> int:
    with warnings.catch_warnings():  # Python 3.12+ warns about fork with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: dies inside the save, never returns into pytest
        try:
            real = os.fdopen
            os.fdopen = lambda fd, mode: TornFile(real(fd, mode))  # type: ignore[assignment]
            make_engine(book, clock=lambda: clock).tick(now)
        finally:
            os._exit(3)  # only reached if the kill did not happen
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to kill a tick mid-save")
def test_a_save_killed_mid_write_leaves_the_book_intact_and_the_rerun_does_the_work(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path / "killed", prepared_rows=20)
    clean = new_book(tmp_path / "clean", prepared_rows=20)
    for path in (book, clean):
        edit_book(path, [("invoices", "new", typed_invoice("A-1"))])
    before = book.read_bytes()
    clock = 1_800_000_000.0

    assert tick_killed_mid_save(book, NOW, clock) == -signal.SIGKILL
    assert book.read_bytes() == before  # the swap never happened
    (torn,) = book.parent.glob(".book.xlsx.*.tmp")
    assert 0 < torn.stat().st_size < len(before) * 2  # half written, left by the dead process
    openpyxl.load_workbook(book).close()

    engine = make_engine(book, clock=lambda: clock + LEASE_SECONDS + 1)  # the lease expired
    assert engine.tick(NOW + timedelta(minutes=1)).outcome == "done"
    make_engine(clean, clock=lambda: clock).tick(NOW)  # the dead tick's plan is the one replayed
    for path in (book, clean):
        later = make_engine(path, clock=lambda: clock + 2 * LEASE_SECONDS)
        assert later.tick(NOW + timedelta(minutes=2)).outcome == "idle"
    assert dump_book(book) == dump_book(clean)
