"""One tick: lock → finish any interrupted tick → read → plan → journal → write → commit → mail.

The order makes a tick safe to kill anywhere: the plan is journaled before the sheet is
written, emails are queued in the ledger with deterministic keys, and the snapshot moves on
only with the journal's commit. Rerunning finishes what a killed tick started.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from itertools import chain
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from functions.adoption import adopt, ownership_problem
from functions.directory import read_directory, read_settings
from functions.errors import (
    BookBusyError,
    BookChangedError,
    LockHeldError,
    MailError,
    RefusedError,
    StateMismatchError,
)
from functions.invoice_folder import FolderScan, folder_meta
from functions.model import (
    BookRead,
    Cell,
    EmailIntent,
    LogEntry,
    RenderedEmail,
    ReportTab,
    SheetChanges,
    Snapshot,
)
from functions.months import previous_month
from functions.ports import InvoiceFolder, MailSender, SpreadsheetBook, StateStore
from functions.record import same_entry
from functions.schema import TAB_FLOWS, Locale, Schema
from functions.text.messages import say
from functions.tick.crm_join import DealSource, crm_early, crm_join
from functions.tick.diff import sharing_read_values
from functions.tick.journal import decode_changes, encode_changes
from functions.tick.planner import ALL_FLOWS, TickPlan, plan_tick

_log = logging.getLogger("sheetflow")
LEASE_SECONDS = 300.0
FULL_READ = 300.0  # seconds: read all even if the version says nothing changed (it may lag)
Checkpoint = Callable[[str], None]


class Renderer(Protocol):
    def render(
        self, intent: EmailIntent, *, locale: str, sender: str, sent_at: datetime
    ) -> RenderedEmail: ...


@dataclass
class TickReport:
    """What one tick did, for the CLI summary and the Cloud Function's JSON response."""

    outcome: str = "done"  # done | idle | skipped | busy | retry
    message: str = ""
    transitions: list[tuple[str, str, str]] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)  # writes refused for good (ERROR)
    locale: str = "en"  # the book's language, which the messages above are written in


def report_due(meta: dict[str, object], now: datetime) -> str | None:
    """Last month, once the first tick of a month (Settings time zone) comes round."""
    last, zone = meta.get("last_report"), meta.get("time_zone")
    if not isinstance(last, str) or not isinstance(zone, str):
        return None
    month = previous_month(now, ZoneInfo(zone))
    return month if month > last else None


REPORT_TABS = frozenset({"invoices"})  # the row tabs the monthly report counts
# The flow whose tick writes a due report: it reads the Invoices anyway. deal_watch leaves it
# to invoice_flow (and to monthly_report's job), or it would hold both flows' rows at once.
REPORT_FLOW = "invoice"


def _tabs_to_read(flows: frozenset[str], meta: Mapping[str, object]) -> frozenset[str] | None:
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


def read_digest(read: BookRead) -> str:
    """A fingerprint of every value read, to tell a periodic full read that found nothing new."""
    digest = hashlib.blake2b(digest_size=16)
    for key in sorted(read.tables):
        table = read.tables[key]
        digest.update(repr((key, table.columns)).encode())
        for row in table.rows:
            digest.update(repr((row.number, sorted(row.values.items()))).encode())
    return digest.hexdigest()


def _news(scan: FolderScan | None, meta: dict[str, object]) -> bool:
    """Whether the folder has something for the sheet: new files, or a problem came or went."""
    if scan is None:
        return False
    return bool(scan.files) or scan.problem != folder_meta(meta).get("problem_kind")


def drop_unchanged(planned: Mapping[str, dict[str, Any]], stored: Snapshot) -> None:
    """Leave out of the commit the rows the state already holds as planned.

    People or Settings edited make every invoice re-evaluated; most come out as they were, and
    rewriting them all would cost the state store (Firestore bills each document) for nothing.
    """
    for tab, rows in planned.items():
        known = stored.get(tab, {})
        for record in [r for r, entry in rows.items() if entry is not None and r in known]:
            if same_entry(rows[record], known[record]):
                del rows[record]


def _no_checkpoint(step: str) -> None:
    """Tests replace this to kill a tick at a given step."""


