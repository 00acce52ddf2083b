"""State in a SQLite file beside the workbook: snapshot, journal, email ledger, tick lock.

The tick lock is a lease row plus an OS file lock (`flock` on `NAME.lock`) held while the
lease is: the kernel drops the file lock when its process dies (SIGKILL, power loss), so
the next tick sees at once that the holder is gone instead of waiting out the lease.
"""

from __future__ import annotations

import fcntl
import json
import os
import sqlite3
import time
from collections.abc import Callable, Collection, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from functions.errors import ConfigError
from functions.model import Remember, RenderedEmail, Snapshot
from functions.record import as_json, freeze, share

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
        try:
            self._db = sqlite3.connect(path, timeout=30, isolation_level=None)
            self._use_wal()
            self._db.execute("PRAGMA synchronous=FULL")
            self._db.executescript(_SCHEMA)
        except sqlite3.Error as exc:
            raise ConfigError(f"state file {path}: {_why_not_opened(path, exc)}") from exc
        self._lock_path = path.with_name(path.name + ".lock")
        self._lock_fd: int | None = None  # open while this store holds the OS lock

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
        """Take or renew the lease; a lease whose holder's process is gone is taken at once.

        The row `os` names the owner that took the OS lock with its lease. When this store
        gets the OS lock and that owner still holds the lease, its process has died. A live
        tick stalled past its lease is still taken over by the lease alone.
        """
        now = self._clock()
        had_os_lock = self._lock_fd is not None
        got_os_lock = had_os_lock or self._take_os_lock()
        with self._transaction() as db:
            row = db.execute("SELECT owner, expires FROM lock WHERE name = 'tick'").fetchone()
            os_row = db.execute("SELECT owner FROM lock WHERE name = 'os'").fetchone()
            holder_died = (
                got_os_lock and not had_os_lock and row is not None and os_row == (row[0],)
            )
            if row and row[0] != owner and row[1] > now and not holder_died:
                if not had_os_lock:
                    self._drop_os_lock()
                return False
            db.execute(
                "INSERT OR REPLACE INTO lock (name, owner, expires) VALUES ('tick', ?, ?)",
                (owner, now + lease_seconds),
            )
            if got_os_lock:
                db.execute(
                    "INSERT OR REPLACE INTO lock (name, owner, expires) VALUES ('os', ?, 0)",
                    (owner,),
                )
            return True

    def release_lock(self, owner: str) -> None:
        with self._transaction() as db:
            cursor = db.execute("DELETE FROM lock WHERE name = 'tick' AND owner = ?", (owner,))
            if cursor.rowcount:
                db.execute("DELETE FROM lock WHERE name = 'os' AND owner = ?", (owner,))
        self._drop_os_lock()

    def _take_os_lock(self) -> bool:
        """True if this store now holds the OS lock; False if a live process holds it."""
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        self._lock_fd = fd
        return True

    def _drop_os_lock(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)  # closing the descriptor releases the flock
            self._lock_fd = None

    # -- snapshot and meta -----------------------------------------------------------------
    def load_snapshot(
        self, remember: Remember | None = None, tabs: Collection[str] | None = None
    ) -> Snapshot:
        snapshot: Snapshot = {}
        for tab, record, data in self._db.execute("SELECT tab, record, data FROM snapshot"):
            if tabs is not None and tab not in tabs:
                continue
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
        self._drop_os_lock()
        self._db.close()


def _why_not_opened(path: Path, exc: sqlite3.Error) -> str:
    """The cause in a person's words: SQLite only says "unable to open database file"."""
    folder = path.parent
    if not folder.is_dir():
        return f"the folder {folder} does not exist"
    if path.is_dir():
        return "it is a folder, not a file"
    if not os.access(folder, os.W_OK) or (path.exists() and not os.access(path, os.W_OK)):
        return f"the folder {folder} is read-only (sheetflow keeps its state there; use --state)"
    if "not a database" in str(exc):
        return "it is not a sheetflow state file (SQLite); point --state at a new file"
    return str(exc)
