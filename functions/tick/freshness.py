"""Whether the book changed since the last tick: the version, the time of the last full read,
and a digest of what it read, as the state's meta remembers them per set of flows.

A tick first asks the book's cheap version; only a version that may lag behind an edit
(Drive's) needs a full read now and then (`FULL_READ`), and a full read that finds what the
last one did (same digest) plans nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from functions.meta import book_version_key, digest_key, read_at_key
from functions.model import JSON, BookRead

FULL_READ = 300.0  # seconds: read all even if the version says nothing changed (it may lag)


def read_digest(read: BookRead) -> str:
    """A fingerprint of every value read, to tell a periodic full read that found nothing new."""
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(read.tables):
        table = read.tables[key]
        digest.update(repr((key, table.columns)).encode())
        for row in table.rows:
            digest.update(repr((row.number, sorted(row.values.items()))).encode())
    return digest.hexdigest()


@dataclass(frozen=True)
class Freshness:
    """The book's version now, against what the last tick of the same flows recorded."""

    flows: frozenset[str] | None  # None: a tick of every flow (the plain meta keys)
    version: str
    now: float  # this tick's time, as a timestamp
    lags: bool  # the book's version may trail an edit
    last_version: object = None
    last_read: object = None
    last_digest: object = None

    @classmethod
    def of(
        cls,
        meta: Mapping[str, object],
        flows: frozenset[str] | None,
        version: str,
        now: datetime,
        lags: bool,
    ) -> Freshness:
        return cls(
            flows,
            version,
            now.timestamp(),
            lags,
            meta.get(book_version_key(flows)),
            meta.get(read_at_key(flows)),
            meta.get(digest_key(flows)),
        )

    @property
    def version_key(self) -> str:
        return book_version_key(self.flows)

    def unchanged(self) -> bool:
        """The version says nobody edited since the last tick, and it may be trusted now."""
        last = self.last_read
        recent = isinstance(last, int | float) and self.now - last <= FULL_READ
        return (
            bool(self.version) and self.last_version == self.version and (recent or not self.lags)
        )

    def same_read(self, digest: str) -> bool:
        """A full read found what the last tick read: nothing to plan."""
        return self.last_version == self.version and self.last_digest == digest

    def read_now(self) -> JSON:
        """The meta a full read that found nothing new moves on."""
        return {read_at_key(self.flows): self.now}

    def after_read(self, digest: str) -> JSON:
        """The meta a tick that read (and planned) records."""
        return {
            self.version_key: self.version,
            read_at_key(self.flows): self.now,
            digest_key(self.flows): digest,
        }
