"""State in a SQLite file beside the workbook: snapshot, journal, email ledger, tick lock."""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ..model import Remember, RenderedEmail, Snapshot
from ..record import as_json, freeze, share

JSON = dict[str, Any]
_SCHEMA = """
CREATE TABLE IF NOT EXISTS lock (name TEXT PRIMARY KEY, owner TEXT NOT NULL, expires REAL NOT NULL);
CREATE TABLE IF NOT EXISTS snapshot (
    tab TEXT NOT NULL, record TEXT NOT NULL, data TEXT NOT NULL, PRIMARY KEY (tab, record));
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS journal (
    id INTEGER PRIMARY KEY CHECK (id = 1), data TEXT NOT NULL, applied INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS ledger (
    key TEXT PRIMARY KEY, message_id TEXT NOT NULL, sender TEXT NOT NULL,
    recipients TEXT NOT NULL, subject TEXT NOT NULL, raw BLOB NOT NULL,
    status TEXT NOT NULL, queued_at REAL NOT NULL, sent_at REAL);
CREATE TABLE IF NOT EXISTS runs (key TEXT PRIMARY KEY, claimed_at REAL NOT NULL);
"""
# Ledger statuses: queued (journal not committed) → pending → sending → sent | uncertain.


class SqliteState:
    """The StateStore port on SQLite; every multi-step change is one transaction."""

    def __init__(self, path: Path, clock: Callable[[], float] = time.time) -> None:
        self.path = path
        self._clock = clock
        self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
        self._use_wal()
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.executescript(_SCHEMA)

    def _use_wal(self) -> None:
        """Switch a new file to WAL; two ticks starting at once on a new file race for it, and
        SQLite answers the loser "database is locked" at once, without waiting: retry."""
        deadline = time.monotonic() + 30
        while True:
            try:
                self._db.execute("PRAGMA journal_mode=WAL")
                return
            except sqlite3.OperationalError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # -- lock ------------------------------------------------------------------------------
    def acquire_lock(self, owner: str, lease_seconds: float) -> bool:
        now = self._clock()
        with self._transaction() as db:
            row = db.execute("SELECT owner, expires FROM lock WHERE name = 'tick'").fetchone()
            if row and row[0] != owner and row[1] > now:
                return False
            db.execute(
                "INSERT OR REPLACE INTO lock (name, owner, expires) VALUES ('tick', ?, ?)",
                (owner, now + lease_seconds),
            )
            return True

    def release_lock(self, owner: str) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM lock WHERE name = 'tick' AND owner = ?", (owner,))

    # -- snapshot and meta -----------------------------------------------------------------
    def load_snapshot(self, remember: Remember | None = None) -> Snapshot:
        snapshot: Snapshot = {}
        for tab, record, data in self._db.execute("SELECT tab, record, data FROM snapshot"):
            row = freeze(json.loads(data))
            snapshot.setdefault(tab, {})[share(record)] = (
                remember(tab, record, row) if remember else row
            )
        return snapshot

    def load_meta(self) -> JSON:
        return {k: json.loads(v) for k, v in self._db.execute("SELECT key, value FROM meta")}

    # -- journal ---------------------------------------------------------------------------
    def load_journal(self) -> JSON | None:
        row = self._db.execute("SELECT data, applied FROM journal WHERE id = 1").fetchone()
        return {**json.loads(row[0]), "applied": bool(row[1])} if row else None

    def save_journal(self, journal: JSON, emails: list[RenderedEmail]) -> None:
        with self._transaction() as db:
            db.execute(
                "INSERT OR REPLACE INTO journal (id, data, applied) VALUES (1, ?, 0)",
                (json.dumps(journal, default=as_json),),
            )
            db.executemany(
                "INSERT OR IGNORE INTO ledger (key, message_id, sender, recipients, subject,"
                " raw, status, queued_at) VALUES (?, ?, ?, ?, ?, ?, 'queued', ?)",
                [
                    (
                        e.key,
                        e.message_id,
                        e.sender,
                        json.dumps(e.to),
                        e.subject,
                        e.raw,
                        self._clock(),
                    )
                    for e in emails
                ],
            )

    def mark_journal_applied(self) -> None:
        with self._transaction() as db:
            db.execute("UPDATE journal SET applied = 1 WHERE id = 1")

    def commit_journal(
        self, snapshot_changes: Mapping[str, Mapping[str, JSON | None]], meta: JSON
    ) -> None:
        with self._transaction() as db:
            for tab, rows in snapshot_changes.items():
                for record, data in rows.items():
                    if data is None:
                        db.execute(
                            "DELETE FROM snapshot WHERE tab = ? AND record = ?", (tab, record)
                        )
                    else:
                        db.execute(
                            "INSERT OR REPLACE INTO snapshot (tab, record, data) VALUES (?,?,?)",
                            (tab, record, json.dumps(data, default=as_json)),
                        )
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(k, json.dumps(v)) for k, v in meta.items()],
            )
            db.execute("UPDATE ledger SET status = 'pending' WHERE status = 'queued'")
            db.execute("DELETE FROM journal WHERE id = 1")

    def drop_journal(self) -> None:
        with self._transaction() as db:
            db.execute("DELETE FROM ledger WHERE status = 'queued'")
            db.execute("DELETE FROM journal WHERE id = 1")

    # -- email ledger ----------------------------------------------------------------------
    def pending_keys(self) -> list[str]:
        rows = self._db.execute(
            "SELECT key FROM ledger WHERE status IN ('pending', 'sending')"
            " ORDER BY queued_at, rowid"
        )
        return [key for (key,) in rows]

    def ledger_entry(self, key: str) -> tuple[RenderedEmail, str] | None:
        row = self._db.execute(
            "SELECT message_id, sender, recipients, subject, raw, status FROM ledger WHERE key = ?",
            (key,),
        ).fetchone()
        if row is None:
            return None
        mid, sender, to, subject, raw, status = row
        return RenderedEmail(key, mid, sender, tuple(json.loads(to)), subject, bytes(raw)), status

    def mark_sending(self, key: str) -> None:
        with self._transaction() as db:
            db.execute("UPDATE ledger SET status = 'sending' WHERE key = ?", (key,))

    def mark_sent(self, key: str, outcome: str = "sent") -> None:
        with self._transaction() as db:
            db.execute(
                "UPDATE ledger SET status = ?, sent_at = ? WHERE key = ?",
                (outcome, self._clock(), key),
            )

    # -- scheduled runs --------------------------------------------------------------------
    def claim_scheduled_run(self, key: str) -> bool:
        """True the first time a scheduled run (its schedule time) is seen, then False."""
        with self._transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO runs (key, claimed_at) VALUES (?, ?)", (key, self._clock())
            )
            return cursor.rowcount == 1

    def close(self) -> None:
        self._db.close()
