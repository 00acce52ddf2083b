"""Preparing one size: the steady state after a first tick, stored for every backend.

A first tick on N + N typed rows is computed once (pure `plan_tick`), and its writes, locks,
Log rows, queue views and snapshot are put straight into:

- `seed.pkl`: the rows as they now are, the snapshot and meta, locks, queues and the edits
  people make before the measured busy tick (for the engine worker and the Google double);
  `google_log.pkl`: a year's Log as a Google Sheet holds it (for the double only);
- `book.xlsx` + `book.state.sqlite`: a real workbook (created by `create_workbook`, so with its
  dropdowns, protections and the hidden Lists tab) whose sheets' XML is generated with the
  same cell styles the tick gives (people's cells unlocked, claimed Accountant cells locked),
  plus the SQLite state beside it;
- Firestore (the emulator): the snapshot and meta under `bench/<run>/n<N>`.

Writing a 100k-row book through openpyxl would take minutes, hence the generated XML. Each
backend's first measured tick reads the book and must find nothing to do (checked).
"""

from __future__ import annotations

import os
import pickle
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import openpyxl

from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.fast import _queue_xml
from functions.adapters.workbook.layout import write_queues
from functions.adapters.workbook.package import Package
from functions.adapters.workbook.xf import Styles
from functions.adapters.workbook.xml import DIMENSION, SheetXml, value_xml
from functions.model import QueueView
from functions.schema import Schema, load_schema
from functions.text.log_times import to_serial
from functions.text.parsing import parse_date
from functions.tick.planner import plan_tick
from functions.typed_values import SERIAL_DAY_0

from .scenario import PEOPLE, SETTINGS, START, Rows, book_read

SCHEMA: Schema = load_schema()
GOOGLE_LOG = "google_log.pkl"  # beside seed.pkl: the Log the double is filled with
EDIT_SEED = 1


def prepare(n: int, folder: Path, firestore_root: str | None) -> dict[str, Any]:
    """Everything the workers need for size n; returns timings and sizes."""
    folder.mkdir(parents=True, exist_ok=True)
    timings: dict[str, Any] = {}
    started = time.perf_counter()
    rows = Rows(n)
    plan = plan_tick(book_read(SCHEMA, rows), {}, {}, SCHEMA, START)
    rows.apply_writes(plan.changes.writes)
    snapshot = {
        tab: {record: entry for record, entry in entries.items() if entry is not None}
        for tab, entries in plan.snapshot.items()
    }
    locks = [(lock.tab, lock.record, lock.column) for lock in plan.changes.locks if lock.locked]
    log = [entry.as_row() for entry in plan.changes.log]
    queues = list(plan.changes.queues or [])
    meta = plan.meta
    del plan
    timings["seed_plan_s"] = time.perf_counter() - started
    edits = rows.edits(EDIT_SEED)
    edits_cold = rows.edits(EDIT_SEED + 10)  # another 1 %: the busy tick of a cold instance
    seed = {
        "n": n,
        "rows": rows,
        "snapshot": snapshot,
        "meta": meta,
        "locks": locks,
        "queues": queues,
        "edits": edits,
        "edits_cold": edits_cold,
    }
    with (folder / "seed.pkl").open("wb") as out:
        pickle.dump(seed, out, protocol=pickle.HIGHEST_PROTOCOL)
    # Only the Google double holds the Log: the engine worker's peak leaves it out.
    with (folder / GOOGLE_LOG).open("wb") as out:
        pickle.dump(google_log(log), out, protocol=pickle.HIGHEST_PROTOCOL)
    started = time.perf_counter()
    build_workbook(folder / "book.xlsx", rows, locks, log, queues)
    state = SqliteState(folder / "book.state.sqlite")
    state.commit_journal(snapshot, meta)
    state.close()
    timings["workbook_build_s"] = time.perf_counter() - started
    timings["workbook_bytes"] = (folder / "book.xlsx").stat().st_size
    timings["log_rows"] = len(log)
    timings["locks"] = len(locks)
    timings["queue_rows"] = sum(len(q.rows) for q in queues)
    if firestore_root is not None:
        started = time.perf_counter()
        seed_firestore(firestore_root, snapshot, meta)
        timings["firestore_seed_s"] = time.perf_counter() - started
    return timings


def seed_firestore(root: str, snapshot: dict[str, Any], meta: dict[str, Any]) -> None:
    from google.cloud import firestore

    from functions.adapters.firestore.state import FirestoreState

    client = firestore.Client(project=os.environ.get("BENCH_FIRESTORE_PROJECT", "sheetflow-test"))
    FirestoreState(client, root=root).commit_journal(as_on_google(snapshot), meta)
    client.close()


def google_log(log: list[list[str]]) -> list[list[Any]]:
    """The Log a year-old book holds on a Google Sheet: the first tick's rows (about 6.5 per
    invoice), their Times spread evenly over the year before START and kept as Google gives
    them back (serial numbers of the Settings zone's wall clock, as `log_time_cell` writes)."""
    zone = ZoneInfo(SETTINGS["time_zone"])
    first = (START - timedelta(days=365)).astimezone(zone).replace(tzinfo=None)
    step = timedelta(days=365) / max(len(log), 1)
    return [[to_serial(first + i * step), *row[1:]] for i, row in enumerate(log)]


def google_day(value: Any) -> int | None:
    """A typed date as a tick leaves it on a Google Sheet (`typed_values`): the day number,
    which the next read gets back; None when the text is no date."""
    when, problem = parse_date(value, "", "en")
    if problem is not None or not isinstance(when, date):
        return None
    return (when - SERIAL_DAY_0).days


