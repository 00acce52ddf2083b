"""Two ticks at once, and ticks killed mid-way: never an email twice, never a broken book.

Real `sheetflow tick` processes on one workbook with 300 new invoices (a tick takes a second
or two), plus the lock's lease with an injected clock instead of waiting five minutes.

What a killed tick leaves behind, as these tests pin it down: its lock stays until the lease
(5 minutes) expires, so every tick until then says `skipped: another tick is running` and
exits 0; the first tick after the lease finishes the killed tick's work (its journal and its
queued emails) and each email is still sent once.
"""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from functions.adapters.mail.smtp import SmtpSender
from functions.adapters.sqlite.state import SqliteState
from functions.tick.engine import LEASE_SECONDS, TickReport
from tests.builders import typed_invoice
from tests.e2e.cli import cli_env, run, start
from tests.local_backend import (
    edit_book,
    make_engine,
    new_book,
    outbox_keys,
    outbox_message_ids,
    rows_by_header,
    state_path,
    state_tables,
)
from tests.smtp_server import running_smtp_server

NOW = "2026-11-28T09:00+01:00"
ROWS = 300


def invoice(number: int) -> dict[str, object]:
    return typed_invoice(
        f"N-{number:04d}",
        supplier=f"Supplier {number}",
        supplier_email=f"billing{number}@supplier.example",
        amount=100 + number,
    )


def book_with_pending_work(folder: Path, rows: int = ROWS, prepared: int | None = None) -> Path:
    book = new_book(folder, prepared_rows=prepared)
    edit_book(book, [("invoices", "new", invoice(n)) for n in range(1, rows + 1)])
    return book


def start_tick(book: Path) -> subprocess.Popen[str]:
    return start("tick", "--book", str(book), "--now", NOW, env=cli_env())


def finish(process: subprocess.Popen[str]) -> tuple[int, str, str]:
    out, err = process.communicate(timeout=180)
    return process.returncode, out, err


def assert_consistent(book: Path, rows: int = ROWS) -> None:
    """Every row once, with its own ID and status; every email once, logged once."""
    invoices = rows_by_header(book, "Invoices")
    assert sorted(r["ID"] for r in invoices) == [f"INV-{n:06d}" for n in range(1, rows + 1)]
    assert {r["Status"] for r in invoices} == {"Awaiting decision"}
    assert sorted(r["Invoice no."] for r in invoices) == [f"N-{n:04d}" for n in range(1, rows + 1)]
    log = rows_by_header(book, "Log")
    events = Counter((r["Record"], r["Event"]) for r in log if r["Flow"] == "Invoice")
    assert set(events.values()) == {1}, [k for k, v in events.items() if v > 1][:5]
    # created, transition, email, and typed (the date typed as text became a date): once per row
    assert len(events) == 4 * rows
    outbox = book.parent / "outbox"
    keys = outbox_keys(outbox)
    assert len(keys) == rows
    assert set(keys.values()) == {1}
    assert set(outbox_message_ids(outbox).values()) == {1}
    state = state_tables(book)
    assert set(state["ledger"]) == {(key, "sent") for key in keys}
    assert state["journals"] == 0


def test_two_ticks_started_together_do_the_work_once_and_never_send_an_email_twice(
    tmp_path: Path,
) -> None:
    outcomes = []
    for attempt in range(5):
        book = book_with_pending_work(tmp_path / f"run{attempt}")
        first, second = start_tick(book), start_tick(book)
        results = [finish(first), finish(second)]
        for code, _out, err in results:
            assert code == 0, err
            assert err == ""
        worked = [out for _code, out, _err in results if f"INV-{ROWS:06d}" in out]
        others = [out for _code, out, _err in results if f"INV-{ROWS:06d}" not in out]
        assert len(worked) == 1, results
        [other] = others
        assert "skipped: another tick is running" in other or "idle: nothing changed" in other
        outcomes.append("skipped" if "skipped" in other else "idle")
        assert_consistent(book)
    assert "skipped" in outcomes, outcomes


def _poll(query: str, state: Path, timeout: float = 60) -> None:
    """Wait until `query` finds a row in the state file another process is writing."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if state.exists():
            try:
                db = sqlite3.connect(f"file:{state}?mode=ro", uri=True, timeout=1)
                try:
                    if db.execute(query).fetchone():
                        return
                finally:
                    db.close()
            except sqlite3.OperationalError:  # tables not created yet
                pass
        time.sleep(0.005)
    raise AssertionError(f"timed out waiting for {query!r}")


def _poll_outbox(book: Path, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any((book.parent / "outbox").glob("*.eml")):
            return
        time.sleep(0.005)
    raise AssertionError("timed out waiting for the first email")


KILL_MOMENTS: dict[str, Callable[[Path], None]] = {
    "lock taken": lambda book: _poll("SELECT 1 FROM lock", state_path(book)),
    "journal saved": lambda book: _poll("SELECT 1 FROM journal", state_path(book)),
    "emails being sent": _poll_outbox,
}


@pytest.mark.parametrize("moment", list(KILL_MOMENTS))
def test_a_killed_tick_leaves_no_lock_behind_and_the_next_tick_finishes_its_work(
    tmp_path: Path, moment: str
) -> None:
    """SIGKILL (or a power cut) drops the tick's OS file lock: the next tick need not wait
    for the 5-minute lease, it takes the lock at once and finishes the work."""
    book = book_with_pending_work(tmp_path)
    process = start_tick(book)
    try:
        KILL_MOMENTS[moment](book)
    finally:
        process.send_signal(signal.SIGKILL)
    code, _out, _err = finish(process)
    assert code == -signal.SIGKILL

    nxt = run("tick", "--book", str(book), "--now", NOW)
    assert nxt.returncode == 0, nxt.stderr
    assert not nxt.stdout.startswith("tick: skipped"), nxt.stdout
    assert_consistent(book)


class Clock:
    """The state's clock, moved on by hand."""

    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


