"""A warm instance keeps what it read between ticks, and never acts on a stale copy.

Two Cloud Functions (invoice_flow and deal_watch) share one Firestore state and take turns
with the lock: each must see what the other wrote, while reading only what changed.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from functions.adapters.firestore.state import FirestoreState
from functions.model import RenderedEmail

LEASE = 300.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def client(firestore_emulator: Any, firestore_client: Any) -> Any:
    firestore_emulator.check()
    return firestore_client


def email(key: str) -> RenderedEmail:
    return RenderedEmail(key, f"<{key}@x>", "flow@example.com", ("a@x.example",), "Hi", b"raw")


def counted(state: FirestoreState) -> tuple[int, int]:
    done = (state.reads, state.writes)
    state.reads = state.writes = 0
    return done


def tick(
    state: FirestoreState,
    owner: str,
    changes: dict[str, Any] | None = None,
    emails: list[RenderedEmail] | None = None,
    tabs: tuple[str, ...] = ("invoices", "deals"),
) -> dict[str, Any]:
    """What a tick does with the state: lock, journal, meta, snapshot, commit, send, unlock."""
    assert state.acquire_lock(owner, LEASE)
    assert state.load_journal() is None
    meta = state.load_meta()
    snapshot = state.load_snapshot(tabs=tabs)
    if changes or emails:
        state.save_journal({"n": 1}, emails or [])
        state.mark_journal_applied()
        state.commit_journal(changes or {}, {**meta, "ticks": meta.get("ticks", 0) + 1})
    for key in state.pending_keys():
        entry = state.ledger_entry(key)
        assert entry is not None
        assert entry[1] == "pending"
        state.mark_sending(key)
        state.mark_sent(key)
    state.release_lock(owner)
    return {"meta": meta, "snapshot": {t: dict(r) for t, r in snapshot.items()}}


def test_a_warm_instance_reads_two_documents_for_a_busy_tick(client: Any) -> None:
    root = f"sheetflow/copies-{uuid.uuid4().hex}"
    state = FirestoreState(client, root, Clock())
    rows = {f"INV-{i}": {"values": {"n": i}} for i in range(500)}
    tick(state, "one", {"invoices": rows}, [email(f"invoice:INV-{i}:x") for i in range(20)])
    counted(state)
    busy = {"invoices": {"INV-1": {"values": {"n": -1}}}}
    tick(state, "two", busy, [email(f"invoice:INV-1:y:{i}") for i in range(30)])
    reads, writes = counted(state)
    assert reads == 2  # the lock taken and let go: everything else was this instance's copy
    # lock ×2, journal (chunk, head, applied, 2 deletes), outbox ×2, shard, keys, meta: 12;
    # then two marks per email (sending, sent): an email never depends on another's mark
    assert writes == 12 + 2 * 30
    seen = tick(state, "three")
    assert seen["snapshot"]["invoices"]["INV-1"] == {"values": {"n": -1}}
    assert counted(state)[0] == 2


def test_instances_taking_turns_see_each_others_writes_and_read_only_what_changed(
    client: Any,
) -> None:
    root = f"sheetflow/copies-{uuid.uuid4().hex}"
    invoices, deals = FirestoreState(client, root, Clock()), FirestoreState(client, root, Clock())
    tick(invoices, "inv-1", {"invoices": {"INV-1": {"v": 1}}}, [email("invoice:INV-1:a")])
    tick(deals, "deal-1", {"deals": {"D-1": {"v": 1}}}, [email("deal:D-1:a")], tabs=("deals",))
    counted(invoices)
    seen = tick(invoices, "inv-2", {"invoices": {"INV-2": {"v": 2}}}, tabs=("invoices",))
    assert seen["meta"]["ticks"] == 2  # the deal function's commit is seen
    assert seen["snapshot"] == {"invoices": {"INV-1": {"v": 1}}}
    reads, _writes = counted(invoices)
    # lock, meta and the deal tick's outbox (it changed them), unlock; not its own shard
    assert reads <= 6
    seen = tick(deals, "deal-2", tabs=("deals",))
    assert seen["meta"]["ticks"] == 3
    assert seen["snapshot"] == {"deals": {"D-1": {"v": 1}}}
    both = FirestoreState(client, root, Clock())
    assert both.load_snapshot() == {
        "invoices": {"INV-1": {"v": 1}, "INV-2": {"v": 2}},
        "deals": {"D-1": {"v": 1}},
    }
    assert both.ledger_entry("invoice:INV-1:a")[1] == "sent"  # type: ignore[index]
    assert both.ledger_entry("deal:D-1:a")[1] == "sent"  # type: ignore[index]


def test_after_a_holder_died_nothing_copied_is_trusted(client: Any) -> None:
    root = f"sheetflow/copies-{uuid.uuid4().hex}"
    clock = Clock()
    warm, other = FirestoreState(client, root, clock), FirestoreState(client, root, clock)
    tick(warm, "warm-1", {"invoices": {"INV-1": {"v": 1}}})
    # Another instance commits and dies before letting the lock go (its versions unpublished).
    assert other.acquire_lock("dies", LEASE)
    other.commit_journal({"invoices": {"INV-1": {"v": 2}}}, {"ticks": 9})
    clock.now += LEASE + 1
    counted(warm)
    seen = tick(warm, "warm-2")
    assert seen["snapshot"]["invoices"]["INV-1"] == {"v": 2}
    assert seen["meta"]["ticks"] == 9
    assert counted(warm)[0] >= 4  # lock, meta, journal, shard read again


def test_a_write_made_without_the_lock_makes_every_copy_stale(client: Any) -> None:
    root = f"sheetflow/copies-{uuid.uuid4().hex}"
    warm = FirestoreState(client, root, Clock())
    tick(warm, "warm-1", {"invoices": {"INV-1": {"v": 1}}})
    FirestoreState(client, root, Clock()).commit_journal({"invoices": {"INV-1": {"v": 3}}}, {})
    assert tick(warm, "warm-2")["snapshot"]["invoices"]["INV-1"] == {"v": 3}


def test_a_store_of_sheetflow_1_is_moved_once_and_keeps_its_emails(client: Any) -> None:
    root = client.document(f"sheetflow/layout1-{uuid.uuid4().hex}")
    rows = {"invoices": {"INV-1": {"v": 1}}, "deals": {"D-1": {"v": 2}}}
    root.collection("snapshot").document("1-0").set({"of": 1, "data": json.dumps(rows)})
    values = {"book_version": json.dumps("v7")}
    root.collection("state").document("meta").set({"values": values, "shards": 1})
    for seq, (key, status) in enumerate(
        [
            ("invoice:INV-1:sent", "sent"),
            ("invoice:INV-1:late", "pending"),
            ("deal:D-1:x", "sending"),
        ]
    ):
        e = email(key)
        root.collection("ledger").document(uuid.uuid4().hex).set(
            {
                "key": key,
                "message_id": e.message_id,
                "sender": e.sender,
                "recipients": list(e.to),
                "subject": e.subject,
                "raw": e.raw,
                "status": status,
                "queued_at": 1.0,
                "seq": seq,
            }
        )
    state = FirestoreState(client, root.path, Clock())
    assert state.acquire_lock("first", LEASE)
    assert state.load_meta() == {"book_version": "v7"}
    assert state.load_snapshot() == rows
    assert state.pending_keys() == ["invoice:INV-1:late", "deal:D-1:x"]
    assert state.ledger_entry("deal:D-1:x")[1] == "sending"  # type: ignore[index]
    assert state.ledger_entry("invoice:INV-1:sent") is None  # sent: its key is kept, not its text
    state.save_journal({"n": 1}, [email("invoice:INV-1:sent"), email("invoice:INV-1:new")])
    state.commit_journal({}, {})
    assert state.pending_keys() == ["invoice:INV-1:late", "deal:D-1:x", "invoice:INV-1:new"]
    state.release_lock("first")
    assert list(root.collection("ledger").stream()) == []
    assert [d.id for d in root.collection("snapshot").stream()] == ["deals~1-0", "invoices~1-0"]
    again = FirestoreState(client, root.path, Clock())
    assert again.load_snapshot() == rows
    assert again.load_meta() == {"book_version": "v7"}


def test_a_ticks_emails_expire_30_days_after_the_last_is_sent_and_their_keys_stay(
    client: Any,
) -> None:
    root = f"sheetflow/copies-{uuid.uuid4().hex}"
    clock = Clock()
    state = FirestoreState(client, root, clock)
    tick(state, "one", emails=[email("invoice:INV-1:a"), email("invoice:INV-1:b")])
    (box,) = [d.to_dict() for d in client.document(root).collection("outbox").stream()]
    assert box["state"] == "done"
    assert box["expires_at"].timestamp() == pytest.approx(clock.now + 30 * 86400)
    # Once the TTL policy deleted it, the keys still keep both emails from going out again.
    for doc in client.document(root).collection("outbox").stream():
        doc.reference.delete()
    fresh = FirestoreState(client, root, clock)
    tick(fresh, "two", emails=[email("invoice:INV-1:a"), email("invoice:INV-1:c")])
    assert fresh.ledger_entry("invoice:INV-1:c")[1] == "sent"  # type: ignore[index]
    assert fresh.ledger_entry("invoice:INV-1:a") is None  # not queued again
