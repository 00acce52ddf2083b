"""Soak: many ticks of random people's edits on a big workbook, invariants checked after each.

    .venv/bin/python -m tests.soak                       # 1,000 ticks on 2,000 rows
    .venv/bin/python -m tests.soak --ticks 20 --rows 200 # the short version (under a minute)

Not collected by pytest (no `test_` prefix); tests/integration/test_soak_short.py runs the
short version. Seeded: the same seed plays the same edits. After every tick it checks that
no typed value is lost (a value a person typed is still in its cell unless they changed it
again; a Decision and Comment cleared by a resubmission, or a locked Accountant restored,
must be in the Log), that every transition is logged as an unbroken chain ending at the
row's Status, that each email was written once (outbox, ledger and Log agree) and that
every Status is a valid one, and that a claimed invoice keeps the accountant who claimed it
first. It stops at the first broken invariant.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import statistics
import tempfile
import time
from collections import Counter
from copy import copy
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import openpyxl

from functions.schema import load_schema
from functions.text.parsing import parse_amount, parse_date, text
from functions.tick.engine import TickReport
from tests.local_backend import (
    PEOPLE,
    make_engine,
    new_book,
    parse_eml,
    save_like_an_office_program,
    state_path,
    type_into,
)

SCHEMA = load_schema()
COLUMNS = {c.key: c.header["en"] for c in SCHEMA.tab("invoices").columns}
PEOPLE_KEYS = [c.key for c in SCHEMA.tab("invoices").columns if c.owner == "people"]
STATUSES = {key: names["en"] for key, names in SCHEMA.labels.statuses.items()}
VALID_STATUSES = set(STATUSES.values())
MANAGERS = [p[0] for p in PEOPLE if p[2] == "manager"]
ACCOUNTANTS = [p[0] for p in PEOPLE if p[2] == "accountant"]
SUPPLIERS = ["Acme Steel", "Baltic Paper", "Crown Tools", "Delta Logistics", "Élan Café"]
JUNK = ["=1+1", "@SUM(A1)", "-5", "Paid!!", "done?", "+7 999 123", "   ", "x"]
BAD = {
    "amount": ["abc", "#REF!", "-100", "0", "1.2.3"],
    "supplier_email": ["nobody", "a@b", "x\nBcc: evil@x.com"],
    "invoice_date": ["31.02.2026", "yesterday", "2026-13-01"],
}
KINDS = ["progress", "race", "automation", "bad", "new", "sort", "delete", "copy", "uncopy", "text"]
START = datetime(2026, 11, 25, 7, 0, tzinfo=UTC)
STEP = timedelta(minutes=11)


class SoakFailure(AssertionError):
    """An invariant broke: the message says which, at which tick, for which row."""


@dataclass
class Counts:
    ticks: int = 0
    edits: Counter[str] = field(default_factory=Counter)
    transitions: int = 0
    emails: int = 0
    conflicts: int = 0
    problems: int = 0
    tick_seconds: list[float] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        times = sorted(self.tick_seconds) or [0.0]
        return {
            "ticks": self.ticks,
            "edits": sum(self.edits.values()),
            "edits_by_kind": dict(sorted(self.edits.items())),
            "transitions": self.transitions,
            "emails": self.emails,
            "conflicts": self.conflicts,
            "problems": self.problems,
            "tick_p50_s": round(statistics.median(times), 3),
            "tick_p95_s": round(times[min(len(times) - 1, int(len(times) * 0.95))], 3),
            "tick_max_s": round(times[-1], 3),
            "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        }


def _today(now: datetime) -> str:
    return now.strftime("%d.%m.%Y")


class Sheet:
    """The Invoices tab opened for one person's save: rows by invoice no. (our identity)."""

    def __init__(self, book: Path) -> None:
        self.wb = openpyxl.load_workbook(book)
        self.ws = self.wb["Invoices"]
        header = {c.value: c.column for c in self.ws[1] if c.value}
        self.col = {key: header[name] for key, name in COLUMNS.items()}
        self.rows = self._rows()

    def _rows(self) -> dict[str, int]:
        found = {}
        for row in range(2, self.ws.max_row + 1):
            number = self.ws.cell(row, self.col["invoice_no"]).value
            if number:
                found[str(number)] = row
        self._cache: dict[tuple[str, str], Any] = {}
        return found

    def get(self, number: str, key: str) -> Any:
        if (number, key) not in self._cache:
            self._cache[number, key] = self.ws.cell(self.rows[number], self.col[key]).value
        return self._cache[number, key]

    def put(self, number: str, key: str, value: Any) -> None:
        type_into(self.ws.cell(self.rows[number], self.col[key]), value)
        self._cache[number, key] = value

    def add(self, values: dict[str, Any]) -> None:
        row = max(self.rows.values(), default=1) + 1
        for key, value in values.items():
            type_into(self.ws.cell(row, self.col[key]), value)
        self.rows[str(values["invoice_no"])] = row

    def sort(self, key: str, reverse: bool) -> None:
        """Sort the data rows as a spreadsheet does: values and formats move together."""
        numbers = sorted(self.rows.values())
        width = self.ws.max_column
        cells = [
            [(c.value, copy(c._style), c.data_type) for c in self.ws[row][:width]]
            for row in numbers
        ]
        index = self.col[key] - 1
        cells.sort(key=lambda r: text(r[index][0]), reverse=reverse)
        for row, values in zip(numbers, cells, strict=True):
            for col, (value, style, kind) in enumerate(values, start=1):
                cell = self.ws.cell(row, col)
                cell.value, cell._style, cell.data_type = value, style, kind
        self.rows = self._rows()

    def delete(self, number: str) -> None:
        self.ws.delete_rows(self.rows[number])
        self.rows = self._rows()

    def save(self, book: Path) -> None:
        save_like_an_office_program(self.wb, book)


