"""A tick killed at any step, on the real local backend, ends as if nobody had killed it.

The backend is the real one: an .xlsx workbook (with 20 prepared rows instead of 1,000, so
that the hundreds of ticks below take seconds), SQLite state, and a real SMTP server on loopback
(aiosmtpd) or the outbox folder. The invoice story is played with a tick after each
step; in a crashed run *every* tick of the story dies at the same point, and a new engine
(a restarted process) ticks again. The sheet, the state and the mail must then be exactly
those of a run nobody killed, and each email must have been handed over once.

Two ways to die: raising at the crash point (finally blocks run: the lock is released and
SQLite rolls back), and a forked process that ends with os._exit there (nothing runs: its
lease stays in the state file, but its OS file lock dies with it, so the next tick starts at
once; an open SQLite transaction is never committed).

One email is the exception, by design: a send cut short between "sending" and "sent" on SMTP
cannot be checked, so it is marked uncertain and reported, never sent again (at most once).
"""

from __future__ import annotations

import os
import traceback
import warnings
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

import pytest

from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.mail.smtp import SmtpSender
from functions.notify import message_id_for
from functions.ports import MailSender
from functions.tick.engine import Engine, TickReport
from tests.builders import typed_invoice
from tests.crash_points import (
    CHECKPOINTS,
    MAIL_POINTS,
    Crash,
    DyingSender,
    FiresAtPoint,
    steps_reaching,
)
from tests.local_backend import (
    Edit,
    dump_book,
    edit_book,
    make_engine,
    new_book,
    outbox_keys,
    outbox_message_ids,
    rows_by_header,
    state_tables,
)
from tests.smtp_server import running_smtp_server

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
A, B, C = "INV-000001", "INV-000002", "INV-000003"


def _invoice(number: str, **extra: object) -> dict[str, object]:
    """A typed row whose supplier needs escaping in an email and whose amount is typed text."""
    return {**typed_invoice(number, supplier="Acme <Steel>", amount="1 234,50"), **extra}


# Every transition, a rework without and with a comment, a resubmission, a claim race (a
# locked cell overwritten), several emails per tick and a row that goes three steps at once.
STORY: list[list[Edit]] = [
    [
        ("invoices", "new", _invoice("A-1")),
        ("invoices", "new", _invoice("B-2")),
        ("invoices", "new", _invoice("C-3", amount="abc", signer=None)),
    ],
    [
        ("invoices", A, {"decision": "Rework"}),
        ("invoices", B, {"decision": "Approve"}),
    ],
    [
        ("invoices", A, {"comment": "Wrong VAT"}),
        ("invoices", B, {"accountant": "Irina K"}),
    ],
    [
        ("invoices", A, {"invoice_file": "https://files.example/A-1-v2.pdf"}),
        ("invoices", B, {"accountant": "Sergey Popov", "paid_on": "28.11.2026"}),
        ("invoices", C, {"amount": "1 200,00", "signer": "Dmitry Volkov"}),
    ],
    [
        ("invoices", A, {"decision": "Approve"}),
        ("invoices", B, {"closing_docs": "https://files.example/B-2-waybill.pdf"}),
        ("invoices", C, {"decision": "Rework", "comment": "Stamp missing"}),
    ],
    [
        (
            "invoices",
            A,
            {
                "accountant": "Sergey Popov",
                "paid_on": "29.11.2026",
                "closing_docs": "https://files.example/A-1-waybill.pdf",
            },
        ),
    ],
]

FAULTS = ["workbook save", "inside commit_journal"]
KILLED = 77  # the exit code of a forked tick killed at its crash point


def raise_crash(point: str) -> NoReturn:
    raise Crash(point)


def exit_at_once(point: str) -> NoReturn:
    os._exit(KILLED)


