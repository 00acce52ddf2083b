"""State in Firestore for the Cloud deployment: the StateStore port with SQLite's semantics.

Layout under the root document (`sheetflow/<book id>`):

    state/lock               {owner, expires}: the tick's lease, taken in a transaction
    state/meta               {values: {key: JSON}, shards: N}: meta and the snapshot's layout
    snapshot/<N>-<i>         {of: N, data: JSON {tab: {record: row}}}: rows hashed to N shards
    journal/head             {gen, chunks, applied}: the uncommitted plan ...
    journal/<gen>-<i>        {gen, data: bytes}: ... in chunks, as it may exceed 1 MiB
    ledger/<sha256 of key>   one email: status queued → pending → sending → sent | uncertain
    runs/<sha256 of key>     one claimed Cloud Scheduler run

Firestore has no transaction big enough for a large tick, so each multi-document change is a
sequence of writes in an order that makes every prefix safe: a tick killed half-way leaves the
journal in place, and finishing it again (commit is idempotent) gives the same state. Rows go
to shards by a stable hash; a commit reads and rewrites only the shards its rows fall in, and
doubles the shard count when one grows past ~512 KB, so no document nears Firestore's 1 MiB.
`reads` and `writes` count documents as Firestore bills them (an empty query reads one).
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists, NotFound
from google.cloud import firestore

from ..errors import SheetflowError
from ..model import Remember, RenderedEmail, Snapshot
from ..record import as_json, freeze, share

JSON = dict[str, Any]
Shard = dict[str, dict[str, JSON]]

SHARD_SPLIT_BYTES = 512_000  # a shard past this (its biggest row aside) is split in two ...
SHARD_FULL_BYTES = 900_000  # ... and so is one past this, whatever its rows
SHARD_TARGET_BYTES = 256_000  # after splitting, shards hold this (their biggest row aside)
DOC_LIMIT_BYTES = 1_000_000  # Firestore refuses documents over 1 MiB (1,048,576 bytes)
CHUNK_BYTES = 900_000  # journal chunk size
TIMEOUT = 30.0  # seconds per Firestore call: a hung call must not eat the whole tick
MAX_SHARDS = 4096
_BATCH_BYTES = 3_000_000  # Firestore refuses requests over 10 MiB, its emulator over 4 MiB
_BATCH_WRITES = 500
_GET_MANY = 1000  # documents per BatchGetDocuments request
_SHARDS_PER_PASS = 32  # shards read, changed and staged together by a commit (≤ ~16 MB)
_QUEUED, _LIVE = "queued", ["pending", "sending"]
_RUN_KEEP_SECONDS = 30 * 86400


class FirestoreStateError(SheetflowError):
    """The state cannot be stored in Firestore (e.g. one row alone is near 1 MiB)."""


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _shard_of(tab: str, record: str, shards: int) -> int:
    return int(_digest(f"{tab}\x00{record}")[:16], 16) % shards


def _encode(shard: Shard) -> str:
    return json.dumps(
        shard, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=as_json
    )


class _Writes:
    """Writes committed in order, in as few batches as Firestore's limits allow.

    Everything before a flush is stored before anything after it, so a crash leaves a prefix.
    """

    def __init__(self, state: FirestoreState) -> None:
        self._state = state
        self._batch = state.client.batch()
        self._count = 0
        self._bytes = 0

    def set(self, ref: Any, data: JSON) -> None:
        self._add(_size(data)).set(ref, data)

    def update(self, ref: Any, data: JSON) -> None:
        self._add(_size(data)).update(ref, data)

    def delete(self, ref: Any) -> None:
        self._add(0).delete(ref)

    def _add(self, size: int) -> Any:
        """The batch with room for one more write of `size` bytes."""
        size += 200  # the document's name and the write's framing
        if self._count >= _BATCH_WRITES or (self._count and self._bytes + size > _BATCH_BYTES):
            self.flush()
        self._count, self._bytes = self._count + 1, self._bytes + size
        return self._batch

    def flush(self) -> None:
        if self._count:
            self._batch.commit(timeout=TIMEOUT)
            self._state.writes += self._count
        self._batch = self._state.client.batch()
        self._count = self._bytes = 0


class FirestoreState:
    """The StateStore port on Firestore; safe to kill between any two writes."""

    def __init__(
        self,
        client: firestore.Client,
        root: str = "sheetflow/default",
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.client = client
        self.root = client.document(root)
        self._clock = clock
        self.reads = 0
        self.writes = 0
        self._lock = self.root.collection("state").document("lock")
        self._meta = self.root.collection("state").document("meta")
        self._snapshot = self.root.collection("snapshot")
        self._journal = self.root.collection("journal")
        self._head = self._journal.document("head")
        self._ledger = self.root.collection("ledger")
        self._runs = self.root.collection("runs")

    # -- counted reads ---------------------------------------------------------------------
    def _get(self, ref: Any, transaction: Any = None) -> JSON | None:
        snap = ref.get(transaction=transaction, timeout=TIMEOUT)
        self.reads += 1
        return snap.to_dict() if snap.exists else None

    def _get_many(self, refs: list[Any]) -> dict[str, JSON]:
        found: dict[str, JSON] = {}
        # In slices: one BatchGetDocuments naming ~25k documents (a first tick on 100k rows
        # queues that many emails) exceeds the request size limit (4 MiB on the emulator).
        for start in range(0, len(refs), _GET_MANY):
            chunk = refs[start : start + _GET_MANY]
            found.update(
                {
                    s.id: s.to_dict() or {}
                    for s in self.client.get_all(chunk, timeout=TIMEOUT)
                    if s.exists
                }
            )
        self.reads += len(refs)
        return found

    def _query(self, query: Any) -> list[Any]:
        docs = list(query.stream(timeout=TIMEOUT))
        self.reads += max(1, len(docs))
        return docs

    def _queued(self) -> list[Any]:
        status = firestore.FieldFilter("status", "==", _QUEUED)
        return self._query(self._ledger.where(filter=status).select(["status"]))

    # -- lock ------------------------------------------------------------------------------
    def acquire_lock(self, owner: str, lease_seconds: float) -> bool:
        now = self._clock()

        def take(transaction: Any) -> bool:
            held = self._get(self._lock, transaction)
            if held and held["owner"] != owner and held["expires"] > now:
                return False
            transaction.set(self._lock, {"owner": owner, "expires": now + lease_seconds})
            return True

        won = bool(firestore.transactional(take)(self.client.transaction()))
        self.writes += won
        return won

    def release_lock(self, owner: str) -> None:
        def release(transaction: Any) -> bool:
            held = self._get(self._lock, transaction)
            if held and held["owner"] == owner:
                transaction.delete(self._lock)
                return True
            return False

        self.writes += bool(firestore.transactional(release)(self.client.transaction()))

    # -- snapshot and meta -----------------------------------------------------------------
    def _layout(self) -> tuple[dict[str, str], int]:
        doc = self._get(self._meta) or {}
        return dict(doc.get("values", {})), int(doc.get("shards", 1))

    def load_snapshot(self, remember: Remember | None = None) -> Snapshot:
        _, shards = self._layout()
        snapshot: Snapshot = {}
        current = self._snapshot.where(filter=firestore.FieldFilter("of", "==", shards))
        count = 0
        for doc in current.stream(
            timeout=TIMEOUT
        ):  # one shard at a time: its JSON text is freed once decoded
            count += 1
            for tab, rows in json.loads(doc.get("data")).items():
                into = snapshot.setdefault(tab, {})
                for record, entry in rows.items():
                    row = freeze(entry)
                    into[share(record)] = remember(tab, record, row) if remember else row
        self.reads += max(1, count)  # as _query counts
        return snapshot

    def load_meta(self) -> JSON:
        values, _ = self._layout()
        return {k: json.loads(v) for k, v in values.items()}

    def _shard_ref(self, shards: int, index: int) -> Any:
        return self._snapshot.document(f"{shards}-{index}")

    def _write_snapshot(
        self, changes: Mapping[str, Mapping[str, JSON | None]], shards: int, writes: _Writes
    ) -> tuple[int, list[Any]]:
        """Stage the touched shards (or a re-sharded snapshot): the shard count, stale shards."""
        touched: dict[int, list[tuple[str, str, JSON | None]]] = {}
        for tab, rows in changes.items():
            for record, data in rows.items():
                touched.setdefault(_shard_of(tab, record, shards), []).append((tab, record, data))
        if not touched:
            return shards, []
        # A few shards at a time: 1 % of 200,000 rows edited touches every shard, and all of
        # them decoded at once would need several times the snapshot's size in memory.
        indexes = sorted(touched)
        for start in range(0, len(indexes), _SHARDS_PER_PASS):
            part = indexes[start : start + _SHARDS_PER_PASS]
            found = self._get_many([self._shard_ref(shards, i) for i in part])
            for index in part:
                doc = found.get(f"{shards}-{index}")
                shard: Shard = json.loads(doc["data"]) if doc else {}
                _apply(shard, touched[index])
                text = _encode(shard)
                if shards < MAX_SHARDS and _needs_split(text, shard):
                    # Shards already written hold these rows too: resharding rewrites them all.
                    return self._reshard(changes, shards, writes)
                ref = self._shard_ref(shards, index)
                if shard:
                    writes.set(ref, {"of": shards, "data": _checked(text, shard)})
                elif doc is not None:
                    writes.delete(ref)
        return shards, []

    def _reshard(
        self, changes: Mapping[str, Mapping[str, JSON | None]], shards: int, writes: _Writes
    ) -> tuple[int, list[Any]]:
        """Double the shard count until shards are small; old shards go after the switch."""
        every = self._query(self._snapshot)
        rows: list[tuple[str, str, JSON | None]] = []
        for doc in every:
            if doc.get("of") == shards:
                for tab, records in json.loads(doc.get("data")).items():
                    rows += [(tab, record, data) for record, data in records.items()]
        rows += [(t, r, d) for t, recs in changes.items() for r, d in recs.items()]
        merged: Shard = {}
        _apply(merged, rows)
        sizes = _sizes(merged)
        new = shards * 2
        while new < MAX_SHARDS and _worst_spare(sizes, new) > SHARD_TARGET_BYTES:
            new *= 2
        buckets: dict[int, Shard] = {}
        for tab, records in merged.items():
            for record, data in records.items():
                bucket = buckets.setdefault(_shard_of(tab, record, new), {})
                bucket.setdefault(tab, {})[record] = data
        checked = {i: _checked(_encode(shard), shard) for i, shard in buckets.items()}
        for index, text in sorted(checked.items()):
            writes.set(self._shard_ref(new, index), {"of": new, "data": text})
        return new, [doc.reference for doc in every if doc.get("of") != new]

    def commit_journal(
        self, snapshot_changes: Mapping[str, Mapping[str, JSON | None]], meta: JSON
    ) -> None:
        """Shards, then meta, then the ledger, then the journal: each step safe to repeat."""
        values, shards = self._layout()
        writes = _Writes(self)
        shards, stale = self._write_snapshot(snapshot_changes, shards, writes)
        values.update({k: json.dumps(v) for k, v in meta.items()})
        writes.set(self._meta, {"values": values, "shards": shards})
        for ref in stale:  # only after the switch to the new shard count
            writes.delete(ref)
        journal = self._query(self._journal.select(["gen"]))
        has_journal = any(doc.id == "head" for doc in journal)
        for doc in self._queued():  # without a journal, queued emails are a crashed save's
            if has_journal:
                writes.update(doc.reference, {"status": "pending"})
            else:
                writes.delete(doc.reference)
        self._delete_journal(journal, writes)
        writes.flush()

    # -- journal ---------------------------------------------------------------------------
    def _delete_journal(self, docs: list[Any], writes: _Writes) -> None:
        """The head goes first: chunks without a head are ignored and cleaned up later."""
        for doc in sorted(docs, key=lambda d: d.id != "head"):
            writes.delete(doc.reference)

    def load_journal(self) -> JSON | None:
        head = self._get(self._head)
        if head is None:
            return None
        names = [f"{head['gen']}-{i}" for i in range(head["chunks"])]
        chunks = self._get_many([self._journal.document(n) for n in names])
        if len(chunks) != len(names):
            raise FirestoreStateError("the saved tick journal is incomplete; delete journal/head")
        data = b"".join(chunks[n]["data"] for n in names)
        return {**json.loads(data), "applied": bool(head["applied"])}

    def save_journal(self, journal: JSON, emails: list[RenderedEmail]) -> None:
        """Chunks and ledger entries first, the head last: no head means no journal."""
        old = self._get(self._head)
        writes = _Writes(self)
        if old is None:
            for doc in self._queued():  # left by a save that crashed before its head
                writes.delete(doc.reference)
        gen = uuid.uuid4().hex
        data = json.dumps(journal, default=as_json).encode()
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        for i, piece in enumerate(pieces):
            writes.set(self._journal.document(f"{gen}-{i}"), {"gen": gen, "data": piece})
        self._queue(emails, writes)
        writes.set(self._head, {"gen": gen, "chunks": len(pieces), "applied": False})
        if old is not None and old["gen"] != gen:
            for i in range(old["chunks"]):
                writes.delete(self._journal.document(f"{old['gen']}-{i}"))
        writes.flush()

    def _queue(self, emails: list[RenderedEmail], writes: _Writes) -> None:
        """INSERT OR IGNORE: a key the ledger already knows (even sent) is left as it is."""
        first = {_digest(e.key): e for e in reversed(emails)}
        known = self._get_many([self._ledger.document(d) for d in first])
        now, seq = self._clock(), time.time_ns()
        for position, email in enumerate(emails):
            name = _digest(email.key)
            if name in known or first.get(name) is not email:
                continue
            if len(email.raw) > DOC_LIMIT_BYTES:
                raise FirestoreStateError(f"email “{email.subject}” is too large to queue")
            doc = {
                "key": email.key,
                "message_id": email.message_id,
                "sender": email.sender,
                "recipients": list(email.to),
                "subject": email.subject,
                "raw": email.raw,
                "status": _QUEUED,
                "queued_at": now,
                "seq": seq + position,
            }
            writes.set(self._ledger.document(name), doc)

    def mark_journal_applied(self) -> None:
        self._update(self._head, {"applied": True})

    def drop_journal(self) -> None:
        writes = _Writes(self)
        self._delete_journal(self._query(self._journal.select(["gen"])), writes)
        for doc in self._queued():
            writes.delete(doc.reference)
        writes.flush()

    # -- email ledger ----------------------------------------------------------------------
    def _update(self, ref: Any, data: JSON) -> None:
        """UPDATE ... WHERE: nothing happens when the document is missing."""
        try:
            ref.update(data)
        except NotFound:
            return
        self.writes += 1

    def pending_keys(self) -> list[str]:
        live = self._ledger.where(filter=firestore.FieldFilter("status", "in", _LIVE))
        # Without the messages: they are read one at a time as they are sent.
        docs = [d.to_dict() for d in self._query(live.select(["key", "queued_at", "seq"]))]
        docs.sort(key=lambda d: (d["queued_at"], d["seq"]))
        return [str(d["key"]) for d in docs]

    def ledger_entry(self, key: str) -> tuple[RenderedEmail, str] | None:
        d = self._get(self._ledger.document(_digest(key)))
        if d is None:
            return None
        email = RenderedEmail(
            d["key"],
            d["message_id"],
            d["sender"],
            tuple(d["recipients"]),
            d["subject"],
            bytes(d["raw"]),
        )
        return email, str(d["status"])

    def mark_sending(self, key: str) -> None:
        self._update(self._ledger.document(_digest(key)), {"status": "sending"})

    def mark_sent(self, key: str, outcome: str = "sent") -> None:
        data = {"status": outcome, "sent_at": self._clock()}
        self._update(self._ledger.document(_digest(key)), data)

    # -- scheduled runs --------------------------------------------------------------------
    def claim_scheduled_run(self, key: str) -> bool:
        """True the first time a Cloud Scheduler run (its schedule time) is seen, then False.

        `expires_at` lets a Firestore TTL policy on the `runs` collection group prune old claims.
        """
        now = self._clock()
        expires = datetime.fromtimestamp(now + _RUN_KEEP_SECONDS, UTC)
        doc = {"key": key, "claimed_at": now, "expires_at": expires}
        try:
            self._runs.document(_digest(key)).create(doc, timeout=TIMEOUT)
        except AlreadyExists:
            self.reads += 1
            return False
        self.writes += 1
        return True

    def close(self) -> None:
        """The client belongs to the caller, who may share it; nothing to release here."""


def _apply(shard: Shard, rows: Iterable[tuple[str, str, JSON | None]]) -> None:
    for tab, record, data in rows:
        if data is None:
            shard.get(tab, {}).pop(record, None)
            if tab in shard and not shard[tab]:
                del shard[tab]
        else:
            shard.setdefault(tab, {})[record] = data


def _size(value: Any) -> int:
    """Roughly what a value adds to a write request, in bytes."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(len(k) + _size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(map(_size, value))
    return 16