class Soak:
    def __init__(self, folder: Path, rows: int, seed: int) -> None:
        self.rng = random.Random(seed)
        self.book = new_book(folder)
        self.outbox = folder / "outbox"
        self.now = START
        self.serial = 0
        self.typed: dict[str, dict[str, Any]] = {}  # invoice no. → people's cells as typed
        self.chain: dict[str, str] = {}  # record → the Status its Log transitions end at
        self.claimed: dict[str, str] = {}  # record → the accountant whose claim won
        self.log_rows = 1
        self.keys: set[str] = set()
        self.message_ids: set[str] = set()
        self.seen_files: set[str] = set()
        self.email_events = 0
        self.junk: dict[str, tuple[str, str]] = {}  # record → (column, junk typed over it)
        self.deleted_ids: set[str] = set()
        self.counts = Counts()
        sheet = Sheet(self.book)
        for _ in range(rows):
            self._new_row(sheet, complete=self.rng.random() < 0.9)
        sheet.save(self.book)

    # -- people's edits -----------------------------------------------------------------
    def _new_row(self, sheet: Sheet, complete: bool = True) -> None:
        self.serial += 1
        number = f"S-{self.serial:06d}"
        values: dict[str, Any] = {
            "manager": self.rng.choice(MANAGERS),
            "supplier": self.rng.choice(SUPPLIERS),
            "supplier_email": f"billing{self.serial}@supplier.example",
            "invoice_no": number,
            "invoice_date": "20.11.2026",
            "amount": self.rng.randint(1, 99_999),
            "currency": self.rng.choice([None, "EUR", "USD"]),
            "invoice_file": f"https://files.example/{number}.pdf",
            "signer": "Dmitry Volkov",
        }
        if not complete:
            values[self.rng.choice(["signer", "amount", "supplier_email"])] = None
        sheet.add(values)
        self.typed[number] = {k: values.get(k) for k in PEOPLE_KEYS}

    def _type(self, sheet: Sheet, number: str, key: str, value: Any) -> None:
        sheet.put(number, key, value)
        if key in self.typed[number]:
            self.typed[number][key] = value

    def edit(self) -> None:
        sheet = Sheet(self.book)
        for _ in range(self.rng.randint(1, 6)):
            kind = self.rng.choices(
                KINDS,
                weights=[55, 7, 7, 8, 9, 3, 2, 2, 3, 7],
            )[0]
            if getattr(self, f"_edit_{kind}")(sheet):
                self.counts.edits[kind] += 1
        sheet.save(self.book)

    def _pick(self, sheet: Sheet, *statuses: str) -> str | None:
        wanted, twins = {STATUSES[s] for s in statuses}, self.duplicated(sheet)
        found = [
            n
            for n in sheet.rows
            if sheet.get(n, "status") in wanted
            and sheet.get(n, "id")
            and sheet.get(n, "id") not in twins
        ]
        return self.rng.choice(found) if found else None

    def duplicated(self, sheet: Sheet) -> set[str]:
        ids = Counter(sheet.get(n, "id") for n in sheet.rows if sheet.get(n, "id"))
        return {i for i, count in ids.items() if count > 1}

    def _edit_progress(self, sheet: Sheet) -> bool:
        status = self.rng.choice(list(STATUSES))
        number = self._pick(sheet, status)
        if number is None:
            return False
        roll = self.rng.random()
        if status == "new":
            for key in ("signer", "amount", "supplier_email", "invoice_date"):
                self._type(sheet, number, key, _fixed(key, self.serial))
        elif status == "awaiting_decision":
            if roll < 0.6:
                self._type(sheet, number, "decision", "Approve")
            elif roll < 0.85:
                self._type(sheet, number, "decision", "Rework")
                self._type(sheet, number, "comment", f"Fix VAT ({self.rng.randint(1, 99)})")
            elif roll < 0.95:
                self._type(sheet, number, "decision", "Rework")
            else:
                self._type(sheet, number, "decision", "Maybe later")
        elif status == "rework":
            self._type(sheet, number, "invoice_file", f"https://files.example/{number}-v{roll}.pdf")
        elif status == "awaiting_accountant":
            who = self.rng.choice(ACCOUNTANTS) if roll < 0.85 else "Nobody Known"
            self._type(sheet, number, "accountant", who)
        elif status == "in_payment":
            paid = _today(self.now) if roll < 0.8 else ("01.01.2020" if roll < 0.9 else "soon")
            self._type(sheet, number, "paid_on", paid)
        elif status == "awaiting_closing_docs":
            self._type(sheet, number, "closing_docs", f"https://files.example/{number}-docs.pdf")
        else:
            self._type(sheet, number, "comment", f"archived {roll:.3f}")
        return True

    def _edit_race(self, sheet: Sheet) -> bool:
        """Someone overwrites the locked Accountant of a claimed invoice."""
        number = self._pick(sheet, "in_payment", "awaiting_closing_docs", "closed")
        if number is None:
            return False
        other = [a for a in ACCOUNTANTS if a != sheet.get(number, "accountant")]
        self._type(sheet, number, "accountant", self.rng.choice(other))
        return True

    def _edit_automation(self, sheet: Sheet) -> bool:
        """Someone types over a cell sheetflow fills in (Status, Note, Updated)."""
        number = self._pick(sheet, *STATUSES)
        if number is None:
            return False
        column, junk = self.rng.choice(["status", "note", "updated"]), self.rng.choice(JUNK)
        sheet.put(number, column, junk)
        self.junk[str(sheet.get(number, "id"))] = (column, junk)
        return True

    def _edit_bad(self, sheet: Sheet) -> bool:
        number = self.rng.choice(list(sheet.rows))
        key = self.rng.choice(list(BAD))
        self._type(sheet, number, key, self.rng.choice(BAD[key]))
        return True

    def _edit_new(self, sheet: Sheet) -> bool:
        self._new_row(sheet, complete=self.rng.random() < 0.8)
        return True

    def _edit_sort(self, sheet: Sheet) -> bool:
        sheet.sort(
            self.rng.choice(["supplier", "amount", "invoice_no", "manager"]),
            bool(self.rng.getrandbits(1)),
        )
        return True

    def _edit_delete(self, sheet: Sheet) -> bool:
        number = self.rng.choice(list(sheet.rows))
        record = sheet.get(number, "id")
        sheet.delete(number)
        del self.typed[number]
        if record and not _still_there(sheet, record):  # a copy's twin keeps the record alive
            self.deleted_ids.add(str(record))
        return True

    def _edit_uncopy(self, sheet: Sheet) -> bool:
        """Someone does what a copy's Note says: clears its ID cell (a new ID follows)."""
        copies = [n for n in sheet.rows if "looks like a copy" in text(sheet.get(n, "note"))]
        if not copies:
            return False
        sheet.put(self.rng.choice(copies), "id", None)
        return True

    def _edit_copy(self, sheet: Sheet) -> bool:
        """A row copied with its ID as a template for a new invoice (a clear Note follows)."""
        number = self._pick(sheet, *STATUSES)
        if number is None:
            return False
        values = {key: sheet.get(number, key) for key in COLUMNS}
        self.serial += 1
        values["invoice_no"] = f"S-{self.serial:06d}"
        sheet.add(values)
        self.typed[values["invoice_no"]] = {k: values.get(k) for k in PEOPLE_KEYS}
        return True

    def _edit_text(self, sheet: Sheet) -> bool:
        number = self.rng.choice(list(sheet.rows))
        key = self.rng.choice(["currency", "supplier", "comment", "manager"])
        choice = {"manager": MANAGERS + ["Someone Else"], "supplier": SUPPLIERS}.get(
            key, ["EUR", "USD", "free text", None]
        )
        self._type(sheet, number, key, self.rng.choice(choice))
        return True

    # -- the tick and the invariants -------------------------------------------------------
    def tick(self) -> TickReport:
        engine = make_engine(self.book)
        try:
            started = time.perf_counter()
            report = engine.tick(self.now)
            self.counts.tick_seconds.append(time.perf_counter() - started)
        finally:
            engine.state.close()
        self.counts.ticks += 1
        self.counts.transitions += sum(1 for _r, before, _after in report.transitions if before)
        self.counts.emails += len(report.emails)
        self.counts.conflicts += len(report.conflicts)
        self.counts.problems += len(report.problems)
        if report.outcome not in ("done", "idle"):
            self.fail(f"the tick ended {report.outcome}: {report.message}")
        self.now += STEP
        return report

    def fail(self, what: str) -> None:
        raise SoakFailure(f"tick {self.counts.ticks}: {what}")

    def check(self) -> None:
        log = self._new_log_rows()
        rows = _read_invoices(self.book)
        self._check_typed(rows, log)
        self._check_chains(rows, log)
        self._check_restored(rows, log)
        self._check_emails(log)

    def _new_log_rows(self) -> list[dict[str, Any]]:
        wb = openpyxl.load_workbook(self.book, read_only=True)
        try:
            ws = wb["Log"]
            header = [c.value for c in next(ws.iter_rows(max_row=1))]
            new = [
                dict(zip(header, values, strict=False))
                for values in ws.iter_rows(min_row=self.log_rows + 1, values_only=True)
                if any(v is not None for v in values)
            ]
        finally:
            wb.close()
        self.log_rows += len(new)
        for row in new:  # the Log reads in the book's language; the checks speak in keys
            row["Event"] = SCHEMA.log_key("log_events", text(row.get("Event")))
            row["Flow"] = SCHEMA.log_key("log_flows", text(row.get("Flow")))
        return new

    def _check_typed(self, rows: dict[str, dict[str, Any]], log: list[dict[str, Any]]) -> None:
        if set(rows) != set(self.typed):
            lost, extra = set(self.typed) - set(rows), set(rows) - set(self.typed)
            self.fail(f"rows lost {sorted(lost)[:5]} or appeared {sorted(extra)[:5]}")
        events = {(r["Record"], r["Event"]): r for r in log}
        for number, typed in self.typed.items():
            row = rows[number]
            for key, value in typed.items():
                now = row[COLUMNS[key]]
                if now == value:
                    continue
                record = row[COLUMNS["id"]]
                if now is None and any(  # cleared, or not acted on: the Log keeps it
                    f"{COLUMNS[key]}: {text(value)}" in (entry["Details"] or "")
                    for entry in (events.get((record, e)) for e in ("cleared", "not_acted_on"))
                    if entry
                ):
                    typed[key] = None
                    continue
                if _conflict_logged(log, record, value, now):  # restored: locked or paid
                    typed[key] = now
                    continue
                if _settled(log, record, key, value, now):  # text → the same number or date
                    typed[key] = now
                    continue
                self.fail(f"{number} {COLUMNS[key]}: typed {value!r}, now {now!r}")

    def _check_chains(self, rows: dict[str, dict[str, Any]], log: list[dict[str, Any]]) -> None:
        for entry in log:
            if entry["Flow"] == "invoice":
                self._follow(entry)
        if self.deleted_ids:
            self.fail(f"rows deleted without a Log entry: {sorted(self.deleted_ids)[:5]}")
        ids = Counter(r[COLUMNS["id"]] for r in rows.values())
        for number, row in rows.items():
            record, status = row[COLUMNS["id"]], row[COLUMNS["status"]]
            if not record:
                self.fail(f"{number} has no ID after a tick")
            if status not in VALID_STATUSES:
                self.fail(f"{number} ({record}) has Status {status!r}")
            if ids[record] == 1 and self.chain.get(record) != status:
                ends = self.chain.get(record)
                self.fail(f"{record}: Status {status!r}, but its Log ends at {ends!r}")
            claimed = self.claimed.get(record)
            if ids[record] == 1 and claimed and text(row[COLUMNS["accountant"]]) != claimed:
                now = row[COLUMNS["accountant"]]
                self.fail(f"{record}: claimed by {claimed!r}, but Accountant is now {now!r}")

    def _follow(self, entry: dict[str, Any]) -> None:
        """One Log line: transitions must chain on from where the record's last one ended."""
        record, event = entry["Record"], entry["Event"]
        if event == "created":
            self.chain[record] = entry["To"]
        elif event == "transition":
            if self.chain.get(record) != entry["From"]:
                after = self.chain.get(record)
                self.fail(f"{record}: a transition from {entry['From']!r} after {after!r}")
            self.chain[record] = entry["To"]
            if entry["To"] == STATUSES["in_payment"]:  # the first claim wins, and stays
                self.claimed[record] = entry["By"]
        elif event == "removed":
            if record not in self.deleted_ids:
                self.fail(f"{record}: logged as removed, but nobody deleted it")
            self.deleted_ids.discard(record)

    def _check_restored(self, rows: dict[str, dict[str, Any]], log: list[dict[str, Any]]) -> None:
        ids = Counter(r[COLUMNS["id"]] for r in rows.values())
        by_id = {r[COLUMNS["id"]]: r for r in rows.values() if ids[r[COLUMNS["id"]]] == 1}
        for record, (column, junk) in self.junk.items():
            row = by_id.get(record)
            if row is None or row[COLUMNS[column]] != junk or not text(junk):
                continue
            self.fail(f"{record} {COLUMNS[column]}: {junk!r} typed over it was not restored")
        for record, (column, junk) in self.junk.items():
            if text(junk) and record in by_id and not _conflict_logged(log, record, junk, None):
                self.fail(f"{record} {COLUMNS[column]}: the overwritten {junk!r} is not in the Log")
        self.junk.clear()

    def _check_emails(self, log: list[dict[str, Any]]) -> None:
        self.email_events += sum(1 for r in log if r["Event"] == "email")
        for path in sorted(self.outbox.glob("*.eml")) if self.outbox.is_dir() else []:
            if path.name in self.seen_files:
                continue
            self.seen_files.add(path.name)
            message = parse_eml(path)
            key = " ".join(str(message["X-Sheetflow-Key"]).split())  # a long key is folded
            message_id = str(message["Message-ID"])
            if key in self.keys or message_id in self.message_ids:
                self.fail(f"email {key} written twice")
            self.keys.add(key)
            self.message_ids.add(message_id)
        db = sqlite3.connect(f"file:{state_path(self.book)}?mode=ro", uri=True)
        try:
            ledger = Counter(s for (s,) in db.execute("SELECT status FROM ledger"))
        finally:
            db.close()
        if set(ledger) - {"sent"}:
            self.fail(f"ledger holds unsent emails: {dict(ledger)}")
        if not ledger["sent"] == len(self.keys) == self.email_events:
            self.fail(
                f"{ledger['sent']} emails in the ledger, {len(self.keys)} in the outbox,"
                f" {self.email_events} in the Log"
            )