class Engine:
    crm: DealSource | None = None  # Bitrix24 feeding Deals: set by the bootstrap when configured

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
    ) -> None:
        self.book, self.state, self.mail = book, state, mail
        self.book_spec, self.state_location = book_spec, state_location
        self.renderer, self.schema = renderer, schema
        self.checkpoint = checkpoint
        self.folder = folder
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
        journal = self.state.load_journal()
        busy = self.book.busy_reason()
        if journal and not busy:
            meta = self.state.load_meta() or journal.get("meta") or {}
            self._check_owner(self.book.read(), meta)
            self._finish(journal, None, report)
        if busy:
            report.locale = self.locale = self._known_locale()
            self.deliver(report)
            report.outcome, report.message = (
                "busy",
                say(report.locale, "tick_nothing_written", why=busy),
            )
            return report
        meta = self.state.load_meta()
        report.locale = self.locale = str(meta.get("locale") or self.locale)
        version = self.book.version()
        due = report_due(meta, now) if REPORT_FLOW in flows else None
        version_key = "book_version" + ("" if flows == ALL_FLOWS else ":" + "+".join(sorted(flows)))
        read_key = version_key + ":read_at"
        last_read = meta.get(read_key)
        # Only a version that may lag behind an edit (Drive's) needs a periodic full read; a
        # workbook's size and mtime change with every save.
        lags = getattr(self.book, "version_may_lag", False)
        fresh = isinstance(last_read, int | float) and now.timestamp() - last_read <= FULL_READ
        recent = fresh or not lags
        scan = self._scan_folder(meta, flows)
        news = _news(scan, meta)
        idle = bool(version) and meta.get(version_key) == version and not due and recent
        pull, idle = crm_early(self.crm, meta, flows, idle and not news, now)
        if idle:
            self._keep_cursor(scan, meta)
            return self._idle(report)  # nobody edited since the last tick: no read at all
        read = self.book.read(_tabs_to_read(flows, meta))
        report.locale = self.locale = read.locale
        self._check_owner(read, meta)
        digest_key, digest = version_key + ":digest", read_digest(read)
        same = meta.get(version_key) == version and meta.get(digest_key) == digest
        if same and not due and not news and (pull is None or pull.quiet(meta)):
            # the periodic full read found what the last one did: no snapshot, no plan
            self.state.commit_journal({}, {**meta, read_key: now.timestamp()})
            return self._idle(report)
        self.checkpoint("read")
        scan = self._rescan_folder(scan, read, meta, flows)
        ids = {tab: self.schema.tab(tab).id_column or "" for tab in TAB_FLOWS}
        tabs = [tab for tab, flow in TAB_FLOWS.items() if flow in flows]  # the flows' own rows
        snapshot = self.state.load_snapshot(sharing_read_values(read, ids), tabs)
        plan = plan_tick(read, snapshot, meta, self.schema, now, flows, scan)
        drop_unchanged(plan.snapshot, snapshot)
        del snapshot  # what the plan needs of it, it holds
        ours = len(plan.changes.writes)
        crm_join(self.crm, pull, read, plan, self.schema, now, flows)
        # Rows appended, or values brought in from the CRM or the invoices folder, are planned
        # by the next tick: it must read them even though the book holds only this tick's save.
        appended = any(a.tab in TAB_FLOWS for a in plan.changes.appends)
        reread = appended or news or len(plan.changes.writes) != ours
        plan.meta[version_key] = version
        plan.meta[read_key] = now.timestamp()
        plan.meta[digest_key] = digest
        plan.meta["locale"] = read.locale  # idle ticks, which read nothing, speak it too
        if read.identity:
            plan.meta["book_id"] = read.identity
        if due:
            plan.changes.reports = [self._report_tab(read, due, plan.changes.log)]
            plan.changes.log.append(self._report_logged(due, read, now))
            plan.meta["last_report"] = due
        report.problems += plan.problems
        if plan.is_empty():
            if plan.meta != meta:
                self.state.commit_journal({}, plan.meta)
            return self._idle(report)
        journal, fingerprint = self._journal(plan, read.locale, now), read.fingerprint
        journal["reread"] = reread
        del read, plan  # the journal holds what is left to do: free every row before sending
        try:
            self._finish(journal, fingerprint, report, version_key)
        except (BookChangedError, BookBusyError) as exc:
            self.state.drop_journal()
            report.outcome = "retry"
            report.message = say(report.locale, "tick_nothing_written", why=exc)
            return report
        self.deliver(report)
        return report

    def _known_locale(self) -> str:
        """The book's language as the last tick recorded it, before this tick reads the book."""
        return str(self.state.load_meta().get("locale") or self.locale)

    def _check_owner(self, read: BookRead, meta: dict[str, object]) -> None:
        """Refuse a state that is missing or another book's: nothing is sent or written."""
        problem = ownership_problem(read, meta)
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

    def _scan_folder(
        self, meta: dict[str, object], flows: frozenset[str], location: str | None = None
    ) -> FolderScan | None:
        """The invoices folder's new files (the location Settings had at the last tick)."""
        if self.folder is None or "invoice" not in flows:
            return None
        state = folder_meta(meta)
        where = str(state.get("location") or "") if location is None else location
        if not where:
            return None
        cursor = state.get("cursor") if where == state.get("location") else None
        return self.folder.scan(where, dict(cursor or {}), state.get("seen") or {})

    def _rescan_folder(
        self,
        scan: FolderScan | None,
        read: BookRead,
        meta: dict[str, object],
        flows: frozenset[str],
    ) -> FolderScan | None:
        """Settings name another folder than the last tick's: look there instead (once)."""
        settings, _ = read_settings(read.table("settings"), self.schema, read.locale)
        wanted = settings.invoices_folder.strip()
        if wanted == (scan.location if scan else str(folder_meta(meta).get("location") or "")):
            return scan
        return self._scan_folder(meta, flows, wanted) if wanted else None

    def _keep_cursor(self, scan: FolderScan | None, meta: dict[str, object]) -> None:
        """An idle tick whose folder listing moved on (changes elsewhere in Drive) keeps it."""
        state = folder_meta(meta)
        if scan is not None and scan.cursor != state.get("cursor"):
            self.state.commit_journal({}, {**meta, "folder": {**state, "cursor": scan.cursor}})

    def monthly_report(self, month: str, now: datetime | None = None) -> ReportTab:
        """Write (or rewrite) the `Report YYYY-MM` tab now, under the tick lock."""
        if not self.state.acquire_lock(self.owner, LEASE_SECONDS):
            raise LockHeldError("another tick is running; try again in a minute")
        try:
            journal = self.state.load_journal()
            if journal:
                self._finish(journal, None, TickReport())
            read = self.book.read(REPORT_TABS)
            self.locale = read.locale
            self._check_owner(read, self.state.load_meta())
            tab = self._report_tab(read, month, [])
            entry = self._report_logged(month, read, now or datetime.now(UTC))
            self.book.apply(SheetChanges(log=[entry], reports=[tab]), read.fingerprint)
            meta = self.state.load_meta()
            if month > str(meta.get("last_report", "")):
                self.state.commit_journal({}, {**meta, "last_report": month})
            return tab
        finally:
            self.state.release_lock(self.owner)

    def _report_tab(self, read: BookRead, month: str, pending: list[LogEntry]) -> ReportTab:
        # pandas (~50 MB, a slower cold start) is loaded only by the ticks that write a report.
        from functions.report import compute_report, report_log, report_tab

        settings, _ = read_settings(read.table("settings"), self.schema, read.locale)
        people = read_directory(read.table("people"), self.schema)
        # The Log streams through: only the rows the report counts are kept.
        rows: Iterable[Sequence[Cell]] = chain(self.book.read_log(), (e.as_row() for e in pending))
        log = report_log(rows, settings.zone, self.schema, month)
        table = compute_report(log, read, people, self.schema, settings.zone, month)
        return report_tab(table, self.schema, "ru" if read.locale == "ru" else "en", month)

    def _report_logged(self, month: str, read: BookRead, now: datetime) -> LogEntry:
        settings, _ = read_settings(read.table("settings"), self.schema, read.locale)
        stamp = now.astimezone(settings.zone).isoformat(sep=" ", timespec="seconds")
        locale: Locale = "ru" if read.locale == "ru" else "en"
        return LogEntry(
            stamp,
            "report",
            month,
            "report",
            details=say(locale, "report_written"),
            flow_shown=self.schema.log_word("log_flows", "report", locale),
            event_shown=self.schema.log_word("log_events", "report", locale),
        )

    def _idle(self, report: TickReport) -> TickReport:
        self.deliver(report)
        report.outcome = report.outcome if report.transitions else "idle"
        report.message = report.message or say(report.locale, "tick_idle")
        return report

    def _journal(self, plan: TickPlan, locale: str, now: datetime) -> dict[str, object]:
        emails = [
            self.renderer.render(i, locale=locale, sender=plan.sender, sent_at=now)
            for i in plan.emails
        ]
        journal: dict[str, object] = {
            "changes": encode_changes(plan.changes),
            "snapshot": plan.snapshot,
            "meta": plan.meta,
            "transitions": plan.transitions,
            "conflicts": plan.conflicts,
            "locale": locale,
            "applied": False,
        }
        self.state.save_journal(journal, emails)
        self.checkpoint("journal_saved")
        return journal

    def _finish(
        self,
        journal: dict[str, object],
        fingerprint: str | None,
        report: TickReport,
        version_key: str | None = None,
    ) -> None:
        """Apply a journaled plan (again, if a crash cut it short) and commit it."""
        if not journal.get("applied"):
            changes = decode_changes(journal["changes"])  # type: ignore[arg-type]
            try:
                skipped = self.book.apply(changes, fingerprint)
            except RefusedError as exc:
                if not self._set_aside(journal, exc, report):
                    raise
                return self._finish(journal, None, report)  # the rest, without the refused part
            report.conflicts += skipped
            # A book that wrote exactly the file it read plus this plan (a workbook) names
            # the file's new version: the next tick is idle unless someone saves again.
            own = getattr(self.book, "written_version", None)
            kept = skipped or journal.get("reread")  # a person's value, or rows yet to plan
            if version_key and own and fingerprint is not None and not kept:
                journal["meta"] = {**journal["meta"], version_key: own}  # type: ignore[dict-item]
            self.checkpoint("sheet_applied")
            self.state.mark_journal_applied()
        self.checkpoint("before_commit")
        self.state.commit_journal(journal["snapshot"], journal["meta"])  # type: ignore[arg-type]
        self.checkpoint("committed")
        report.transitions += [tuple(t) for t in journal["transitions"]]  # type: ignore[attr-defined]
        report.conflicts += list(journal["conflicts"])  # type: ignore[call-overload]

    def _set_aside(self, journal: dict[str, object], exc: RefusedError, report: TickReport) -> bool:
        """Count a refusal of the journaled write; set its part aside once it is hopeless."""
        from functions.tick import setaside

        if not setaside.count_refusal(journal, exc):
            self.state.save_journal(journal, [])  # the count survives to the next tick
            return False
        locale = str(journal.get("locale") or "en")
        entry = setaside.set_aside(journal, exc, self.schema, locale, datetime.now(UTC))
        self.state.save_journal(journal, [])
        message = say(
            report.locale, "tick_set_aside", request=entry["request"], error=entry["error"]
        )
        _log.error("%s (rows: %s)", message, ", ".join(entry["records"]) or "none")
        report.problems.append(message)
        report.set_aside.append(message)
        return True

    def deliver(self, report: TickReport) -> None:
        """Send every queued email once; a send cut short by a crash is checked first.

        A tick stalled past its lease may have been taken over: before each email it renews
        the lease (and stops if another tick holds it) and re-reads the email's status, so it
        never sends beside that tick nor resends what that tick sent.
        """
        for key in self.state.pending_keys():
            if self._holds_lock and not self.state.acquire_lock(self.owner, LEASE_SECONDS):
                report.problems.append(say(report.locale, "tick_lost_lock"))
                return
            entry = self.state.ledger_entry(key)
            if entry is None or entry[1] not in ("pending", "sending"):
                continue  # sent meanwhile by a tick that took over
            email, status = entry
            if status == "sending":
                delivered = self.mail.was_sent(email)
                if delivered is None:
                    self.state.mark_sent(email.key, "uncertain")
                    to = ", ".join(email.to)
                    said = say(report.locale, "tick_email_uncertain", subject=email.subject, to=to)
                    report.problems.append(said)
                    continue
                if delivered:
                    self.state.mark_sent(email.key)
                    continue
            self.state.mark_sending(email.key)
            try:
                self.mail.send(email)
            except MailError as exc:
                # Maybe delivered: stay at "sending" so the next tick asks the sender first.
                self.state.mark_sent(email.key, "sending" if exc.maybe_sent else "pending")
                report.problems.append(say(report.locale, "tick_mail_retry", error=exc))
                return
            self.state.mark_sent(email.key)
            report.emails.append(f"{', '.join(email.to)} — {email.subject}")
            self.checkpoint("email_sent")
