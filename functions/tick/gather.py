"""A tick's inputs, gathered from the book, the state, the invoices folder and the CRM.

The book's version is asked first: a book nobody edited is not read at all, unless the
folder or the CRM bring something. Then the book is read, the folder looked at once (where
Settings name it), the snapshot loaded and the CRM pulled: a `TickInputs` the plan is made
from, purely.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

from functions.directory import read_settings
from functions.invoices.folder import folder_meta, folder_news
from functions.meta import FOLDER
from functions.model import BookRead, FolderScan
from functions.ports import DealSource, InvoiceFolder, SpreadsheetBook, StateStore
from functions.schema import TAB_FLOWS, Schema
from functions.tick.crm_join import crm_early, crm_late
from functions.tick.diff import sharing_read_values
from functions.tick.freshness import Freshness, read_digest
from functions.tick.inputs import ReportDue, TickInputs
from functions.tick.monthly import REPORT_FLOW, REPORT_TABS, report_due
from functions.tick.planner import ALL_FLOWS


def tabs_to_read(flows: frozenset[str], meta: Mapping[str, object]) -> frozenset[str] | None:
    """The row tabs a tick of `flows` reads (None: all): its own, since a Cloud Function runs
    one flow and at 100,000 rows another flow's rows would double its memory. A tick that
    writes the monthly report is REPORT_FLOW's, which reads what the report counts anyway;
    Invoices too when the state is empty (whether the book has a past is told by them)."""
    if flows == ALL_FLOWS:
        return None
    wanted = {tab for tab, flow in TAB_FLOWS.items() if flow in flows}
    if not meta:
        wanted |= REPORT_TABS
    return frozenset(wanted)


@dataclass
class Gatherer:
    """The ports one tick asks, and what it does with the read before planning from it."""

    book: SpreadsheetBook
    state: StateStore
    schema: Schema
    folder: InvoiceFolder | None
    crm: DealSource | None
    seen_read: Callable[[BookRead, Mapping[str, object]], None]  # the book's language, owner
    checkpoint: Callable[[str], None]

    def gather(
        self, meta: dict[str, object], now: datetime, flows: frozenset[str]
    ) -> TickInputs | None:
        """What the tick plans from; None when it finds nothing new (committing what moved).

        The version is asked first: a book nobody edited is not read at all, and the folder
        and the CRM are asked then whether they bring anything.
        """
        due = report_due(meta, now) if REPORT_FLOW in flows else None
        keyed = None if flows == ALL_FLOWS else flows
        lags = self.book.version_may_lag
        fresh = Freshness.of(meta, keyed, self.book.version(), now, lags)
        unchanged = fresh.unchanged() and not due
        early = self._scan(meta, flows, folder_location(meta)) if unchanged else None
        pull, idle = crm_early(
            self.crm, meta, flows, unchanged and not folder_news(early, meta), now
        )
        if idle:
            self._keep_cursor(early, meta)
            return None
        read = self.book.read(tabs_to_read(flows, meta))
        self.seen_read(read, meta)
        scan = self._folder_scan(early, unchanged, read, meta, flows)
        news, digest = folder_news(scan, meta), read_digest(read)
        if fresh.same_read(digest) and not due and not news and (pull is None or pull.quiet(meta)):
            # the periodic full read found what the last one did: no snapshot, no plan
            self.state.commit_journal({}, {**meta, **fresh.read_now()})
            return None
        self.checkpoint("read")
        ids = {tab: self.schema.tab(tab).id_column or "" for tab in TAB_FLOWS}
        tabs = [tab for tab, flow in TAB_FLOWS.items() if flow in flows]  # the flows' own rows
        return TickInputs(
            read,
            meta,
            now,
            flows,
            fresh,
            digest,
            snapshot=self.state.load_snapshot(sharing_read_values(read, ids), tabs),
            folder=scan,
            crm=crm_late(self.crm, pull, read, meta, self.schema, now, flows),
            report=ReportDue(due, self.book.read_log()) if due else None,
            folder_news=news,
        )

    def _scan(
        self, meta: Mapping[str, object], flows: frozenset[str], where: str
    ) -> FolderScan | None:
        """The invoices folder's files new since the last committed look at `where`."""
        if self.folder is None or "invoice" not in flows or not where:
            return None
        state = folder_meta(meta)
        cursor = state.get("cursor") if where == state.get("location") else None
        return self.folder.scan(where, dict(cursor or {}), state.get("seen") or {})

    def _folder_scan(
        self,
        early: FolderScan | None,
        unchanged: bool,
        read: BookRead,
        meta: Mapping[str, object],
        flows: frozenset[str],
    ) -> FolderScan | None:
        """The folder Settings name now: looked at once, after the read, unless the early
        look (an unedited book) was already there."""
        settings, _ = read_settings(read.table("settings"), self.schema, read.locale)
        wanted = settings.invoices_folder.strip()
        if unchanged and wanted == (early.location if early else folder_location(meta)):
            return early
        return self._scan(meta, flows, wanted)

    def _keep_cursor(self, scan: FolderScan | None, meta: dict[str, object]) -> None:
        """An idle tick whose folder listing moved on (changes elsewhere in Drive) keeps it."""
        state = folder_meta(meta)
        if scan is not None and scan.cursor != state.get("cursor"):
            self.state.commit_journal({}, {**meta, FOLDER: {**state, "cursor": scan.cursor}})


def folder_location(meta: Mapping[str, object]) -> str:
    """Where the last tick looked for the invoices folder ("" when nowhere)."""
    return str(folder_meta(meta).get("location") or "")
