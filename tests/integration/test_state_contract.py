"""One contract for the StateStore port, run on SQLite and on the real Firestore emulator."""

from __future__ import annotations

import hashlib
import itertools
import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any, Protocol

import pytest

from functions.adapters.firestore import shards as firestore_shards
from functions.adapters.firestore import writes as firestore_writes
from functions.adapters.firestore.state import FirestoreState, FirestoreStateError
from functions.adapters.sqlite.state import SqliteState
from functions.model import Remember, RenderedEmail, Snapshot
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.builders import NOW, invoice
from tests.crash_points import Crash, dies_at
from tests.fakes import FakeBook, FakeMail
from tests.unit.test_engine import PEOPLE, STORY


def unique_root() -> str:
    """Each store of each test under a root document of its own."""
    return f"sheetflow/test-{uuid.uuid4().hex}"


class State(Protocol):
    """The port plus what both implementations offer beyond it."""

    def acquire_lock(self, owner: str, lease_seconds: float) -> bool: ...
    def release_lock(self, owner: str) -> None: ...
    def load_snapshot(self, remember: Remember | None = None, tabs: Any = None) -> Snapshot: ...
    def load_meta(self) -> dict[str, Any]: ...
    def load_journal(self) -> dict[str, Any] | None: ...
    def save_journal(self, journal: dict[str, Any], emails: list[RenderedEmail]) -> None: ...
    def mark_journal_applied(self) -> None: ...
    def commit_journal(self, snapshot_changes: Any, meta: dict[str, Any]) -> None: ...
    def drop_journal(self) -> None: ...
    def pending_keys(self) -> list[str]: ...
    def mark_sending(self, key: str) -> None: ...
    def mark_sent(self, key: str, outcome: str = "sent") -> None: ...
    def ledger_entry(self, key: str) -> tuple[RenderedEmail, str] | None: ...
    def claim_scheduled_run(self, key: str) -> bool: ...
    def close(self) -> None: ...


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


class MakeState(Protocol):
    def __call__(self, clock: Clock | None = None, store: str = "main") -> State: ...


