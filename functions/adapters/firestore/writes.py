"""Firestore writes committed in order, in as few batches as Firestore's limits allow.

Everything staged before a flush is stored before anything staged after it, so a crash leaves a
prefix. Once a batch is stored, `on_stored` learns each document written (its new content, or
None when deleted), which keeps a warm instance's copies of those documents current.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

JSON = dict[str, Any]

BATCH_BYTES = 3_000_000  # Firestore refuses requests over 10 MiB, its emulator over 4 MiB
BATCH_WRITES = 500
TIMEOUT = 30.0  # seconds per Firestore call: a hung call must not eat the whole tick

Stored = Callable[[list[tuple[Any, JSON | None]]], None]


class Writes:
    def __init__(self, client: Any, on_stored: Stored, limit: int | None = None) -> None:
        self._client = client
        self._on_stored = on_stored
        self._limit = limit or BATCH_WRITES
        self._batch = client.batch()
        self._staged: list[tuple[Any, JSON | None]] = []
        self._bytes = 0
        self.count = 0  # documents written so far (as Firestore bills them)

    def set(self, ref: Any, data: JSON) -> None:
        self._add(ref, data, size(data)).set(ref, data)

    def delete(self, ref: Any) -> None:
        self._add(ref, None, 0).delete(ref)

    def _add(self, ref: Any, data: JSON | None, bytes_: int) -> Any:
        """The batch with room for one more write of `bytes_` bytes."""
        bytes_ += 200  # the document's name and the write's framing
        full = len(self._staged) >= self._limit
        if full or (self._staged and self._bytes + bytes_ > BATCH_BYTES):
            self.flush()
        self._staged.append((ref, data))
        self._bytes += bytes_
        return self._batch

    def flush(self) -> None:
        if self._staged:
            self._batch.commit(timeout=TIMEOUT)
            self.count += len(self._staged)
            self._on_stored(self._staged)
        self._batch = self._client.batch()
        self._staged = []
        self._bytes = 0


def size(value: Any) -> int:
    """Roughly what a value adds to a write request, in bytes."""
    if isinstance(value, str):
        return len(value.encode())
    if isinstance(value, bytes):
        return len(value)
    if isinstance(value, dict):
        return sum(len(k) + size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(map(size, value))
    return 16