def test_a_lock_is_taken_over_only_once_its_lease_has_expired(tmp_path: Path) -> None:
    clock = Clock()
    killed = SqliteState(tmp_path / "state.sqlite", clock=clock)
    restarted = SqliteState(tmp_path / "state.sqlite", clock=clock)
    try:
        assert killed.acquire_lock("killed-tick", LEASE_SECONDS)
        assert not restarted.acquire_lock("restarted-tick", LEASE_SECONDS)
        clock.now += LEASE_SECONDS - 1
        assert not restarted.acquire_lock("restarted-tick", LEASE_SECONDS)
        clock.now += 2
        assert restarted.acquire_lock("restarted-tick", LEASE_SECONDS)
        assert not killed.acquire_lock("killed-tick", LEASE_SECONDS)  # it lost the lock
        killed.release_lock("killed-tick")  # a late release by the old owner changes nothing
        assert not killed.acquire_lock("third-tick", LEASE_SECONDS)
    finally:
        killed.close()
        restarted.close()


def _open_and_lock(
    path: Path, owner: str, start: threading.Barrier, wins: list[str], errors: list[Exception]
) -> None:
    try:
        start.wait()
        state = SqliteState(path)
        try:
            if state.acquire_lock(owner, LEASE_SECONDS):
                wins.append(owner)
        finally:
            start.wait()  # all alive until each has tried: a closed store counts as gone
            state.close()
    except Exception as exc:  # reported by the test, with its round
        errors.append(exc)


def test_ticks_opening_a_new_state_file_at_once_never_fail_and_one_wins(
    tmp_path: Path,
) -> None:
    """The first ticks on a new book race to create its state file (and switch it to WAL)."""
    for round_no in range(150):
        start, wins, errors = threading.Barrier(4), list[str](), list[Exception]()
        threads = [
            threading.Thread(
                target=_open_and_lock,
                args=(tmp_path / f"state{round_no}.sqlite", f"tick-{i}", start, wins, errors),
            )
            for i in range(4)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert errors == [], f"round {round_no}: {errors}"
        assert len(wins) == 1


def test_an_engine_skips_while_a_live_tick_holds_the_lock_and_takes_over_after_the_lease(
    tmp_path: Path,
) -> None:
    """A live tick stalled past its lease (its process still holds the OS lock) is taken over
    by the lease alone, as on Firestore."""
    book = book_with_pending_work(tmp_path, rows=3, prepared=20)
    clock = Clock()
    stalled = SqliteState(state_path(book), clock=clock)
    assert stalled.acquire_lock("stalled-tick", LEASE_SECONDS)
    engine = make_engine(book, clock=clock)
    try:
        now = datetime.fromisoformat(NOW)
        assert engine.tick(now).outcome == "skipped"
        clock.now += LEASE_SECONDS + 1
        assert engine.tick(now).outcome == "done"
    finally:
        engine.state.close()
        stalled.close()
    assert_consistent(book, rows=3)


def test_an_engine_takes_at_once_the_lock_of_a_closed_store_as_of_a_killed_process(
    tmp_path: Path,
) -> None:
    book = book_with_pending_work(tmp_path, rows=3, prepared=20)
    clock = Clock()
    dead = SqliteState(state_path(book), clock=clock)
    assert dead.acquire_lock("killed-tick", LEASE_SECONDS)
    dead.close()  # its descriptor, and with it the OS lock, is gone as when a process dies
    engine = make_engine(book, clock=clock)
    try:
        assert engine.tick(datetime.fromisoformat(NOW)).outcome == "done"
    finally:
        engine.state.close()
    assert_consistent(book, rows=3)


@pytest.mark.parametrize("other_tick", ["finished", "still running"])
def test_a_tick_that_outlives_its_lease_never_sends_what_the_next_tick_sends(
    tmp_path: Path, other_tick: str
) -> None:
    """A tick stalled for five minutes mid-delivery, and the scheduler's next tick took over.

    Counted at an SMTP server: the outbox writes each key at most once and would hide it.
    """
    book = book_with_pending_work(tmp_path, rows=4, prepared=20)
    clock = Clock()
    now = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
    reports: list[TickReport] = []
    with running_smtp_server() as (handler, port):

        def sender() -> SmtpSender:
            return SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5)

        def stall_after_the_first_email(step: str) -> None:
            if step != "email_sent" or reports:
                return
            clock.now += LEASE_SECONDS + 1
            if other_tick == "finished":
                taker = make_engine(book, sender(), clock=clock)
                reports.append(taker.tick(now + timedelta(minutes=5)))
                taker.state.close()
            else:
                other = SqliteState(state_path(book), clock=clock)
                reports.append(TickReport("running"))
                assert other.acquire_lock("the-next-tick", LEASE_SECONDS)
                other.close()

        slow = make_engine(book, sender(), checkpoint=stall_after_the_first_email, clock=clock)
        try:
            slow_report = slow.tick(now)
        finally:
            slow.state.close()
        if other_tick == "still running":
            clock.now += LEASE_SECONDS + 1  # that tick dies too; the one after it sends the rest
            rest = make_engine(book, sender(), clock=clock)
            reports.append(rest.tick(now + timedelta(minutes=15)))
            rest.state.close()
        received = handler.message_ids()
    assert sum(received.values()) == 4
    assert set(received.values()) == {1}
    assert len(slow_report.emails) == 1
    if other_tick == "still running":
        assert any("took over" in p for p in slow_report.problems), slow_report.problems
    assert sum(len(r.emails) for r in reports) == 3
    assert {status for _key, status in state_tables(book)["ledger"]} == {"sent"}
