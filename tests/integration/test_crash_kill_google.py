"""Real deaths on the Google path: a tick process SIGKILLed, then the next instance finishes.

The invoice story of test_crash_recovery_google.py, but each step's first tick runs as its own
process (tests/google_tick_process.py) against the Sheets double served over HTTP on
loopback, the real Firestore emulator and real mail, and is killed with SIGKILL — at an engine
step boundary (the process stops there and the test kills it) or at a random moment. No
`finally`, no lock release, no answer read: a request in flight may be applied by the double
with its answer lost. The next ticks (fresh instances) are skipped while the dead one's lease
holds, then one finishes the work. The sheet, the Firestore state and the mail must equal the
uncrashed run's, with each email handed over once (SMTP: a hand-over cut by the kill is
reported as uncertain and never repeated).
"""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from google.api_core.exceptions import Aborted

from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.mail.smtp import SmtpSender
from functions.notify import message_id_for
from functions.ports import MailSender
from functions.tick.engine import LEASE_SECONDS
from tests.crash_points import CHECKPOINTS
from tests.google_double.http_server import locked, serving
from tests.integration.test_crash_recovery_google import (
    NOW,
    STORY,
    Backend,
    Run,
    clean,
    dump_sheet,
    dump_state,
    edit,
    new_backend,
)
from tests.local_backend import outbox_message_ids
from tests.smtp_server import running_smtp_server

__all__ = ["clean"]  # the uncrashed story, played once for this module too
ROOT = Path(__file__).resolve().parents[2]
TIMEOUT = 60.0
KILLED = -signal.SIGKILL


class TickProcess:
    """One tick in a child process; `kill()` sends SIGKILL."""

    def __init__(self, backend: Backend, url: str, mail: str, now: Any, stop_at: str | None):
        command = [
            sys.executable,
            "-m",
            "tests.google_tick_process",
            *("--double", url, "--sheet", backend.sid, "--root", backend.root),
            *("--mail", mail, "--now", now.isoformat(), "--clock", repr(backend.clock)),
        ]
        if stop_at:
            command += ["--stop-at", stop_at]
        self.process = subprocess.Popen(
            command,
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
        )

    def stopped_at(self) -> str | None:
        """Wait for `AT point` (then the process waits to be killed) or for its end."""
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if line.startswith("AT "):
            return line[3:].strip()
        self.process.wait(TIMEOUT)
        return None

    def kill(self) -> bool:
        """SIGKILL; True if it was still running."""
        alive = self.process.poll() is None
        if alive:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(TIMEOUT)
        return alive

    def check_finished(self) -> None:
        _out, err = self.process.communicate(timeout=TIMEOUT)
        assert self.process.returncode in (0, KILLED), err[-3000:]


def _rerun(backend: Backend, now: datetime) -> Any:
    """The next scheduled tick. A process killed inside a Firestore transaction leaves its
    document locks until Firestore (and the emulator) time them out; the tick that meets them
    fails with 409 Aborted and Cloud Scheduler runs it again — as here, a few seconds later."""
    for _attempt in range(5):
        try:
            return backend.tick(now)
        except Aborted:
            time.sleep(3)
    return backend.tick(now)


