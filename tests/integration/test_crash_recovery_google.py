"""A tick killed at any step on the Google backend ends as if nobody had killed it.

The twin of test_crash_recovery.py (the workbook with SQLite) for the Cloud deployment's
adapters: the Sheets double (strict, atomic batchUpdate), the real Firestore emulator for the
state, and a real SMTP server on loopback (aiosmtpd) or the outbox folder. Every tick runs on
fresh adapters, as a new Cloud Functions instance would (cold metadata cache, new clients).

The same invoice story is played with a tick after each step; in a crashed run *every* tick
of the story dies at the same point and a new instance ticks again. Crash points: after the
read, after the journal is saved, after the cell writes, before / inside / after the snapshot
commit, after the first and the second email, just before and just after an SMTP hand-over,
and in the one `spreadsheets.batchUpdate` that carries the cell writes *and the Log append*:
before Google applied it, or after (the answer never came back). The sheet (values, locks,
queue views), the Firestore state and the mail must then be exactly those of a run nobody
killed, and each email handed over once.

Two ways to die: raising (the engine's `finally` releases the lock) and a killed instance
(nothing runs after the crash point: the lock stays until its lease expires, every tick until
then is skipped, and the first one after it finishes the work).
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from functions.adapters.firestore import outbox
from functions.adapters.firestore import writes as firestore_writes
from functions.adapters.firestore.state import FirestoreState
from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.mail.smtp import SmtpSender
from functions.notify import EmailRenderer, message_id_for
from functions.ports import MailSender
from functions.tick.engine import LEASE_SECONDS, Engine, TickReport
from tests.builders import typed_invoice
from tests.crash_points import (
    CHECKPOINTS,
    MAIL_POINTS,
    Crash,
    DyingSender,
    FiresAtPoint,
    steps_reaching,
)
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.local_backend import PEOPLE, SCHEMA, SETTINGS, outbox_keys, outbox_message_ids
from tests.smtp_server import running_smtp_server

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
START_CLOCK = 1_800_000_000.0
A, B, C = "INV-000001", "INV-000002", "INV-000003"


def _invoice(number: str, **extra: object) -> dict[str, object]:
    """A typed row whose supplier needs escaping in an email; None in `extra` leaves a cell out."""
    values = {**typed_invoice(number, supplier="Acme <Steel>", amount=1234.5), **extra}
    return {key: value for key, value in values.items() if value is not None}


Step = list[tuple[str, dict[str, object]]]  # record ID or "new", {column key: value}

# As in test_crash_recovery: every transition, a rework without and with a comment, a
# resubmission, a claim overwritten by the owner (a locked cell restored), several emails per
# tick and a row that goes three steps at once.
STORY: list[Step] = [
    [
        ("new", _invoice("A-1")),
        ("new", _invoice("B-2")),
        ("new", _invoice("C-3", amount="abc", signer=None)),
    ],
    [(A, {"decision": "Rework"}), (B, {"decision": "Approve"})],
    [(A, {"comment": "Wrong VAT"}), (B, {"accountant": "Irina K"})],
    [
        (A, {"invoice_file": "https://files.example/A-1-v2.pdf"}),
        (B, {"accountant": "Sergey Popov", "paid_on": "28.11.2026"}),
        (C, {"amount": 1200, "signer": "Dmitry Volkov"}),
    ],
    [
        (A, {"decision": "Approve"}),
        (B, {"closing_docs": "https://files.example/B-2-waybill.pdf"}),
        (C, {"decision": "Rework", "comment": "Stamp missing"}),
    ],
    [
        (
            A,
            {
                "accountant": "Sergey Popov",
                "paid_on": "29.11.2026",
                "closing_docs": "https://files.example/A-1-waybill.pdf",
            },
        )
    ],
]

GOOGLE_FAULTS = ["batchUpdate before applied", "batchUpdate applied, answer lost"]
STATE_FAULTS = ["inside commit_journal"]
POINTS = CHECKPOINTS + GOOGLE_FAULTS + STATE_FAULTS + MAIL_POINTS


@dataclass
class Backend:
    """One Google deployment: the spreadsheet, the Firestore root, the mail, a clock."""

    double: GoogleDouble
    sid: str
    client: Any
    root: str
    sender: Callable[[], MailSender]
    clock: float = START_CLOCK

    @property
    def editor(self) -> SheetEditor:
        return SheetEditor(self.double, self.sid, SCHEMA)

    def engine(self) -> Engine:
        """A fresh instance: a new Sheets client and cache, a new Firestore state object."""
        book = GoogleSheetBook(
            self.sid, self.double.client(SERVICE_ACCOUNT), SCHEMA, SERVICE_ACCOUNT, sleep=no_sleep
        )
        state = FirestoreState(self.client, self.root, clock=lambda: self.clock)
        return Engine(book, state, self.sender(), EmailRenderer(), SCHEMA)

    def tick(self, now: datetime) -> TickReport:
        return self.engine().tick(now)

    def state(self) -> FirestoreState:
        return FirestoreState(self.client, self.root, clock=lambda: self.clock)


@dataclass
class Fault(FiresAtPoint):
    """Kills one tick attempt at `point`, by raising (`kill` False) or as a dead instance."""

    point: str
    kill: bool = False
    fired: int = 0
    emails: int = 0
    flushes: int = 0
    in_commit: bool = False

    def fire(self) -> None:
        self.fired += 1
        raise Crash(self.point)

    @contextmanager
    def armed(self, engine: Engine, backend: Backend) -> Iterator[None]:
        engine.checkpoint = self.checkpoint
        with pytest.MonkeyPatch.context() as patch:
            if self.kill:  # a dead instance runs no `finally`: its lock stays behind
                patch.setattr(engine.state, "release_lock", lambda owner: None)
            if self.point in GOOGLE_FAULTS:
                patch.setattr(backend.double, "answer", self._dying_answer(backend.double))
            elif self.point == "inside commit_journal":
                self._cut_commit(engine, patch)
            elif self.point in ("before send", "after send"):
                patch.setattr(engine, "mail", DyingSender(engine.mail, self))
            yield

    def _dying_answer(self, double: GoogleDouble) -> Callable[..., tuple[int, Any]]:
        """The service account's write batch dies before Google applied it, or after."""
        real = double.answer

        def answer(method: str, url: str, body: bytes | None, user: str) -> tuple[int, Any]:
            path = url.split("?", 1)[0]
            is_write = path.endswith(":batchUpdate") and "/values:" not in path
            if not (is_write and user == SERVICE_ACCOUNT):
                return real(method, url, body, user)
            if self.point == "batchUpdate before applied":
                self.fire()
            answered = real(method, url, body, user)
            assert answered[0] == 200, answered
            self.fire()
            return answered

        return answer

    def _cut_commit(self, engine: Engine, patch: pytest.MonkeyPatch) -> None:
        """The snapshot commit dies after its first Firestore write (one write per batch)."""
        patch.setattr(firestore_writes, "BATCH_WRITES", 1)
        real_flush, real_commit = firestore_writes.Writes.flush, engine.state.commit_journal

        def flush(writes: Any) -> None:
            if self.in_commit and writes._staged:
                self.flushes += 1
                if self.flushes == 2:
                    self.fire()
            real_flush(writes)

        def commit(snapshot_changes: Any, meta: dict[str, Any]) -> None:
            self.in_commit = True
            try:
                real_commit(snapshot_changes, meta)
            finally:
                self.in_commit = False

        patch.setattr(firestore_writes.Writes, "flush", flush)
        patch.setattr(engine.state, "commit_journal", commit)