def _fixed(key: str, serial: int) -> Any:
    return {
        "signer": "Dmitry Volkov",
        "amount": 100 + serial,
        "supplier_email": f"fixed{serial}@supplier.example",
        "invoice_date": "21.11.2026",
    }[key]


def _still_there(sheet: Sheet, record: object) -> bool:
    return any(sheet.get(n, "id") == record for n in sheet.rows)


def _settled(log: list[dict[str, Any]], record: object, key: str, typed: Any, now: Any) -> bool:
    """An accepted row's amount or date typed as text, now the same value, the text logged."""
    kind = SCHEMA.tab("invoices").column(key).type
    if kind == "money":
        same = parse_amount(typed, "")[0] == parse_amount(now, "")[0]
    elif kind == "date":
        same = parse_date(typed, "")[0] == parse_date(now, "")[0]
    else:
        return False
    return same and any(
        r["Record"] == record and r["Event"] == "typed" and r["From"] == typed for r in log
    )


def _conflict_logged(log: list[dict[str, Any]], record: str, typed: Any, kept: Any) -> bool:
    return any(
        r["Record"] == record
        and r["Event"] == "conflict"
        and r["From"] == text(typed)
        and (kept is None or r["To"] == text(kept))
        for r in log
    )


def _read_invoices(book: Path) -> dict[str, dict[str, Any]]:
    wb = openpyxl.load_workbook(book, read_only=True)
    try:
        rows = wb["Invoices"].iter_rows(values_only=True)
        header = list(next(rows))
        found = {}
        for values in rows:
            row = dict(zip(header, values, strict=False))
            if row.get(COLUMNS["invoice_no"]):
                found[str(row[COLUMNS["invoice_no"]])] = row
        return found
    finally:
        wb.close()


