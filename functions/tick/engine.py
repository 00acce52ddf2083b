"""One tick: lock → finish any interrupted tick → gather → plan → journal → write → commit → mail.

The order makes a tick safe to kill anywhere: the plan is journaled before the sheet is
written, emails are queued in the ledger with deterministic keys, and the snapshot moves on
only with the journal's commit. Rerunning finishes what a killed tick started.
"""

from __future__ import annotations

import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime

from functions.adoption import adopt, ownership_problem
from functions.errors import (
    BookBusyError,
    BookChangedError,
    LockHeldError,
    RefusedError,
    StateMismatchError,
)
from functions.meta import LAST_REPORT, LOCALE
from functions.model import BookRead, ReportTab, SheetChanges, TickPlan
from functions.ports import (
    DealSource,
    InvoiceFolder,
    MailSender,
    Renderer,
    SpreadsheetBook,
    StateStore,
)
from functions.schema import Schema
from functions.text.messages import say
from functions.tick import setaside
from functions.tick.assemble import plan_whole_tick
from functions.tick.delivery import deliver
from functions.tick.gather import Gatherer
from functions.tick.journal import Journal
from functions.tick.monthly import REPORT_TABS, report_logged, report_tab
from functions.tick.planner import ALL_FLOWS
from functions.tick.tick_report import TickReport

__all__ = ["LEASE_SECONDS", "Checkpoint", "Engine", "TickReport"]

_log = logging.getLogger("sheetflow")
LEASE_SECONDS = 300.0
Checkpoint = Callable[[str], None]


def _no_checkpoint(step: str) -> None:
    """Tests replace this to kill a tick at a given step."""