@dataclass
class Run:
    """What a played story left behind."""

    sheet: dict[str, Any]
    state: dict[str, Any]
    reports: list[TickReport] = field(default_factory=list)
    emails_per_step: list[int] = field(default_factory=list)
    died_at_steps: list[int] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    accountants: dict[str, str] = field(default_factory=dict)
    log_events: Counter[str] = field(default_factory=Counter)


def new_backend(client: Any, sender: Callable[[], MailSender]) -> Backend:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE, SETTINGS, writers=writers)
    return Backend(double, sid, client, f"sheetflow-crash/{uuid.uuid4().hex}", sender)


def edit(backend: Backend, step: Step) -> None:
    """The owner types the step's edits (the owner may type over protected cells too)."""
    editor = backend.editor
    for record, values in step:
        if record == "new":
            editor.add_row("invoices", values)
        else:
            editor.set("invoices", record, values)


def play(backend: Backend, point: str | None = None, kill: bool = False) -> Run:
    """The story, a tick per step; with a `point`, every step's first tick dies there."""
    run = Run({}, {})
    for index, step in enumerate(STORY):
        edit(backend, step)
        now = NOW + timedelta(minutes=10 * index)
        backend.clock += 600
        if point is None:
            run.reports.append(backend.tick(now))
            run.emails_per_step.append(len(run.reports[-1].emails))
            continue
        fault, engine = Fault(point, kill), backend.engine()
        try:
            with fault.armed(engine, backend):
                run.reports.append(engine.tick(now))
        except Crash:
            assert fault.fired == 1
            run.died_at_steps.append(index)
            if kill:  # the dead instance's lease holds: the scheduler's next ticks skip
                assert backend.tick(now).outcome == "skipped"
                backend.clock += LEASE_SECONDS + 1
            run.reports.append(backend.tick(now))
        else:
            assert fault.fired == 0
    for extra in range(3):  # the last tick re-reads its own write, then nothing is left to do
        backend.clock += 600
        last = backend.tick(NOW + timedelta(hours=2, minutes=extra))
        run.reports.append(last)
    assert last.outcome == "idle", last
    run.sheet, run.state = dump_sheet(backend), dump_state(backend.state())
    editor = backend.editor
    rows = editor.rows("invoices")
    run.statuses = {str(r["id"]): str(r["status"]) for r in rows}
    run.accountants = {str(r["id"]): str(r["accountant"]) for r in rows if r["accountant"]}
    run.log_events = Counter(row[3] for row in editor.log())
    return run


