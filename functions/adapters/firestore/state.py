"""State in Firestore for the Cloud deployment: the StateStore port with SQLite's semantics.

Layout under the root document (`sheetflow/<book id>`):

    state/lock            {owner, expires, v}: the tick's lease, and each document's version
    state/meta            {values, layout: 2, shards: {tab: N}, keys: {group: N}, outbox: [...]}
    snapshot/<tab>~N-i    {tab, of, z}: a tab's rows hashed to N shards (firestore_shards)
    journal/head          {gen, chunks, applied, outbox}: the uncommitted plan and its emails ...
    journal/<gen>-<i>     {gen, data}: ... in chunks, as it may exceed 1 MiB
    outbox/<save>-<i>     a tick's emails and their statuses (firestore_outbox)
    keys/<group>-<i>      every email key the ledger accepted, packed
    runs/<sha256 of key>  one claimed Cloud Scheduler run

Firestore has no transaction big enough for a large tick, so each multi-document change is a
sequence of writes in an order that makes every prefix safe: a tick killed half-way leaves the
journal in place, and finishing it again (commit is idempotent) gives the same state.

Reads are what Firestore bills: a function instance reads through the copies it keeps
between ticks (firestore_documents). `reads` and `writes` count documents as billed.
"""

from __future__ import annotations

import hashlib
import json
import time
import uuid
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import Any

from google.api_core.exceptions import AlreadyExists
from google.cloud import firestore
from google.cloud.firestore_v1.field_path import FieldPath

from functions.adapters.firestore import outbox
from functions.adapters.firestore import shards as shards_
from functions.adapters.firestore.documents import HEAD, LAYOUT, META, CopiedDocuments
from functions.adapters.firestore.legacy import migrate
from functions.adapters.firestore.writes import TIMEOUT, Writes
from functions.errors import SheetflowError
from functions.model import Remember, RenderedEmail, Snapshot
from functions.record import as_json, freeze, share

JSON = dict[str, Any]

CHUNK_BYTES = 900_000  # journal chunk size
_RUN_KEEP_SECONDS = 30 * 86400
_ORPHAN_KEEP_SECONDS = 7 * 86400  # a save cut short: its unlisted documents, then TTL
_PENDING_KEEP_SECONDS = 180 * 86400  # an email that could not be sent for half a year
_DONE_KEEP_SECONDS = 30 * 86400  # a tick's sent emails, kept for inspection


class FirestoreStateError(SheetflowError):
    """The state cannot be stored in Firestore (e.g. one row alone is near 1 MiB)."""


