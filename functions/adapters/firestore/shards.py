"""The snapshot's rows in Firestore documents: per tab, hashed to shards, zlib-compressed JSON.

A shard document holds `{tab, of, z}`: `z` is the compressed JSON `{record: row}` of the rows of
`tab` that hash to it among `of` shards. Compressed, a shard holds ~20× more rows than as text
(the bench's 10,000 invoices + 10,000 deals: 14 MB of JSON, 0.7 MB compressed), so a cold
instance reads a handful of documents instead of a hundred. A shard past SPLIT_BYTES makes its
tab re-sharded (the count doubled) until every shard is under TARGET_BYTES.
"""

from __future__ import annotations

import hashlib
import json
import zlib
from collections.abc import Iterable, Mapping
from typing import Any

from functions.record import as_json

JSON = dict[str, Any]
Rows = dict[str, JSON]

SPLIT_BYTES = 600_000  # a shard compressed past this is split ...
TARGET_BYTES = 300_000  # ... into shards under this (their biggest row aside)
DOC_LIMIT_BYTES = 1_000_000  # Firestore refuses documents over 1 MiB (1,048,576 bytes)
MAX_SHARDS = 4096


def shard_of(tab: str, record: str, shards: int) -> int:
    digest = hashlib.sha256(f"{tab}\x00{record}".encode()).hexdigest()
    return int(digest[:16], 16) % shards


def shard_name(tab: str, shards: int, index: int) -> str:
    return f"{tab}~{shards}-{index}"


def shard_path(tab: str, shards: int, index: int) -> str:
    """The document holding one shard of a tab's snapshot."""
    return f"snapshot/{shard_name(tab, shards, index)}"


def encode(rows: Mapping[str, JSON]) -> bytes:
    text = json.dumps(
        rows, ensure_ascii=False, separators=(",", ":"), sort_keys=True, default=as_json
    )
    return zlib.compress(text.encode(), 6)


def decode(z: bytes) -> Rows:
    rows: Rows = json.loads(zlib.decompress(z))
    return rows


def apply(rows: Rows, changes: Iterable[tuple[str, JSON | None]]) -> None:
    for record, data in changes:
        if data is None:
            rows.pop(record, None)
        else:
            rows[record] = data


class RowTooLargeError(ValueError):
    """One row alone cannot be stored in a Firestore document."""

    def __init__(self, record: str, size: int) -> None:
        super().__init__(record, size)
        self.record, self.size = record, size


def split(rows: Rows, tab: str, shards: int) -> tuple[int, dict[int, bytes]]:
    """The shard count (≥ `shards`, doubled as needed) and every shard's compressed rows."""
    while True:
        buckets: dict[int, Rows] = {}
        for record, data in rows.items():
            buckets.setdefault(shard_of(tab, record, shards), {})[record] = data
        encoded = {index: encode(bucket) for index, bucket in buckets.items()}
        big = [i for i, z in encoded.items() if len(z) > SPLIT_BYTES]
        # A shard that is big because of one row stays big however many shards there are.
        if not big or shards >= MAX_SHARDS or all(_spare(buckets[i]) <= TARGET_BYTES for i in big):
            for index in big:
                checked(encoded[index], buckets[index])
            return shards, encoded
        shards *= 2
        while shards < MAX_SHARDS and _estimate(rows, shards) > TARGET_BYTES:
            shards *= 2


def _spare(rows: Rows) -> int:
    """The compressed size of a shard's rows but its biggest: what splitting could move."""
    sizes = {record: len(json.dumps(data, default=as_json)) for record, data in rows.items()}
    biggest = max(sizes, key=lambda r: sizes[r])
    return len(encode({r: d for r, d in rows.items() if r != biggest}))


def _estimate(rows: Rows, shards: int) -> int:
    """Roughly a shard's compressed size among `shards` (from a sample of the rows)."""
    sample = dict(list(rows.items())[:2000])
    per_row = len(encode(sample)) / max(1, len(sample))
    return int(per_row * len(rows) / shards * 1.3)


def checked(z: bytes, rows: Rows) -> bytes:
    """The compressed shard, or RowTooLargeError naming its biggest row when it cannot be stored."""
    if len(z) <= DOC_LIMIT_BYTES:
        return z
    sizes = {record: len(encode({record: data})) for record, data in rows.items()}
    record = max(sizes, key=lambda r: sizes[r])
    raise RowTooLargeError(record, sizes[record])
