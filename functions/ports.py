"""The small interfaces the core needs from the outside world (adapters implement them)."""

from __future__ import annotations

from collections.abc import Collection, Container, Iterable, Mapping
from datetime import datetime
from typing import Any, Protocol

from functions.model import (
    JSON,
    BookRead,
    Cell,
    CrmFields,
    CrmPull,
    EmailIntent,
    FolderScan,
    Remember,
    RenderedEmail,
    SheetChanges,
    Snapshot,
)


class SpreadsheetBook(Protocol):
    """A spreadsheet: the local workbook or a Google Sheet."""

    name: str

    @property
    def version_may_lag(self) -> bool:
        """Whether `version` may trail an edit (Drive's), so a full read is due now and then."""

    @property
    def written_version(self) -> str | None:
        """The version the last `apply` saved when that was exactly the file read plus its
        changes (a workbook), so the next tick may idle; None when the book cannot tell."""

    def busy_reason(self) -> str | None:
        """Why writing now is unsafe (e.g. open in LibreOffice), or None."""

    def version(self) -> str:
        """A cheap token that changes whenever anyone edits the book (no read of the cells)."""

    def read(self, tabs: Collection[str] | None = None) -> BookRead:
        """Read the watched tabs; raise SchemaError naming a missing tab or header.

        `tabs` names the row tabs wanted (People and Settings always come); None: every one.
        A book may return more than asked (the workbook reads the whole file anyway).
        """

    def read_log(self) -> Iterable[list[Cell]]:
        """The Log tab's rows in sheet order, blank ones left out, columns in the schema's
        order (only for monthly reports: a plain tick never reads the Log). Iterate once:
        a book that can hands rows over as they arrive, never the whole Log at once."""

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        """Apply all changes in one save/batch; return writes skipped because a person edited.

        With a fingerprint, raise BookChangedError (writing nothing) when the book changed
        since that read; without one (replaying a journal) rely on each write's `expected`,
        and do not append log rows that already end the Log (the replayed tick wrote them).
        """


class StateStore(Protocol):
    """Snapshot, journal, email ledger, counters and the tick lock."""

    def acquire_lock(self, owner: str, lease_seconds: float) -> bool: ...

    def release_lock(self, owner: str) -> None: ...

    def load_snapshot(
        self, remember: Remember | None = None, tabs: Collection[str] | None = None
    ) -> Snapshot:
        """Per tab (all, or `tabs`), per record ID: what the last tick saw (values, state)."""

    def load_meta(self) -> JSON: ...

    def load_journal(self) -> JSON | None:
        """A tick's plan that was saved but not yet committed (the tick crashed)."""

    def save_journal(self, journal: JSON, emails: list[RenderedEmail]) -> None:
        """Store the plan and queue its emails in the ledger, in one transaction."""

    def mark_journal_applied(self) -> None: ...

    def commit_journal(
        self, snapshot_changes: Mapping[str, Mapping[str, JSON | None]], meta: JSON
    ) -> None:
        """Save the new snapshot rows (None deletes) and meta, and drop the journal: atomic."""

    def drop_journal(self) -> None: ...

    def pending_keys(self) -> list[str]:
        """Keys of queued emails not yet marked sent (`pending` or `sending`), in queue order.

        Keys only: a first tick on a big sheet queues thousands of emails, each read in turn.
        """

    def ledger_entry(self, key: str) -> tuple[RenderedEmail, str] | None:
        """An email as queued and its status now (`queued`, `pending`, `sending`, `sent`,
        `uncertain`), or None if the ledger does not know it."""

    def mark_sending(self, key: str) -> None: ...

    def mark_sent(self, key: str, outcome: str = "sent") -> None: ...

    def claim_scheduled_run(self, key: str) -> bool:
        """True the first time a scheduled run is seen (Cloud Scheduler may deliver twice)."""

    def close(self) -> None: ...


class MailSender(Protocol):
    """Delivers rendered emails: outbox folder, SMTP or Gmail."""

    description: str

    def send(self, email: RenderedEmail) -> None:
        """Deliver or raise MailError."""

    def was_sent(self, email: RenderedEmail) -> bool | None:
        """For a send interrupted by a crash: True/False when the sender can tell, else None."""


class InvoiceFolder(Protocol):
    """The invoices folder: a folder beside the workbook, or a Google Drive folder."""

    def scan(self, location: str, cursor: JSON, seen: Container[str]) -> FolderScan:
        """Files in `location` and its subfolders whose key is not in `seen`, with their text.

        `cursor` is what the last committed scan returned (empty for a new location); the
        scan returns the next one. A folder that cannot be read gives a scan with `problem`.
        """


class Renderer(Protocol):
    """Turns an email a flow wants sent into the message the ledger stores (notify.py)."""

    def render(
        self, intent: EmailIntent, *, locale: str, sender: str, sent_at: datetime
    ) -> RenderedEmail: ...


class DealSource(Protocol):
    """A CRM the Deals tab follows (Bitrix24): deals changed since a cursor, deletions.

    Implemented by adapters/bitrix24/deals.py; tests may hand in a fake.
    """

    def pull(self, cursor: Mapping[str, Any], fields: CrmFields) -> CrmPull:
        """Deals changed since `cursor`, within the request budget; errors go into the pull."""

    def visible(self, ids: list[str]) -> set[str]:
        """Which of these deal IDs still exist (and the webhook may read)."""
