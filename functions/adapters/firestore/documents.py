"""Firestore documents read and written through the copies a function instance keeps.

Firestore bills every document read. Only the holder of the tick's lease writes the state,
and when it lets the lease go it records in the lock document a new version of each document
it wrote; the next holder, which reads the lock anyway, keeps its copies of documents whose
version is unchanged and reads the others again. A lease that expired without a release (a
killed tick), or a write made without the lease, leaves no copy trusted. Without the lease
nothing is copied at all. `reads` and `writes` count documents as Firestore bills them.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterable
from typing import Any

from google.api_core.exceptions import NotFound
from google.cloud import firestore

from functions.adapters.firestore import shards as shards_
from functions.adapters.firestore.writes import TIMEOUT, Writes

JSON = dict[str, Any]

META, HEAD, LOCK = "state/meta", "journal/head", "state/lock"
LAYOUT = 2  # the store's layout; a store of layout 1 (sheetflow 1) is moved once (legacy.py)
_GET_MANY = 1000  # documents per BatchGetDocuments request


class CopiedDocuments:
    """Counted, copied reads and writes of the documents under one root, and the lease."""

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
        self._runs = self.root.collection("runs")
        self._held: str | None = None  # the owner while this instance holds the lease
        self._renewed = 0.0
        self._docs: dict[str, JSON | None] = {}  # path → document (None: known absent)
        self._versions: dict[str, str] = {}  # path → the version that copy is
        self._published: dict[str, str] = {}  # the lock's versions when it was taken
        self._written: dict[str, str] = {}  # versions this holder wrote, published on release

    def _ref(self, path: str) -> Any:
        return self.root.collection(path.split("/")[0]).document(path.split("/", 1)[1])

    # -- counted reads, through the instance's copies ----------------------------------------
    @property
    def _trusted(self) -> bool:
        return self._held is not None

    def _doc(self, path: str) -> JSON | None:
        return self._docs_many([path])[path]

    def _docs_many(self, paths: Iterable[str]) -> dict[str, JSON | None]:
        wanted = list(dict.fromkeys(paths))
        found = {p: self._docs[p] for p in wanted if self._trusted and p in self._docs}
        missing = [p for p in wanted if p not in found]
        # In slices: one BatchGetDocuments naming ~25k documents exceeds the request size limit.
        for start in range(0, len(missing), _GET_MANY):
            part = missing[start : start + _GET_MANY]
            got = {
                s.reference.path: s
                for s in self.client.get_all([self._ref(p) for p in part], timeout=TIMEOUT)
            }
            for path in part:
                snap = got.get(self._ref(path).path)
                doc = snap.to_dict() if snap is not None and snap.exists else None
                found[path] = doc
                self._remember(path, doc, self._published.get(path))
            self.reads += len(part)
        return found

    def _remember(self, path: str, doc: JSON | None, version: str | None) -> None:
        if self._trusted and version is not None:
            self._docs[path], self._versions[path] = doc, version
        else:
            self._forget(path)

    def _forget(self, path: str) -> None:
        self._docs.pop(path, None)
        self._versions.pop(path, None)

    def _stored(self, written: list[tuple[Any, JSON | None]]) -> None:
        """A batch was stored: the copies follow, with new versions to publish."""
        prefix = self.root.path + "/"
        for ref, doc in written:
            path = ref.path.removeprefix(prefix)
            if path.startswith("runs/"):
                continue
            version = uuid.uuid4().hex[:12]
            self._written[path] = version
            self._remember(path, doc, version)
        if not self._trusted:
            self._unlocked_write()

    def _unlocked_write(self) -> None:
        """Written without the lease (tests, the benchmark's seeding): nobody trusts copies."""
        self._docs.clear()
        self._versions.clear()
        self._written.clear()
        try:
            self._ref(LOCK).update({"v": {}}, timeout=TIMEOUT)
            self.writes += 1
        except NotFound:
            pass

    def _writes(self) -> Writes:
        return Writes(self.client, self._stored)

    def _flush(self, writes: Writes) -> None:
        try:
            writes.flush()
        finally:
            self.writes += writes.count
            writes.count = 0

    def _update(self, path: str, fields: JSON, doc: JSON) -> None:
        """UPDATE … WHERE: nothing happens when the document is missing; `doc` is the result."""
        try:
            self._ref(path).update(fields, timeout=TIMEOUT)
        except NotFound:
            self._forget(path)
            return
        self.writes += 1
        self._stored([(self._ref(path), doc)])

    # -- lock ------------------------------------------------------------------------------
    def acquire_lock(self, owner: str, lease_seconds: float) -> bool:
        now = self._clock()
        if self._held == owner and now - self._renewed < lease_seconds / 3:
            return True  # renewed a moment ago: at least two thirds of the lease are left
        ref = self._ref(LOCK)

        def take(transaction: Any) -> JSON | None:
            snap = ref.get(transaction=transaction, timeout=TIMEOUT)
            self.reads += 1
            held = (snap.to_dict() if snap.exists else None) or {}
            if held.get("owner") and held["owner"] != owner and held.get("expires", 0) > now:
                return None
            versions = held.get("v", {}) if held.get("owner") in ("", owner) else {}
            transaction.set(ref, {"owner": owner, "expires": now + lease_seconds, "v": versions})
            return {**held, "v": versions}

        held = firestore.transactional(take)(self.client.transaction())
        if held is None:
            return False
        self.writes += 1
        if held.get("owner") != owner or self._held != owner:
            self._published = dict(held["v"])
            self._written.clear()
            for path in list(self._docs):  # keep only what nobody changed since
                if self._published.get(path) != self._versions.get(path):
                    self._forget(path)
        self._held, self._renewed = owner, now
        return True

    def release_lock(self, owner: str) -> None:
        ref = self._ref(LOCK)
        versions = self._live_versions()

        def release(transaction: Any) -> bool:
            snap = ref.get(transaction=transaction, timeout=TIMEOUT)
            self.reads += 1
            if snap.exists and snap.get("owner") == owner:
                transaction.set(ref, {"owner": "", "expires": 0, "v": versions})
                return True
            return False

        released = bool(firestore.transactional(release)(self.client.transaction()))
        self.writes += released
        if not released:  # taken over: what was copied may be stale
            self._docs.clear()
            self._versions.clear()
        self._held = None
        self._written.clear()

    def _live_versions(self) -> dict[str, str]:
        """The versions to publish: the documents that still matter, nothing that grows."""
        versions = {**self._published, **self._written}
        meta = self._docs.get(META) or {}
        head = self._docs.get(HEAD) or {}
        listed = set(meta.get("outbox", [])) | set(head.get("outbox", []))
        layout = {
            f"snapshot/{shards_.shard_name(tab, n, i)}"
            for tab, n in (meta.get("shards") or {}).items()
            for i in range(n)
        }

        def live(path: str) -> bool:
            kind, _, name = path.partition("/")
            if kind == "outbox":
                return name in listed
            if kind == "snapshot":
                return not meta or path in layout
            return kind in ("state", "keys") or path == HEAD

        return {p: v for p, v in versions.items() if live(p)}