def play_killed(backend: Backend, url: str, mail: str, plan: list[str]) -> Run:
    """The story; each step's first tick is a process killed as `plan[step]` says."""
    run = Run({}, {})
    rng = random.Random(15)
    for index, step in enumerate(STORY):
        edit(backend, step)
        now = NOW + timedelta(minutes=10 * index)
        backend.clock += 600
        how = plan[index]
        child = TickProcess(backend, url, mail, now, None if how == "random" else how)
        if how == "random":
            seen = len(backend.double.calls)
            deadline = time.monotonic() + TIMEOUT
            while len(backend.double.calls) == seen and child.process.poll() is None:
                assert time.monotonic() < deadline, "the tick process never reached the sheet"
                time.sleep(0.01)
            time.sleep(rng.uniform(0.0, 0.8))  # somewhere inside the tick's requests
            died = child.kill()
        else:
            died = child.stopped_at() == how
            assert child.kill() == died
        child.check_finished()
        if died:
            run.died_at_steps.append(index)
            report = _rerun(backend, now)
            if report.outcome == "skipped":  # the dead instance's lease holds
                backend.clock += LEASE_SECONDS + 1
                report = _rerun(backend, now)
            run.reports.append(report)
        else:
            run.reports.append(backend.tick(now))
    for extra in range(3):
        backend.clock += 600
        last = backend.tick(NOW + timedelta(hours=2, minutes=extra))
        run.reports.append(last)
    assert last.outcome == "idle", last
    run.sheet, run.state = dump_sheet(backend), dump_state(backend.state())
    rows = backend.editor.rows("invoices")
    run.statuses = {str(r["id"]): str(r["status"]) for r in rows}
    run.accountants = {str(r["id"]): str(r["accountant"]) for r in rows if r["accountant"]}
    run.log_events = Counter(row[3] for row in backend.editor.log())
    return run


def expect_same_end(run: Run, clean: Run, received: Counter[str]) -> None:
    assert (run.statuses, run.accountants) == (clean.statuses, clean.accountants)
    assert run.log_events == clean.log_events
    assert run.sheet == clean.sheet
    assert run.state["snapshot"] == clean.state["snapshot"]
    assert run.state["meta"] == clean.state["meta"]
    assert (run.state["journals"], run.state["lock"]) == (0, False)
    ledger = dict(run.state["ledger"])
    assert sorted(k for k, _s in ledger) == sorted(k for k, _s in clean.state["ledger"])
    assert max(run.state["ledger"].values()) == 1
    uncertain = {key for key, status in ledger if status == "uncertain"}
    assert {status for _key, status in ledger} <= {"sent", "uncertain"}
    assert len(uncertain) <= len(run.died_at_steps)
    warned = " ".join(p for r in run.reports for p in r.problems)
    assert warned.count("may not have been sent") == len(uncertain)
    expected = {message_id_for(key) for key, _status in clean.state["ledger"]}
    assert max(received.values(), default=0) == 1  # never twice
    sure = {message_id_for(key) for key, status in ledger if status == "sent"}
    assert sure <= set(received) <= expected


def plan_for(kind: str, clean: Run) -> list[str]:
    if kind == "at each step boundary":
        return [*CHECKPOINTS, "read"]
    if kind == "at each email point":  # around the first hand-overs, then after the last email
        last = [f"email {n}" for n in clean.emails_per_step]
        return ["before send", "after send", *last[2:]]
    return ["random"] * len(STORY)


CASES = [
    ("at each step boundary", "smtp"),
    ("at each email point", "smtp"),
    ("at each email point", "outbox"),
    ("at random moments", "smtp"),
]


@pytest.mark.parametrize(("plan", "mail"), CASES)
def test_a_google_tick_process_sigkilled_then_rerun_ends_as_if_never_killed(
    firestore_emulator: Any, firestore_client: Any, clean: Run, tmp_path: Path, plan: str, mail: str
) -> None:
    firestore_emulator.check()
    outbox = tmp_path / "outbox"
    with running_smtp_server() as (handler, port):
        smtp = f"smtp://127.0.0.1:{port}"
        sender: Callable[[], MailSender] = (
            (lambda: OutboxSender(outbox))
            if mail == "outbox"
            else (lambda: SmtpSender(smtp, timeout=5))
        )
        backend = new_backend(firestore_client, sender)
        locked(backend.double)
        with serving(backend.double) as url:
            target = str(outbox) if mail == "outbox" else smtp
            run = play_killed(backend, url, target, plan_for(plan, clean))
        received = outbox_message_ids(outbox) if mail == "outbox" else handler.message_ids()
    assert run.died_at_steps, "no tick was killed"
    if plan != "at random moments":
        assert run.died_at_steps == list(range(len(STORY)))
    expect_same_end(run, clean, received)
    if mail == "outbox":
        assert +received == Counter(message_id_for(k) for k, _s in clean.state["ledger"])