@pytest.fixture(params=["sqlite", "firestore"])
def make_state(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[MakeState]:
    """Opens a store again on each call, as another process would; `store` names the store."""
    client = request.getfixturevalue("client") if request.param == "firestore" else None
    roots: dict[str, str] = {}
    opened: list[tuple[int, State]] = []

    def make(clock: Clock | None = None, store: str = "main") -> State:
        state: State
        if client is None:
            state = SqliteState(tmp_path / f"{store}.sqlite", clock or Clock())
        else:
            state = FirestoreState(client, roots.setdefault(store, unique_root()), clock or Clock())
        opened.append((threading.get_ident(), state))
        return state

    yield make
    for thread, state in opened:
        if thread == threading.get_ident():  # a racing thread closes its own
            state.close()


@pytest.fixture
def client(firestore_emulator: Any, firestore_client: Any) -> Any:
    """The session's emulator client, once it is known to be still running."""
    firestore_emulator.check()
    return firestore_client


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def state(make_state: MakeState, clock: Clock) -> State:
    return make_state(clock)


def email(key: str, subject: str = "Hello") -> RenderedEmail:
    return RenderedEmail(
        key, f"<{key}@example>", "flow@example.com", ("a@x.example",), subject, b""
    )


def status_of(state: State, key: str) -> str | None:
    entry = state.ledger_entry(key)
    return entry[1] if entry else None


def pending_emails(state: State) -> list[tuple[RenderedEmail, str]]:
    return [entry for key in state.pending_keys() if (entry := state.ledger_entry(key))]


def pending_keys(state: State) -> list[tuple[str, str]]:
    return [(e.key, status) for e, status in pending_emails(state)]


def test_snapshot_rows_round_trip_and_none_deletes_a_row(state: State) -> None:
    state.commit_journal(
        {"invoices": {"INV-1": {"values": {"amount": 1.5}}, "INV-2": {"state": "x"}}},
        {},
    )
    state.commit_journal({"invoices": {"INV-1": None, "INV-3": {"values": {}}}, "deals": {}}, {})
    assert state.load_snapshot() == {"invoices": {"INV-2": {"state": "x"}, "INV-3": {"values": {}}}}


def test_meta_round_trips_and_keeps_keys_a_commit_does_not_mention(state: State) -> None:
    state.commit_journal({}, {"book_version": "v1", "next_invoice_no": 3, "context": [1, [2]]})
    state.commit_journal({}, {"book_version": "v2"})
    assert state.load_meta() == {"book_version": "v2", "next_invoice_no": 3, "context": [1, [2]]}


def test_a_saved_journal_loads_back_with_its_applied_flag(state: State) -> None:
    assert state.load_journal() is None
    journal = {"changes": {"log": [["a", "b"]]}, "snapshot": {}, "applied": False}
    state.save_journal(journal, [email("k1")])
    assert state.load_journal() == journal
    state.mark_journal_applied()
    assert state.load_journal() == {**journal, "applied": True}
    assert pending_keys(state) == []  # queued, not yet pending: the journal is not committed


def test_commit_turns_queued_emails_pending_and_ends_the_journal(state: State) -> None:
    state.save_journal({"n": 1}, [email("k1"), email("k2")])
    state.commit_journal({"invoices": {"INV-1": {"v": 1}}}, {"book_version": "v"})
    assert state.load_journal() is None
    assert pending_keys(state) == [("k1", "pending"), ("k2", "pending")]
    state.commit_journal({"invoices": {"INV-1": {"v": 1}}}, {"book_version": "v"})  # again
    assert pending_keys(state) == [("k1", "pending"), ("k2", "pending")]
    assert state.load_snapshot() == {"invoices": {"INV-1": {"v": 1}}}


def test_drop_removes_only_queued_emails_and_the_journal(state: State) -> None:
    state.save_journal({"n": 1}, [email("k1")])
    state.commit_journal({}, {})
    state.save_journal({"n": 2}, [email("k2")])
    state.drop_journal()
    assert state.load_journal() is None
    assert pending_keys(state) == [("k1", "pending")]
    assert status_of(state, "k2") is None


def test_ledger_moves_pending_sending_sent_in_queue_order(state: State, clock: Clock) -> None:
    state.save_journal({}, [email("late-b"), email("late-a")])
    clock.now -= 60  # queued earlier, by a tick with an older clock
    state.save_journal({}, [email("early")])
    state.commit_journal({}, {})
    assert pending_keys(state) == [
        ("early", "pending"),
        ("late-b", "pending"),
        ("late-a", "pending"),
    ]
    state.mark_sending("early")
    state.mark_sent("late-b", "uncertain")
    state.mark_sending("late-a")
    state.mark_sent("late-a")
    assert pending_keys(state) == [("early", "sending")]
    assert (status_of(state, "late-b"), status_of(state, "late-a")) == ("uncertain", "sent")
    state.mark_sent("missing")  # like UPDATE ... WHERE: nothing to change, no error
    assert status_of(state, "missing") is None


def test_a_key_the_ledger_knows_is_never_queued_again(state: State) -> None:
    state.save_journal({}, [email("k1", "first"), email("k2")])
    state.commit_journal({}, {})
    state.mark_sent("k1")
    state.save_journal({}, [email("k1", "again"), email("k2", "again"), email("k3")])
    state.commit_journal({}, {})
    pending = pending_emails(state)
    assert [(e.key, e.subject) for e, _ in pending] == [("k2", "Hello"), ("k3", "Hello")]
    assert status_of(state, "k1") == "sent"


def test_an_email_round_trips_exactly(state: State) -> None:
    sent = RenderedEmail("k", "<m@x>", "f@x", ("a@x", "b@x"), "Счёт №1", bytes(range(256)))
    state.save_journal({}, [sent])
    state.commit_journal({}, {})
    assert pending_emails(state) == [(sent, "pending")]


def test_the_lock_refuses_others_while_the_lease_lasts(make_state: MakeState, clock: Clock) -> None:
    first, second = make_state(clock), make_state(clock)
    assert first.acquire_lock("a", 300)
    assert not second.acquire_lock("b", 300)
    assert first.acquire_lock("a", 300)  # the same owner renews
    second.release_lock("b")  # not the owner: nothing happens
    assert not second.acquire_lock("b", 300)
    clock.now += 301
    assert second.acquire_lock("b", 300)  # a stale lease is taken over
    assert not first.acquire_lock("a", 300)
    second.release_lock("b")
    assert first.acquire_lock("a", 300)


def test_two_ticks_racing_for_the_lock_one_wins(make_state: MakeState, clock: Clock) -> None:
    for round_no in range(3):
        barrier, wins = threading.Barrier(2), list[str]()

        def race(owner: str, barrier: threading.Barrier, wins: list[str]) -> None:
            state = make_state(clock)
            barrier.wait()
            if state.acquire_lock(owner, 300):
                wins.append(owner)
            state.close()

        threads = [
            threading.Thread(target=race, args=(f"r{round_no}-{i}", barrier, wins)) for i in (1, 2)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert len(wins) == 1
        clock.now += 301


def test_a_scheduled_run_is_claimed_once(make_state: MakeState, clock: Clock) -> None:
    first, second = make_state(clock), make_state(clock)
    assert first.claim_scheduled_run("2026-11-28T09:00:00Z")
    assert not second.claim_scheduled_run("2026-11-28T09:00:00Z")
    assert not first.claim_scheduled_run("2026-11-28T09:00:00Z")
    assert second.claim_scheduled_run("2026-11-28T09:01:00Z")


def test_a_journal_over_one_mebibyte_round_trips(state: State) -> None:
    log = [
        [f"2026-11-28T09:{i % 60:02d}", "invoice", f"INV-{i:06d}", "x" * 80] for i in range(30_000)
    ]
    journal = {"changes": {"log": log}, "note": "Счёт " * 1000, "applied": False}
    state.save_journal(journal, [email("k1")])
    assert state.load_journal() == journal
    state.commit_journal({}, {})
    assert state.load_journal() is None
    assert pending_keys(state) == [("k1", "pending")]


def noise(seed: object, length: int) -> str:
    """Text that compresses as little as real notes do (the shards are compressed)."""
    digests = (hashlib.sha256(f"{seed}:{j}".encode()).hexdigest() for j in range(length // 64 + 1))
    return "".join(digests)[:length]


def big_rows(count: int, start: int = 0) -> dict[str, dict[str, Any]]:
    return {
        f"INV-{i:06d}": {
            "values": {
                "id": f"INV-{i:06d}",
                "supplier": "Acme Steel",
                "note": noise(i, 700),
                "n": i,
            },
            "state": {"status": "awaiting_decision", "round": 1},
        }
        for i in range(start, start + count)
    }


def test_five_thousand_rows_round_trip_and_ten_changes_write_a_few_documents(
    state: State,
) -> None:
    rows = big_rows(5000)
    state.commit_journal({"invoices": rows}, {"book_version": "v1"})
    first = counters(state)
    assert state.load_snapshot() == {"invoices": rows}
    loaded = counters(state)
    changed = {f"INV-{i:06d}": {"values": {"n": -i}} for i in range(0, 5000, 500)}
    state.commit_journal({"invoices": changed}, {"book_version": "v2"})
    second = counters(state)
    assert state.load_snapshot() == {"invoices": {**rows, **changed}}
    if isinstance(state, FirestoreState):
        print(f"Firestore reads/writes: commit 5,000 rows {first}, load {loaded}, 10 rows {second}")
        meta = state.client.document(f"{state.root.path}/state/meta").get().to_dict() or {}
        count = meta["shards"]["invoices"]
        touched = {firestore_shards.shard_of("invoices", r, count) for r in changed}
        assert count > 4  # the rows need several shards ...
        assert second[1] == len(touched) + 1  # ... and a change rewrites only its own, and meta
        assert second[0] <= len(touched) + 3


def counters(state: State) -> tuple[int, int]:
    """Documents read and written since the last call (Firestore only)."""
    if not isinstance(state, FirestoreState):
        return (0, 0)
    done = (state.reads, state.writes)
    state.reads = state.writes = 0
    return done


def test_firestore_shards_stay_small_as_the_snapshot_grows(client: Any) -> None:
    state = FirestoreState(client, unique_root())
    expected: dict[str, Any] = {}
    for start in range(0, 4000, 1000):
        rows = big_rows(1000, start)
        state.commit_journal({"invoices": rows}, {})
        expected.update(rows)
    assert state.load_snapshot() == {"invoices": expected}
    docs = list(client.document(state.root.path).collection("snapshot").stream())
    shards = {doc.get("of") for doc in docs}
    assert len(shards) == 1  # the old layout is gone
    assert len(docs) > 1
    assert max(len(doc.get("z")) for doc in docs) < firestore_shards.SPLIT_BYTES


def test_firestore_keeps_a_huge_row_and_refuses_one_over_a_mebibyte(client: Any) -> None:
    state = FirestoreState(client, unique_root())
    rows = {**big_rows(300), "INV-HUGE": {"values": {"comment": noise("huge", 600_000)}}}
    state.commit_journal({"invoices": rows}, {"v": 1})
    assert state.load_snapshot() == {"invoices": rows}
    assert state.load_meta() == {"v": 1}
    assert len(list(client.document(state.root.path).collection("snapshot").stream())) <= 4
    too_big = {"INV-HUGE": {"values": {"comment": noise("big", 2_400_000)}}, "INV-000001": None}
    with pytest.raises(FirestoreStateError) as error:
        state.commit_journal({"invoices": too_big}, {"v": 2})
    assert error.value.record == "INV-HUGE"
    assert state.load_snapshot() == {"invoices": rows}  # nothing was written
    assert state.load_meta() == {"v": 1}


def test_a_firestore_commit_cut_short_anywhere_finishes_the_same(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(firestore_writes, "BATCH_WRITES", 1)  # one commit per write
    flush = firestore_writes.Writes.flush
    changes = {"invoices": {**big_rows(2000, 3), "INV-000000": None}}  # 2,000 rows: re-sharded

    def prepared() -> FirestoreState:
        state = FirestoreState(client, unique_root())
        state.commit_journal({"invoices": big_rows(3)}, {"v": 0})
        state.save_journal({"n": 1, "applied": False}, [email("k1"), email("k2")])
        return state

    clean = prepared()
    clean.commit_journal(changes, {"v": 1})
    expected = (clean.load_snapshot(), clean.load_meta(), pending_keys(clean))
    for crash_after in itertools.count():
        state, commits = prepared(), [0]

        def crashing(writes: Any, commits: list[int] = commits, limit: int = crash_after) -> None:
            if commits[0] >= limit:
                raise Crash("commit")
            commits[0] += 1
            flush(writes)

        monkeypatch.setattr(firestore_writes.Writes, "flush", crashing)
        try:
            state.commit_journal(changes, {"v": 1})
        except Crash:
            pass
        else:
            break
        finally:
            monkeypatch.setattr(firestore_writes.Writes, "flush", flush)
        journal = state.load_journal()  # what the next tick finds
        if journal is not None:
            assert journal == {"n": 1, "applied": False}
            state.commit_journal(changes, {"v": 1})
        assert (state.load_snapshot(), state.load_meta(), pending_keys(state)) == expected
        assert state.load_journal() is None
    assert crash_after > 8  # shards, stale shards, the outbox, meta and the journal: each cut
    shards = clean.client.document(f"{clean.root.path}/state/meta").get().get("shards")
    assert shards["invoices"] > 1


def test_a_firestore_save_cut_short_leaves_no_email_to_send(
    client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(firestore_writes, "BATCH_WRITES", 1)
    flush = firestore_writes.Writes.flush
    state = FirestoreState(client, unique_root())
    commits = [0]

    def crashing(writes: Any) -> None:
        if commits[0] >= 2:  # the chunk and one email are stored, not the head
            raise Crash("save")
        commits[0] += 1
        flush(writes)

    monkeypatch.setattr(firestore_writes.Writes, "flush", crashing)
    with pytest.raises(Crash):
        state.save_journal({"n": 1}, [email("k1"), email("k2")])
    monkeypatch.setattr(firestore_writes.Writes, "flush", flush)
    assert state.load_journal() is None
    state.commit_journal({}, {"book_version": "v"})  # the next tick found nothing to do
    assert pending_keys(state) == []
    state.save_journal({"n": 2}, [email("k2")])
    state.commit_journal({}, {})
    assert pending_keys(state) == [("k2", "pending")]


# -- the engine on each store ----------------------------------------------------------------
def play(
    make_state: MakeState, store: str, crash_at: str | None = None, crash_step: int = -1
) -> tuple[FakeBook, FakeMail]:
    book, mail = FakeBook(PEOPLE), FakeMail()

    def engine(crash: str | None) -> Engine:
        state = make_state(store=store)
        return Engine(book, state, mail, EmailRenderer(), load_schema(), dies_at(crash))

    for index, edit in enumerate(STORY):
        edit(book)
        now = NOW + timedelta(hours=index)
        try:
            engine(crash_at if index == crash_step else None).tick(now)
        except Crash:
            engine(None).tick(now)
    return book, mail


def test_an_idle_tick_reads_and_writes_a_handful_of_documents(make_state: MakeState) -> None:
    book = FakeBook(PEOPLE)
    book.tabs["invoices"] += [invoice(id=None, invoice_no=f"A-{i}") for i in range(50)]
    state = make_state()
    engine = Engine(book, state, FakeMail(), EmailRenderer(), load_schema())
    engine.tick(NOW)
    engine.tick(NOW + timedelta(minutes=1))  # sees the statuses and IDs the first tick wrote
    counters(state)
    assert engine.tick(NOW + timedelta(minutes=2)).outcome == "idle"
    reads, writes = counters(state)
    if isinstance(state, FirestoreState):
        print(f"Firestore reads/writes of an idle tick: {reads}, {writes}")
        assert reads <= 5  # lock, journal, meta, ledger, unlock: none grows with rows
        assert writes <= 2  # the lease taken and released


def test_the_engine_story_ends_closed_with_each_email_once(make_state: MakeState) -> None:
    book, mail = play(make_state, "main")
    assert book.row("INV-000001")["status"] == "Closed"
    keys = [e.key for e in mail.sent]
    assert len(keys) == len(set(keys)) == 7


@pytest.mark.parametrize(
    "crash_at",
    ["read", "journal_saved", "sheet_applied", "email_sent", "before_commit", "committed"],
)
@pytest.mark.parametrize("crash_step", [0, 3])
def test_the_engine_killed_at_any_step_and_rerun_ends_the_same(
    make_state: MakeState, crash_at: str, crash_step: int
) -> None:
    clean_book, clean_mail = play(make_state, "clean")
    crashed_book, crashed_mail = play(make_state, "crashed", crash_at, crash_step)
    assert crashed_book.tabs == clean_book.tabs
    assert [e.key for e in crashed_mail.sent] == [e.key for e in clean_mail.sent]
    assert [r[1:] for r in crashed_book.log] == [r[1:] for r in clean_book.log]
    assert crashed_book.row("INV-000001")["status"] == "Closed"