class Engine:
    def __init__(
        self,
        book: SpreadsheetBook,
        state: StateStore,
        mail: MailSender,
        renderer: Renderer,
        schema: Schema,
        checkpoint: Checkpoint = _no_checkpoint,
        folder: InvoiceFolder | None = None,
        *,
        book_spec: str = "",
        state_location: str = "",
        crm: DealSource | None = None,
    ) -> None:
        self.book, self.state, self.mail = book, state, mail
        self.book_spec, self.state_location = book_spec, state_location
        self.renderer, self.schema = renderer, schema
        self.checkpoint = checkpoint
        self.folder = folder
        self.crm = crm  # Bitrix24 feeding Deals, when its webhook is configured
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._holds_lock = False
        self.locale = "en"  # the book's language, once a tick (or the state) has told it

    def tick(
        self,
        now: datetime | None = None,
        flows: frozenset[str] = ALL_FLOWS,
        wait_seconds: float = 0.0,
    ) -> TickReport:
        """One pass over `flows`; if another tick holds the lock, wait up to `wait_seconds`."""
        if not self._lock(wait_seconds):
            self.locale = self._known_locale()
            message = say(self.locale, "tick_skipped")
            return TickReport("skipped", message, locale=self.locale)
        self._holds_lock = True
        try:
            return self._locked_tick(now or datetime.now(UTC), flows)
        finally:
            self._holds_lock = False
            self.state.release_lock(self.owner)

    def _lock(self, wait_seconds: float) -> bool:
        deadline = time.monotonic() + wait_seconds
        while not self.state.acquire_lock(self.owner, LEASE_SECONDS):
            if time.monotonic() >= deadline:
                return False
            time.sleep(min(1.0, max(0.0, deadline - time.monotonic())))
        return True

    def _locked_tick(self, now: datetime, flows: frozenset[str]) -> TickReport:
        report = TickReport(locale=self.locale)
        journal = self._load_journal()
        busy = self.book.busy_reason()
        if journal and not busy:
            self._check_owner(self.book.read(), self.state.load_meta() or journal.meta or {})
            self._finish(journal, None, report)
        if busy:
            report.locale = self.locale = self._known_locale()
            self.deliver(report)
            report.outcome = "busy"
            report.message = say(report.locale, "tick_nothing_written", why=busy)
            return report
        meta = self.state.load_meta()
        report.locale = self.locale = str(meta.get(LOCALE) or self.locale)
        inputs = self._gatherer().gather(meta, now, flows)
        report.locale = self.locale  # the book's, once it is read
        if inputs is None:
            return self._idle(report)  # nobody edited since the last tick: nothing to plan
        fingerprint, version_key = inputs.read.fingerprint, inputs.freshness.version_key
        plan = plan_whole_tick(inputs, self.schema)
        del inputs  # the plan holds what it needs: free every row before sending
        report.problems += plan.problems
        if plan.is_empty():
            if plan.meta != meta:
                self.state.commit_journal({}, plan.meta)
            return self._idle(report)
        journal = self._journal(plan, now)
        del plan  # the journal holds what is left to do
        try:
            self._finish(journal, fingerprint, report, version_key)
        except (BookChangedError, BookBusyError) as exc:
            self.state.drop_journal()
            report.outcome = "retry"
            report.message = say(report.locale, "tick_nothing_written", why=exc)
            return report
        self.deliver(report)
        return report

    def _gatherer(self) -> Gatherer:
        return Gatherer(
            self.book,
            self.state,
            self.schema,
            self.folder,
            self.crm,
            self._seen_read,
            self.checkpoint,
        )

    def _seen_read(self, read: BookRead, meta: Mapping[str, object]) -> None:
        self.locale = read.locale
        self._check_owner(read, meta)

    def _known_locale(self) -> str:
        """The book's language as the last tick recorded it, before this tick reads the book."""
        return str(self.state.load_meta().get(LOCALE) or self.locale)

    def _check_owner(self, read: BookRead, meta: Mapping[str, object]) -> None:
        """Refuse a state that is missing or another book's: nothing is sent or written."""
        problem = ownership_problem(read, dict(meta))
        if problem is None:
            return
        lang, location = read.locale, self.state_location
        where = say(lang, "state_where", location=location) if location else ""
        book = self.book_spec or self.book.name
        key = "state_missing" if problem == "missing" else "state_of_another_book"
        why = say(lang, key, where=where)
        raise StateMismatchError(say(lang, "state_mismatch", why=why, book=book))

    def adopt(self, now: datetime | None = None) -> str:
        """Record the book as it stands in this state: no email, one Log line."""
        if not self.state.acquire_lock(self.owner, LEASE_SECONDS):
            raise LockHeldError("another tick is running; try again in a minute")
        try:
            self.state.drop_journal()
            for key in self.state.pending_keys():  # another book's queued emails never go out
                self.state.mark_sent(key, "dropped")
            read = self.book.read()
            self.locale = read.locale
            known = {tab: list(rows) for tab, rows in self.state.load_snapshot().items()}
            snapshot, meta, entry = adopt(read, known, self.schema, now or datetime.now(UTC))
            self.book.apply(SheetChanges(log=[entry]), read.fingerprint)
            self.state.commit_journal(snapshot, meta)
            return entry.details
        finally:
            self.state.release_lock(self.owner)

    def monthly_report(self, month: str, now: datetime | None = None) -> ReportTab:
        """Write (or rewrite) the `Report YYYY-MM` tab now, under the tick lock."""
        if not self.state.acquire_lock(self.owner, LEASE_SECONDS):
            raise LockHeldError("another tick is running; try again in a minute")
        try:
            journal = self._load_journal()
            if journal:
                self._finish(journal, None, TickReport())
            read = self.book.read(REPORT_TABS)
            self.locale = read.locale
            self._check_owner(read, self.state.load_meta())
            tab = report_tab(read, month, self.book.read_log(), [], self.schema)
            entry = report_logged(month, read, now or datetime.now(UTC), self.schema)
            self.book.apply(SheetChanges(log=[entry], reports=[tab]), read.fingerprint)
            meta = self.state.load_meta()
            if month > str(meta.get(LAST_REPORT, "")):
                self.state.commit_journal({}, {**meta, LAST_REPORT: month})
            return tab
        finally:
            self.state.release_lock(self.owner)

    def _idle(self, report: TickReport) -> TickReport:
        self.deliver(report)
        report.outcome = report.outcome if report.transitions else "idle"
        report.message = report.message or say(report.locale, "tick_idle")
        return report

    def _load_journal(self) -> Journal | None:
        saved = self.state.load_journal()
        return Journal.from_json(saved) if saved else None

    def _journal(self, plan: TickPlan, now: datetime) -> Journal:
        locale = self.locale
        emails = [
            self.renderer.render(i, locale=locale, sender=plan.sender, sent_at=now)
            for i in plan.emails
        ]
        journal = Journal(
            plan.changes,
            plan.snapshot,
            plan.meta,
            plan.transitions,
            plan.conflicts,
            locale,
            reread=plan.reread,
        )
        self.state.save_journal(journal.to_json(), emails)
        self.checkpoint("journal_saved")
        return journal

    def _finish(
        self,
        journal: Journal,
        fingerprint: str | None,
        report: TickReport,
        version_key: str | None = None,
    ) -> None:
        """Apply a journaled plan (again, if a crash cut it short) and commit it."""
        if not journal.applied:
            try:
                skipped = self.book.apply(journal.changes, fingerprint)
            except RefusedError as exc:
                if not self._set_aside(journal, exc, report):
                    raise
                return self._finish(journal, None, report)  # the rest, without the refused part
            report.conflicts += skipped
            # A book that wrote exactly the file it read plus this plan (a workbook) names
            # the file's new version: the next tick is idle unless someone saves again.
            own = self.book.written_version
            kept = skipped or journal.reread  # a person's value, or rows yet to plan
            if version_key and own and fingerprint is not None and not kept:
                journal.meta = {**journal.meta, version_key: own}
            self.checkpoint("sheet_applied")
            self.state.mark_journal_applied()
        self.checkpoint("before_commit")
        self.state.commit_journal(journal.snapshot, journal.meta)
        self.checkpoint("committed")
        report.transitions += journal.transitions
        report.conflicts += journal.conflicts

    def _set_aside(self, journal: Journal, exc: RefusedError, report: TickReport) -> bool:
        """Count a refusal of the journaled write; set its part aside once it is hopeless."""
        if not setaside.count_refusal(journal, exc):
            self.state.save_journal(journal.to_json(), [])  # the count survives to the next tick
            return False
        entry = setaside.set_aside(journal, exc, self.schema, journal.locale, datetime.now(UTC))
        self.state.save_journal(journal.to_json(), [])
        message = say(
            report.locale, "tick_set_aside", request=entry["request"], error=entry["error"]
        )
        _log.error("%s (rows: %s)", message, ", ".join(entry["records"]) or "none")
        report.problems.append(message)
        report.set_aside.append(message)
        return True

    def deliver(self, report: TickReport) -> None:
        """Send every queued email once (see delivery.deliver)."""
        renew = self._renew_lock if self._holds_lock else None
        deliver(self.state, self.mail, report, renew, self.checkpoint)

    def _renew_lock(self) -> bool:
        return self.state.acquire_lock(self.owner, LEASE_SECONDS)