def run_soak(
    ticks: int,
    rows: int,
    seed: int = 7,
    folder: Path | None = None,
    progress: int = 0,
    max_minutes: float | None = None,
) -> dict[str, Any]:
    """Play `ticks` ticks of random edits on `rows` invoices; SoakFailure at the first break.

    With `max_minutes`, stop early once that time is up (the summary says how many ran).
    """
    started = time.monotonic()
    with tempfile.TemporaryDirectory() as temporary:
        soak = Soak(folder or Path(temporary), rows, seed)
        for number in range(ticks):
            if max_minutes is not None and time.monotonic() - started > max_minutes * 60:
                break
            if number:
                soak.edit()
            soak.tick()
            soak.check()
            if progress and (number + 1) % progress == 0:
                elapsed = time.monotonic() - started
                last = soak.counts.tick_seconds[-1]
                print(f"tick {number + 1}: {elapsed:.0f} s so far, last tick {last:.2f} s")
        return soak.counts.summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--ticks", type=int, default=1000)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-minutes", type=float, help="stop early once this time is up")
    parser.add_argument("--progress", type=int, default=0, help="print a line every N ticks")
    parser.add_argument("--dir", type=Path, help="keep the workbook here (default: a temp dir)")
    args = parser.parse_args()
    started = time.monotonic()
    if args.dir:
        args.dir.mkdir(parents=True, exist_ok=True)
    counts = run_soak(args.ticks, args.rows, args.seed, args.dir, args.progress, args.max_minutes)
    for name, value in counts.items():
        print(f"{name:>15}: {value}")
    print(f"{'wall_s':>15}: {time.monotonic() - started:.0f}")


if __name__ == "__main__":
    main()