@dataclass
class Fault(FiresAtPoint):
    """Kills one tick attempt at `point`, by raising or by ending the process."""

    point: str
    book: Path
    die: Callable[[str], NoReturn] = raise_crash
    fired: int = 0
    emails: int = 0

    def fire(self) -> None:
        self.fired += 1
        self.die(self.point)

    @contextmanager
    def armed(self, engine: Engine) -> Iterator[None]:
        self.emails = 0
        engine.checkpoint = self.checkpoint
        with pytest.MonkeyPatch.context() as patch:
            if self.point == "workbook save":
                real_replace = os.replace

                def replace(src: Any, dst: Any, *args: Any, **kwargs: Any) -> None:
                    if Path(dst) == self.book:  # the temp file is written, not yet swapped in
                        self.fire()
                    real_replace(src, dst, *args, **kwargs)

                patch.setattr(os, "replace", replace)
            elif self.point == "inside commit_journal":
                real_commit = engine.state.commit_journal

                def commit(snapshot_changes: Any, meta: dict[str, Any]) -> None:
                    real_commit(snapshot_changes, _FiresWhenRead(meta, self.fire))

                patch.setattr(engine.state, "commit_journal", commit)
            elif self.point in ("before send", "after send"):
                patch.setattr(engine, "mail", DyingSender(engine.mail, self))
            yield


class _FiresWhenRead(dict[str, Any]):
    """Meta whose items are read after the snapshot rows went in: the commit dies half-way."""

    def __init__(self, meta: dict[str, Any], fire: Callable[[], None]) -> None:
        super().__init__(meta)
        self._fire = fire

    def items(self) -> Any:
        self._fire()
        return super().items()


@dataclass
class Run:
    """What a played story left behind."""

    folder: Path
    sheet: dict[str, list[tuple[Any, ...]]]
    state: dict[str, Any]
    reports: list[TickReport] = field(default_factory=list)
    emails_per_step: list[int] = field(default_factory=list)
    died_at_steps: list[int] = field(default_factory=list)


def tick_once(
    book: Path, mail: MailSender, now: datetime, clock: Callable[[], float] | None = None
) -> TickReport:
    engine = make_engine(book, mail, clock=clock)
    try:
        return engine.tick(now)
    finally:
        engine.state.close()


def play(
    folder: Path,
    sender: Callable[[Path], MailSender],
    point: str | None = None,
    kill: bool = False,
) -> Run:
    """The story, a tick per step; with a `point`, every step's first tick dies there."""
    book = new_book(folder, prepared_rows=20)
    run = Run(folder, {}, {})
    for index, edits in enumerate(STORY):
        edit_book(book, edits)
        now = NOW + timedelta(minutes=10 * index)
        if point is None:
            run.reports.append(tick_once(book, sender(book), now))
            run.emails_per_step.append(len(run.reports[-1].emails))
        elif kill and _killed_attempt(book, sender, point, now):
            run.died_at_steps.append(index)
            # The dead process's OS lock died with it: the next tick takes the lock at once,
            # though its lease in the state file has not run out.
            run.reports.append(tick_once(book, sender(book), now))
        elif not kill and _raised_attempt(book, sender(book), point, now, run.reports):
            run.died_at_steps.append(index)
            run.reports.append(tick_once(book, sender(book), now))
    run.reports.append(tick_once(book, sender(book), NOW + timedelta(hours=2)))
    assert run.reports[-1].outcome == "idle", run.reports[-1]
    run.sheet, run.state = dump_book(book), state_tables(book)
    return run


def _raised_attempt(
    book: Path, mail: MailSender, point: str, now: datetime, reports: list[TickReport]
) -> bool:
    """Tick with a fault that raises at `point`; True if the tick died there."""
    fault = Fault(point, book)
    engine = make_engine(book, mail)
    try:
        with fault.armed(engine):
            reports.append(engine.tick(now))
    except Crash:
        assert fault.fired == 1
        return True
    finally:
        engine.state.close()
    assert fault.fired == 0
    return False


def _killed_attempt(
    book: Path, sender: Callable[[Path], MailSender], point: str, now: datetime
) -> bool:
    """Tick in a forked process that dies at `point`; True if it died there."""
    with warnings.catch_warnings():  # Python 3.12+ warns about fork with threads running
        warnings.simplefilter("ignore", DeprecationWarning)
        pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        code = 0
        try:
            engine = make_engine(book, sender(book))
            with Fault(point, book, exit_at_once).armed(engine):
                engine.tick(now)
        except BaseException:
            traceback.print_exc()
            code = 1
        os._exit(code)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    assert code in (0, KILLED), f"the forked tick failed with exit code {code}"
    return code == KILLED


def outbox(book: Path) -> OutboxSender:
    return OutboxSender(book.parent / "outbox")