def as_on_google(snapshot: dict[str, Any]) -> dict[str, Any]:
    """The snapshot a Google tick keeps: its date cells' values are day numbers (as the
    double is filled), not the text the prepared workbook holds."""
    out: dict[str, Any] = {}
    for tab, entries in snapshot.items():
        dates = [c.key for c in SCHEMA.tab(tab).columns if c.type == "date"]
        out[tab] = {}
        for record, entry in entries.items():
            values = dict(entry["values"])
            for key in dates:
                serial = google_day(values.get(key))
                if serial is not None:
                    values[key] = serial
            out[tab][record] = {**entry, "values": values}
    return out


# --- the workbook --------------------------------------------------------------------------


def build_workbook(
    path: Path,
    rows: Rows,
    locks: list[tuple[str, str, str]],
    log: list[list[str]],
    queues: list[QueueView],
) -> None:
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings=SETTINGS, force=True)
    wb = openpyxl.load_workbook(path)  # empty queue tabs where the tick puts them
    empty = [QueueView(q.accountant, q.title, q.headers, ()) for q in queues]
    write_queues(wb, SCHEMA, "en", empty)
    wb.save(path)
    package = Package(path.read_bytes())
    styles = Styles(package.read(package.styles_part()))
    invoices = SheetXml(package.read(package.part_of(SCHEMA.tab("invoices").title["en"])))
    unlocked = int(invoices.cells_of(2)[2][0][b"s"])  # Manager, row 2: a prepared people's cell
    locked = styles.variant(unlocked, "lock")
    locked_records = {(tab, record, column) for tab, record, column in locks}
    for tab, data in (("invoices", rows.invoices), ("deals", rows.deals)):
        title = SCHEMA.tab(tab).title["en"]
        part = package.part_of(title)
        sheet = SheetXml(package.read(part))
        package.patched[part] = _data_sheet(sheet, tab, data, unlocked, locked, locked_records)
    log_part = package.part_of(SCHEMA.tab("log").title["en"])
    package.patched[log_part] = _log_sheet(SheetXml(package.read(log_part)), log)
    for view in queues:
        part = package.part_of(view.title)
        sheet = SheetXml(package.read(part))
        bold = int(next(iter(sheet.cells_of(1).values()))[0].get(b"s", b"0"))
        package.patched[part] = _queue_xml(sheet, view, bold)
    rendered = styles.render()
    if rendered is not None:
        package.patched[package.styles_part()] = rendered
    path.write_bytes(package.save())


def _header_row(sheet: SheetXml) -> bytes:
    start, _open_end, end, _closed = sheet.rows()[1]
    return sheet.xml[start:end]


def _replace_data(sheet: SheetXml, body: bytes, last_col: int, last_row: int) -> bytes:
    from openpyxl.utils import get_column_letter

    start, end = sheet.data_span
    head = sheet.xml[:start]
    ref = f"A1:{get_column_letter(last_col)}{last_row}".encode()
    head = DIMENSION.sub(b'<dimension ref="' + ref + b'"/>', head, count=1)
    return head + body + sheet.xml[end:]


def _data_sheet(
    sheet: SheetXml,
    tab: str,
    data: list[dict[str, Any]],
    unlocked: int,
    locked: int,
    locked_records: set[tuple[str, str, str]],
) -> bytes:
    spec = SCHEMA.tab(tab)
    columns = [(c.key, c.owner == "people") for c in spec.columns]
    id_key = spec.id_column or ""
    parts = [_header_row(sheet)]
    last = max(len(data) + 1, 1000)  # rows 2..1000 are prepared by create_workbook
    for number in range(2, last + 1):
        values = data[number - 2] if number - 2 < len(data) else {}
        record = str(values.get(id_key) or "")
        cells = []
        for col, (key, people) in enumerate(columns, start=1):
            value = values.get(key)
            style = 0
            if people:
                style = locked if (tab, record, key) in locked_records else unlocked
            if value is None:
                if style:
                    cells.append(b'<c r="%s%d" s="%d"/>' % (_letter(col), number, style))
                continue
            cells.append(value_xml(number, col, style, value))
        parts.append(b'<row r="%d">' % number + b"".join(cells) + b"</row>")
    return _replace_data(sheet, b"".join(parts), len(columns), last)


def _log_sheet(sheet: SheetXml, log: list[list[str]]) -> bytes:
    parts = [_header_row(sheet)]
    for number, values in enumerate(log, start=2):
        cells = [
            value_xml(number, col, 0, value)
            for col, value in enumerate(values, start=1)
            if value != ""
        ]
        parts.append(b'<row r="%d">' % number + b"".join(cells) + b"</row>")
    return _replace_data(sheet, b"".join(parts), 8, len(log) + 1)


_LETTERS: dict[int, bytes] = {}


def _letter(col: int) -> bytes:
    if col not in _LETTERS:
        from openpyxl.utils import get_column_letter

        _LETTERS[col] = get_column_letter(col).encode()
    return _LETTERS[col]


def type_into_workbook(path: Path, edits: dict[str, dict[int, dict[str, Any]]]) -> None:
    """People's edits (tab → invoice/deal number → {column: value}), saved into the book."""
    package = Package(path.read_bytes())
    for tab, by_index in edits.items():
        part = package.part_of(SCHEMA.tab(tab).title["en"])
        sheet = SheetXml(package.read(part))
        columns = {c.key: col for col, c in enumerate(SCHEMA.tab(tab).columns, start=1)}
        for index, values in by_index.items():
            for key, value in values.items():
                sheet.edit(index + 1, columns[key]).value = value
        package.patched[part] = sheet.render()
    path.write_bytes(package.save())