def _sizes(shard: Shard) -> dict[tuple[str, str], int]:
    """Each row's share of its shard's JSON, in bytes."""
    return {
        (tab, record): len(_encode({record: data}).encode())
        for tab, records in shard.items()
        for record, data in records.items()
    }


def _spare(sizes: Iterable[int]) -> int:
    """What splitting a shard could move out of it: everything but its biggest row."""
    listed = list(sizes)
    return sum(listed) - max(listed, default=0)


def _worst_spare(sizes: Mapping[tuple[str, str], int], shards: int) -> int:
    per_shard: dict[int, list[int]] = {}
    for (tab, record), size in sizes.items():
        per_shard.setdefault(_shard_of(tab, record, shards), []).append(size)
    return max(map(_spare, per_shard.values()), default=0)


def _needs_split(text: str, shard: Shard) -> bool:
    size = len(text.encode())
    # Only a shard past the split size can have that much besides its biggest row.
    return size > SHARD_FULL_BYTES or (
        size > SHARD_SPLIT_BYTES and _spare(_sizes(shard).values()) > SHARD_SPLIT_BYTES
    )


def _checked(text: str, shard: Shard) -> str:
    """The shard's JSON, or a clear error naming its biggest row when it cannot be stored."""
    if len(text.encode()) <= DOC_LIMIT_BYTES:
        return text
    sizes = _sizes(shard)
    tab, record = max(sizes, key=lambda k: sizes[k])
    raise FirestoreStateError(
        f"row {record} is too large to keep in Firestore ({sizes[tab, record]} bytes of JSON)",
        tab=tab,
        record=record,
    )