@pytest.fixture(scope="module")
def clean(tmp_path_factory: pytest.TempPathFactory) -> Run:
    return play(tmp_path_factory.mktemp("clean"), outbox)


def test_the_story_uncrashed_closes_two_invoices_and_sends_each_email_once(clean: Run) -> None:
    book = clean.folder / "book.xlsx"
    invoices = {r["ID"]: r for r in rows_by_header(book, "Invoices")}
    assert {k: r["Status"] for k, r in invoices.items()} == {A: "Closed", B: "Closed", C: "Rework"}
    assert invoices[B]["Accountant"] == "Irina K"  # the later claim was restored
    events = Counter(r["Event"] for r in rows_by_header(book, "Log"))
    assert events["Restored"] == 1
    assert events["Cleared"] == 1
    assert events["Status changed"] == 14
    keys = outbox_keys(clean.folder / "outbox")
    assert set(keys.values()) == {1}
    assert events["Email"] == sum(keys.values()) == sum(clean.emails_per_step)
    assert set(clean.state["ledger"]) == {(key, "sent") for key in keys}
    assert min(clean.emails_per_step) >= 1  # every step's tick reaches the mail points
    assert sum(n >= 2 for n in clean.emails_per_step) >= 3
    assert sum(n >= 4 for n in clean.emails_per_step) >= 2  # "email 4" dies in two steps


def _expect_same_end(run: Run, clean: Run, received: Counter[str], smtp: bool, point: str) -> None:
    assert run.died_at_steps == steps_reaching(point, clean.emails_per_step)
    assert run.sheet == clean.sheet
    assert run.state["snapshot"] == clean.state["snapshot"]
    assert run.state["meta"] == clean.state["meta"]
    assert run.state["journals"] == 0
    statuses = {key: status for key, status in run.state["ledger"]}
    assert sorted(statuses) == sorted(key for key, _status in clean.state["ledger"])
    uncertain = {key for key, status in statuses.items() if status == "uncertain"}
    assert set(statuses.values()) <= {"sent", "uncertain"}
    if smtp and point in ("before send", "after send"):
        # One interrupted send per step: it cannot be checked, so it is reported, not resent.
        assert len(uncertain) == len(run.died_at_steps)
        warned = " ".join(p for r in run.reports for p in r.problems)
        assert warned.count("may not have been sent") == len(uncertain)
    else:
        assert uncertain == set()
    expected = Counter(message_id_for(key) for key, _status in clean.state["ledger"])
    if smtp and point == "before send":  # it never reached the server, and is never sent twice
        for key in uncertain:
            expected[message_id_for(key)] = 0
    assert +received == +expected
    assert max(received.values()) == 1


def smtp_to(port: int) -> Callable[[Path], MailSender]:
    return lambda book: SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5)


@pytest.mark.parametrize("point", CHECKPOINTS + FAULTS + MAIL_POINTS)
@pytest.mark.parametrize("mail", ["smtp", "outbox"])
def test_a_tick_killed_at_any_point_and_rerun_ends_the_same_with_each_email_once(
    tmp_path: Path, clean: Run, point: str, mail: str
) -> None:
    if mail == "outbox":
        run = play(tmp_path, outbox, point)
        received = outbox_message_ids(tmp_path / "outbox")
        keys = outbox_keys(tmp_path / "outbox")
        assert sorted(keys.elements()) == sorted(key for key, _status in run.state["ledger"])
    else:
        with running_smtp_server() as (handler, port):
            run = play(tmp_path, smtp_to(port), point)
            received = handler.message_ids()
    _expect_same_end(run, clean, received, mail == "smtp", point)
    assert not list(tmp_path.glob(".*.tmp")), "a killed save left its temp file behind"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork to kill a tick mid-way")
@pytest.mark.parametrize("point", CHECKPOINTS + FAULTS + MAIL_POINTS)
def test_a_process_killed_at_any_point_leaves_no_lock_and_the_rerun_ends_the_same(
    tmp_path: Path, clean: Run, point: str
) -> None:
    with running_smtp_server() as (handler, port):
        run = play(tmp_path, smtp_to(port), point, kill=True)
        received = handler.message_ids()
    _expect_same_end(run, clean, received, True, point)