class FirestoreState(CopiedDocuments):
    """The StateStore port on Firestore; safe to kill between any two writes."""

    # -- meta and snapshot -----------------------------------------------------------------
    def _meta_doc(self) -> JSON:
        doc = self._doc(META)
        if doc is not None and doc.get("layout") != LAYOUT:
            doc = migrate(self, doc, self._index_keys)
        return doc or {"values": {}, "layout": LAYOUT, "shards": {}, "keys": {}, "outbox": []}

    def load_meta(self) -> JSON:
        return {k: json.loads(v) for k, v in self._meta_doc().get("values", {}).items()}

    def load_snapshot(
        self, remember: Remember | None = None, tabs: Collection[str] | None = None
    ) -> Snapshot:
        snapshot: Snapshot = {}
        for tab, count in self._meta_doc()["shards"].items():
            if tabs is not None and tab not in tabs:
                continue
            paths = [f"snapshot/{shards_.shard_name(tab, count, i)}" for i in range(count)]
            for doc in self._docs_many(paths).values():
                if doc is None:
                    continue
                into = snapshot.setdefault(tab, {})
                for record, entry in shards_.decode(doc["z"]).items():  # one shard at a time
                    row = freeze(entry)
                    into[share(record)] = remember(tab, record, row) if remember else row
        return snapshot

    def _stage_snapshot(
        self, changes: Mapping[str, Mapping[str, JSON | None]], counts: dict[str, int]
    ) -> tuple[list[tuple[str, JSON | None]], list[str]]:
        """The shard documents to write (None: delete) and the old shards to delete after."""
        staged: list[tuple[str, JSON | None]] = []
        stale: list[str] = []
        for tab, rows in changes.items():
            if not rows:
                continue
            count = counts.setdefault(tab, 1)
            try:
                if self._stage_touched(tab, rows, count, staged):
                    continue
                # A shard grew past its size: the tab's rows are spread over more shards.
                paths = [shards_.shard_path(tab, count, i) for i in range(count)]
                old = self._docs_many(paths)
                every: shards_.Rows = {}
                for doc in old.values():
                    every.update(shards_.decode(doc["z"]) if doc else {})
                shards_.apply(every, rows.items())
                new, encoded = shards_.split(every, tab, count)
            except shards_.RowTooLargeError as exc:
                raise FirestoreStateError(
                    f"row {exc.record} is too large to keep in Firestore ({exc.size} bytes)",
                    tab=tab,
                    record=exc.record,
                ) from exc
            for index, z in encoded.items():
                staged.append(
                    (shards_.shard_path(tab, new, index), {"tab": tab, "of": new, "z": z})
                )
            if new != count:
                stale += [path for path, doc in old.items() if doc is not None]
                counts[tab] = new
            else:
                staged += [(p, None) for i, p in enumerate(paths) if i not in encoded and old[p]]
        return staged, stale

    def _stage_touched(
        self,
        tab: str,
        rows: Mapping[str, JSON | None],
        count: int,
        staged: list[tuple[str, JSON | None]],
    ) -> bool:
        """Stage the shards `rows` fall in; False (nothing staged) when one grows too big."""
        touched: dict[int, list[tuple[str, JSON | None]]] = {}
        for record, data in rows.items():
            touched.setdefault(shards_.shard_of(tab, record, count), []).append((record, data))
        docs = self._docs_many(shards_.shard_path(tab, count, i) for i in touched)
        out: list[tuple[str, JSON | None]] = []
        for index, items in touched.items():
            path = shards_.shard_path(tab, count, index)
            merged = shards_.decode(docs[path]["z"]) if docs[path] else {}  # type: ignore[index]
            shards_.apply(merged, items)
            if not merged:
                if docs[path] is not None:
                    out.append((path, None))
                continue
            z = shards_.encode(merged)
            if len(z) > shards_.SPLIT_BYTES and count < shards_.MAX_SHARDS:
                return False
            out.append((path, {"tab": tab, "of": count, "z": shards_.checked(z, merged)}))
        staged += out
        return True

    def commit_journal(
        self, snapshot_changes: Mapping[str, Mapping[str, JSON | None]], meta: JSON
    ) -> None:
        """Shards, keys, meta, then the journal's emails made pending, then the journal."""
        doc = self._meta_doc()
        head = self._doc(HEAD)
        counts = dict(doc.get("shards") or {})
        staged, stale = self._stage_snapshot(snapshot_changes, counts)
        listed = list(doc.get("outbox", []))
        fresh = [i for i in (head or {}).get("outbox", []) if i not in listed]
        boxes = self._docs_many(f"outbox/{i}" for i in fresh)
        keys = [k for box in boxes.values() if box for k in box["keys"]]
        key_docs, key_counts = self._index_keys(keys, dict(doc.get("keys") or {}))
        # A listed document this instance holds no copy of stays listed: reading it only to
        # prune the list would cost a read per tick.
        copies = {i: self._docs.get(f"outbox/{i}") for i in listed}
        still = [i for i, box in copies.items() if box is None or not outbox.finished(box)]
        values = dict(doc.get("values", {}))
        values.update({k: json.dumps(v, default=as_json) for k, v in meta.items()})
        writes = self._writes()
        for path, data in staged + key_docs:
            writes.delete(self._ref(path)) if data is None else writes.set(self._ref(path), data)
        # Pending before meta lists them: a commit cut short and repeated finds them listed.
        expires = _at(self._clock() + _PENDING_KEEP_SECONDS)
        for name, box in boxes.items():
            if box is not None and box.get("state") == "queued":
                writes.set(self._ref(name), {**box, "state": "pending", "expires_at": expires})
        new_meta = {
            "values": values,
            "layout": LAYOUT,
            "shards": counts,
            "keys": key_counts,
            "outbox": still + [i for i in fresh if boxes.get(f"outbox/{i}")],
        }
        writes.set(self._ref(META), new_meta)
        for path in stale:  # only after the switch to the new shard count
            writes.delete(self._ref(path))
        if head is not None:
            self._stage_journal_delete(head, writes)
        self._flush(writes)

    def _index_keys(
        self, keys: list[str], counts: dict[str, int]
    ) -> tuple[list[tuple[str, JSON | None]], dict[str, int]]:
        """The keys documents to write so that the index knows `keys`, and the new counts."""
        by_group: dict[str, list[bytes]] = {}
        for key in keys:
            by_group.setdefault(outbox.key_group(key), []).append(outbox.key_digest(key))
        staged: list[tuple[str, JSON | None]] = []
        for group, digests in sorted(by_group.items()):
            count = counts.get(group, 0)
            known = self._group_index(group, count)
            new = [d for d in dict.fromkeys(digests) if d not in known]
            if not new:
                continue
            last = f"keys/{group}-{max(0, count - 1)}"
            data = (self._docs_many([last])[last] or {}).get("d", b"") if count else b""
            if len(data) // outbox.DIGEST_BYTES + len(new) > outbox.KEYS_PER_DOC:
                last, data, count = f"keys/{group}-{count}", b"", count + 1
            staged.append((last, {"d": bytes(data) + b"".join(new)}))
            counts[group] = max(count, 1)
        return staged, counts

    def _group_index(self, group: str, count: int) -> set[bytes]:
        docs = self._docs_many(f"keys/{group}-{i}" for i in range(count))
        return {d for doc in docs.values() if doc for d in outbox.unpack(bytes(doc["d"]))}

    # -- journal ---------------------------------------------------------------------------
    def _stage_journal_delete(self, head: JSON, writes: Writes) -> None:
        """The head goes first: chunks without a head are ignored (and expire)."""
        writes.delete(self._ref(HEAD))
        for i in range(head["chunks"]):
            writes.delete(self._ref(f"journal/{head['gen']}-{i}"))

    def load_journal(self) -> JSON | None:
        head = self._doc(HEAD)
        if head is None:
            return None
        names = [f"journal/{head['gen']}-{i}" for i in range(head["chunks"])]
        chunks = self._docs_many(names)
        if any(chunks[n] is None for n in names):
            raise FirestoreStateError("the saved tick journal is incomplete; delete journal/head")
        data = b"".join(bytes(chunks[n]["data"]) for n in names)  # type: ignore[index]
        return {**json.loads(data), "applied": bool(head["applied"])}

    def save_journal(self, journal: JSON, emails: list[RenderedEmail]) -> None:
        """Chunks and the emails' outbox documents first, the head last: no head, no journal."""
        old = self._doc(HEAD)
        queued = list((old or {}).get("outbox", []))
        known = {
            k
            for box in self._docs_many(f"outbox/{i}" for i in queued).values()
            if box
            for k in box["keys"]
        }
        counts = self._meta_doc().get("keys") or {}
        index = set().union(
            *(
                self._group_index(g, counts.get(g, 0))
                for g in {outbox.key_group(e.key) for e in emails}
            )
        )
        new: list[RenderedEmail] = []
        for email in emails:  # INSERT OR IGNORE: a key the ledger knows (even sent) stays as is
            if email.key not in known and outbox.key_digest(email.key) not in index:
                known.add(email.key)
                new.append(email)
        try:
            groups = outbox.batches(new)
        except ValueError as exc:
            raise FirestoreStateError(str(exc)) from exc
        gen, now, seq = uuid.uuid4().hex, self._clock(), time.time_ns()
        orphan = _at(now + _ORPHAN_KEEP_SECONDS)
        writes = self._writes()
        data = json.dumps(journal, default=as_json).encode()
        pieces = [data[i : i + CHUNK_BYTES] for i in range(0, len(data), CHUNK_BYTES)] or [b""]
        for i, piece in enumerate(pieces):
            doc = {"gen": gen, "data": piece, "expires_at": orphan}
            writes.set(self._ref(f"journal/{gen}-{i}"), doc)
        for j, group in enumerate(groups):
            writes.set(self._ref(f"outbox/{gen}-{j}"), outbox.outbox_doc(group, now, seq, orphan))
            queued.append(f"{gen}-{j}")
            seq += len(group)
        head = {"gen": gen, "chunks": len(pieces), "applied": False, "outbox": queued}
        writes.set(self._ref(HEAD), head)
        if old is not None and old["gen"] != gen:
            for i in range(old["chunks"]):
                writes.delete(self._ref(f"journal/{old['gen']}-{i}"))
        self._flush(writes)

    def mark_journal_applied(self) -> None:
        head = self._doc(HEAD)
        if head is not None:
            self._update(HEAD, {"applied": True}, {**head, "applied": True})

    def drop_journal(self) -> None:
        head = self._doc(HEAD)
        if head is None:
            return
        writes = self._writes()
        self._stage_journal_delete(head, writes)
        for name in head.get("outbox", []):  # queued, never committed: never to be sent
            writes.delete(self._ref(f"outbox/{name}"))
        self._flush(writes)

    # -- email ledger ----------------------------------------------------------------------
    def pending_keys(self) -> list[str]:
        listed = self._meta_doc().get("outbox", [])
        order = []
        for box in self._docs_many(f"outbox/{i}" for i in listed).values():
            for index, key in enumerate((box or {}).get("keys", [])):
                if outbox.status(box, index) in outbox.LIVE:  # type: ignore[arg-type]
                    order.append((box["queued_at"], box["seq"] + index, key))  # type: ignore[index]
        return [key for _at_, _seq, key in sorted(order)]

    def _find(self, key: str) -> tuple[str, int, JSON] | None:
        """The outbox document holding `key`, the email's place in it, and the document."""
        head = self._doc(HEAD) or {}
        names = [*self._meta_doc().get("outbox", []), *head.get("outbox", [])]
        for path, box in self._docs_many(f"outbox/{n}" for n in names).items():
            if box is not None and key in box["keys"]:
                return path, box["keys"].index(key), box
        # Sent long ago (no longer listed): the one committed document that has the key.
        has_key = firestore.FieldFilter("keys", "array_contains", key)
        docs = list(self.root.collection("outbox").where(filter=has_key).stream(timeout=TIMEOUT))
        self.reads += max(1, len(docs))
        for doc in docs:
            box = doc.to_dict() or {}
            if box.get("state") != "queued":  # a save cut short left it behind
                return f"outbox/{doc.id}", box["keys"].index(key), box
        return None

    def ledger_entry(self, key: str) -> tuple[RenderedEmail, str] | None:
        found = self._find(key)
        if found is None:
            return None
        _path, index, box = found
        return outbox.email_of(box["emails"][index]), outbox.status(box, index)

    def mark_sending(self, key: str) -> None:
        self.mark_sent(key, "sending")

    def mark_sent(self, key: str, outcome: str = "sent") -> None:
        found = self._find(key)
        if found is None:
            return
        path, index, box = found
        marks = {**box.get("marks", {}), str(index): outcome}
        changed = {**box, "marks": marks}
        fields: JSON = {FieldPath("marks", str(index)).to_api_repr(): outcome}
        if outbox.finished(changed) and box.get("state") != "queued":
            changed.update(state="done", expires_at=_at(self._clock() + _DONE_KEEP_SECONDS))
            fields.update(state="done", expires_at=changed["expires_at"])
        self._update(path, fields, changed)

    # -- scheduled runs --------------------------------------------------------------------
    def claim_scheduled_run(self, key: str) -> bool:
        """True the first time a Cloud Scheduler run (its schedule time) is seen, then False.

        `expires_at` lets a Firestore TTL policy on the `runs` collection group prune old claims.
        """
        now = self._clock()
        doc = {"key": key, "claimed_at": now, "expires_at": _at(now + _RUN_KEEP_SECONDS)}
        try:
            self._runs.document(hashlib.sha256(key.encode()).hexdigest()).create(
                doc, timeout=TIMEOUT
            )
        except AlreadyExists:
            self.reads += 1
            return False
        self.writes += 1
        return True

    def close(self) -> None:
        """The client belongs to the caller, who may share it; nothing to release here."""


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)