def dump_sheet(backend: Backend) -> dict[str, Any]:
    """Every tab as Google keeps it: cell values, protections, filter views (their ids aside)."""
    book = backend.double.book(backend.sid)
    tabs: dict[str, Any] = {}
    for sheet in book.ordered():
        cells = {pos: cell.entered for pos, cell in sorted(sheet.cells.items()) if cell.has_value}
        protections = sorted(
            repr(sorted((k, v) for k, v in p.items() if k != "protectedRangeId"))
            for p in sheet.protected_ranges
        )
        views = sorted(
            repr(sorted((k, v) for k, v in v.items() if k != "filterViewId"))
            for v in sheet.filter_views
        )
        tabs[sheet.title] = {
            "hidden": sheet.hidden,
            "cells": cells,
            "protections": protections,
            "views": views,
        }
    return tabs


def dump_state(state: FirestoreState) -> dict[str, Any]:
    """The Firestore state as plain data: snapshot, meta (without versions), ledger, journal."""
    snapshot = {
        (tab, record): data
        for tab, rows in state.load_snapshot().items()
        for record, data in rows.items()
    }
    meta = {k: v for k, v in state.load_meta().items() if not k.startswith("book_version")}
    meta.pop("book_id", None)  # each run has a spreadsheet of its own
    ledger = Counter(
        (key, outbox.status(box, index))
        for box in (doc.to_dict() or {} for doc in state.root.collection("outbox").stream())
        if box.get("state") != "queued"  # a save cut short leaves its emails unlisted
        for index, key in enumerate(box["keys"])
    )
    journals = int(state.root.collection("journal").document("head").get().exists)
    lock = bool(
        (state.root.collection("state").document("lock").get().to_dict() or {}).get("owner")
    )
    return {
        "snapshot": snapshot,
        "meta": meta,
        "ledger": ledger,
        "journals": journals,
        "lock": lock,
    }


@pytest.fixture
def client(firestore_emulator: Any, firestore_client: Any) -> Any:
    """The session's emulator client, once it is known to be still running."""
    firestore_emulator.check()
    return firestore_client


