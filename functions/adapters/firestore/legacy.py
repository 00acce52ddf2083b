"""Moving a store written by sheetflow 1 (layout 1) to the current layout, once.

Layout 1 kept the snapshot as JSON text in `snapshot/<N>-<i>` {of, data} (every tab mixed) and
one `ledger/<sha256 of key>` document per email. The move reads them all, writes the current
layout (compressed shards per tab, every key in the index, unsent emails in an outbox document
with their statuses, queued ones attached to the saved journal), switches the meta document
last, and only then deletes the old documents: a move cut short starts again from layout 1.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from functions.adapters.firestore import outbox
from functions.adapters.firestore import shards as shards_
from functions.adapters.firestore.documents import HEAD, LAYOUT, META, CopiedDocuments
from functions.model import RenderedEmail

JSON = dict[str, Any]
# The keys documents that make the index know these keys, and the index's new counts.
IndexKeys = Callable[
    [list[str], dict[str, int]], tuple[list[tuple[str, JSON | None]], dict[str, int]]
]


def migrate(state: CopiedDocuments, meta: JSON, index_keys: IndexKeys) -> JSON:
    """Move the store to the current layout; the new meta document."""
    count = meta.get("shards", 1)
    count = count if isinstance(count, int) else 1
    old_shards = list(state.root.collection("snapshot").stream(timeout=30))
    ledger = list(state.root.collection("ledger").stream(timeout=30))
    state.reads += max(1, len(old_shards)) + max(1, len(ledger))
    rows: dict[str, shards_.Rows] = {}
    for doc in old_shards:
        if doc.get("of") == count and "data" in (doc.to_dict() or {}):
            for tab, records in json.loads(doc.get("data")).items():
                rows.setdefault(tab, {}).update(records)
    staged: list[tuple[str, JSON | None]] = []
    counts: dict[str, int] = {}
    for tab, records in rows.items():
        counts[tab], encoded = shards_.split(records, tab, 1)
        staged += [
            (shards_.shard_path(tab, counts[tab], i), {"tab": tab, "of": counts[tab], "z": z})
            for i, z in encoded.items()
        ]
    head = state._doc(HEAD)
    entries = sorted((d.to_dict() or {} for d in ledger), key=lambda d: (d["queued_at"], d["seq"]))
    sent_or_live = [d for d in entries if d["status"] != "queued"]
    key_docs, key_counts = index_keys([d["key"] for d in sent_or_live], {})
    live = [d for d in sent_or_live if d["status"] in outbox.LIVE]
    queued = [d for d in entries if d["status"] == "queued"] if head is not None else []
    writes = state._writes()
    listed: list[str] = []
    for kind, group in (("pending", live), ("queued", queued)):
        for j, part in enumerate(outbox.batches(_email(d) for d in group)):
            name = f"layout1-{kind}-{j}"
            doc = outbox.outbox_doc(part, group[0]["queued_at"], int(time.time_ns()), None)
            doc["state"] = kind
            doc["marks"] = {
                str(i): d["status"] for i, d in enumerate(group[: len(part)]) if d["status"] != kind
            }
            group = group[len(part) :]
            writes.set(state._ref(f"outbox/{name}"), doc)
            (listed if kind == "pending" else head.setdefault("outbox", [])).append(name)  # type: ignore[union-attr]
    for path, data in staged + key_docs:
        writes.set(state._ref(path), data)  # type: ignore[arg-type]
    if head is not None:
        writes.set(state._ref(HEAD), {**head, "outbox": head.get("outbox", [])})
    new_meta = {
        "values": dict(meta.get("values", {})),
        "layout": LAYOUT,
        "shards": counts,
        "keys": key_counts,
        "outbox": listed,
    }
    writes.set(state._ref(META), new_meta)
    for doc in old_shards + ledger:  # after the switch: a move cut short is done again
        if not doc.id.partition("~")[1]:
            writes.delete(doc.reference)
    state._flush(writes)
    return new_meta


def _email(doc: JSON) -> RenderedEmail:
    return outbox.email_of(doc)