@pytest.fixture(scope="module")
def clean(firestore_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Run:
    folder = tmp_path_factory.mktemp("clean-google")
    return play(new_backend(firestore_client, lambda: OutboxSender(folder / "outbox")))


def test_the_story_on_google_uncrashed_closes_two_invoices_and_sends_each_email_once(
    clean: Run,
) -> None:
    assert clean.statuses == {A: "Closed", B: "Closed", C: "Rework"}
    assert clean.accountants == {A: "Sergey Popov", B: "Irina K"}  # the claim was restored
    assert clean.log_events["Restored"] == 1  # Sergey typed over Irina's locked claim
    assert clean.log_events["Cleared"] == 1
    assert clean.log_events["Status changed"] == 14
    assert set(clean.state["ledger"].values()) == {1}
    assert {status for _key, status in clean.state["ledger"]} == {"sent"}
    assert clean.log_events["Email"] == len(clean.state["ledger"]) == sum(clean.emails_per_step)
    assert min(clean.emails_per_step) >= 1  # every step's tick reaches the mail points
    assert sum(n >= 2 for n in clean.emails_per_step) >= 3
    assert sum(n >= 4 for n in clean.emails_per_step) >= 2  # "email 4" dies in two steps
    assert (clean.state["journals"], clean.state["lock"]) == (0, False)


def _expect_same_end(run: Run, clean: Run, received: Counter[str], smtp: bool, point: str) -> None:
    assert run.died_at_steps == steps_reaching(point, clean.emails_per_step)
    assert (run.statuses, run.accountants) == (clean.statuses, clean.accountants)
    assert run.log_events == clean.log_events
    assert run.sheet == clean.sheet
    assert run.state["snapshot"] == clean.state["snapshot"]
    assert run.state["meta"] == clean.state["meta"]
    assert (run.state["journals"], run.state["lock"]) == (0, False)
    statuses = dict(run.state["ledger"])
    assert max(run.state["ledger"].values()) == 1
    assert sorted(k for k, _s in statuses) == sorted(k for k, _s in clean.state["ledger"])
    uncertain = {key for key, status in statuses if status == "uncertain"}
    assert {status for _key, status in statuses} <= {"sent", "uncertain"}
    if smtp and point in ("before send", "after send"):
        # A send cut short on SMTP cannot be checked: reported, never sent again (at most once).
        assert len(uncertain) == len(run.died_at_steps)
        warned = " ".join(p for r in run.reports for p in r.problems)
        assert warned.count("may not have been sent") == len(uncertain)
    else:
        assert uncertain == set()
    expected = Counter(message_id_for(key) for key, _status in clean.state["ledger"])
    if smtp and point == "before send":  # it never reached the server
        for key in uncertain:
            expected[message_id_for(key)] = 0
    assert +received == +expected
    assert max(received.values()) == 1


@pytest.mark.parametrize("point", POINTS)
@pytest.mark.parametrize("mail", ["smtp", "outbox"])
def test_a_google_tick_killed_at_any_point_and_rerun_ends_the_same_with_each_email_once(
    client: Any, tmp_path: Any, clean: Run, point: str, mail: str
) -> None:
    if mail == "outbox":
        backend = new_backend(client, lambda: OutboxSender(tmp_path / "outbox"))
        run = play(backend, point)
        received = outbox_message_ids(tmp_path / "outbox")
        keys = outbox_keys(tmp_path / "outbox")
        assert sorted(keys.elements()) == sorted(key for key, _status in run.state["ledger"])
    else:
        with running_smtp_server() as (handler, port):
            url = f"smtp://127.0.0.1:{port}"
            run = play(new_backend(client, lambda: SmtpSender(url, timeout=5)), point)
            received = handler.message_ids()
    _expect_same_end(run, clean, received, mail == "smtp", point)


@pytest.mark.parametrize("point", POINTS)
def test_a_killed_google_instance_leaves_a_lock_that_expires_and_the_rerun_ends_the_same(
    client: Any, clean: Run, point: str
) -> None:
    with running_smtp_server() as (handler, port):
        url = f"smtp://127.0.0.1:{port}"
        run = play(new_backend(client, lambda: SmtpSender(url, timeout=5)), point, kill=True)
        received = handler.message_ids()
    _expect_same_end(run, clean, received, True, point)
