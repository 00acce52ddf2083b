"""The Google test double in a process of its own, so the engine's memory is measured alone.

`tests/google_double` is an in-process fake of Sheets v4 + Drive v3 behind gspread's requests
session. Here it runs in a child process (`DoubleProcess`); the engine's gspread client gets a
requests transport that hands each HTTP request to that process over a pipe and gets the
double's JSON answer back — everything above the socket (gspread, JSON, the adapter) runs in
the measured process exactly as with the in-process double, while the double's own cells and
work (and its memory) stay in the child, which reports them separately.

The child fills the spreadsheet from the seed directly into the double's state (through the
API it would take hours at 100k rows: every request copies the book), the way the first
tick's batch would have left it: the cells, one lock protection per claimed Accountant cell
(same range, description and editors as the adapter makes) and one queue filter view per
accountant. The Log keeps only its header there: a tick never reads the Log's rows, and the
double appends below its last row.
"""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import pickle
import resource
import time
from datetime import date
from multiprocessing.connection import Connection
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import requests
from requests.adapters import BaseAdapter

SA = "sheetflow@sheetflow-test.iam.gserviceaccount.com"  # tests.google_double.SERVICE_ACCOUNT


CHUNK = 256 * 1024  # the double sends an answer in pieces, as a server's socket would


class PipeBody(io.RawIOBase):
    """An answer's body read from the double as it comes, piece by piece, like a socket:
    the engine process never holds a big answer whole unless it reads it whole."""

    def __init__(self, conn: Connection) -> None:
        super().__init__()
        self.conn, self.rest, self.done = conn, b"", False

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self.rest and not self.done:
            piece = self.conn.recv_bytes()
            self.done = not piece  # an empty piece ends the body
            self.rest = piece
        count = min(len(buffer), len(self.rest))
        buffer[:count] = self.rest[:count]
        self.rest = self.rest[count:]
        return count

    def drain(self) -> None:
        while not self.done:
            self.done = not self.conn.recv_bytes()
        self.rest = b""


class RemoteTransport(BaseAdapter):
    """A requests transport whose server is the double in the child process."""

    def __init__(self, conn: Connection, user: str) -> None:
        super().__init__()
        self.conn, self.user = conn, user
        self.body: PipeBody | None = None

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        if self.body is not None:
            self.body.drain()  # an answer left unread must not be taken for the next one
        body = request.body
        raw = body.encode("utf-8") if isinstance(body, str) else body
        self.conn.send(("http", request.method or "GET", request.url or "", raw, self.user))
        status = self.conn.recv()
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status == 200 else "Error"
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
        self.body = PipeBody(self.conn)
        response.raw = self.body
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass


def remote_client(conn: Connection, user: str = SA) -> Any:
    import gspread

    session = requests.Session()
    transport = RemoteTransport(conn, user)
    for prefix in ("https://", "http://"):
        session.mount(prefix, transport)
    return gspread.Client(None, session=session)  # type: ignore[arg-type]


class DoubleProcess:
    """Starts the double in a child process filled from `seed.pkl`; talks to it over a pipe."""

    def __init__(self, seed_path: Path) -> None:
        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=serve, args=(child, str(seed_path)), daemon=True)
        self.process.start()
        child.close()
        ready = self.conn.recv()
        if ready[0] != "ready":
            raise RuntimeError(f"the Google double did not start: {ready}")
        _kind, self.sid, self.fill_seconds, self.filled_rss = ready

    def ask(self, *message: Any) -> Any:
        self.conn.send(message)
        return self.conn.recv()

    def mark(self) -> int:
        return int(self.ask("mark"))

    def kinds(self, since: int, user: str = SA) -> list[str]:
        return list(self.ask("kinds", since, user))

    def busy_seconds(self) -> float:
        """Seconds the double spent answering since the last call (its server-side time)."""
        return float(self.ask("busy"))

    def stop(self) -> dict[str, Any]:
        answer: dict[str, Any] = self.ask("stop")
        self.process.join(30)
        return answer


# --- the child -----------------------------------------------------------------------------


def serve(conn: Connection, seed_path: str) -> None:
    from tests.google_double import OWNER, GoogleDouble
    from tests.google_double.people import new_google_book

    from .scenario import PEOPLE, SETTINGS
    from .seed import GOOGLE_LOG

    started = time.perf_counter()
    with open(seed_path, "rb") as source:
        seed = pickle.load(source)
    with (Path(seed_path).parent / GOOGLE_LOG).open("rb") as source:
        seed["log"] = pickle.load(source)
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, _book = new_google_book(double, _schema(), "en", PEOPLE, SETTINGS, writers=writers)
    _fill(double, sid, seed)
    accountant = {"name": "Olga New", "email": "olga@example.com", "role": "accountant"}
    rounds = {
        "edit": seed["edits"],
        "edit_cold": seed["edits_cold"],  # another round, for a new instance's busy tick
        # a new accountant: the invoice flow plans every invoice again
        "people": {"people": {len(PEOPLE) + 1: {**accountant, "active": "Yes"}}},
    }
    del seed
    fill_seconds = time.perf_counter() - started
    conn.send(("ready", sid, fill_seconds, _rss()))
    busy = 0.0
    profile = None
    if os.environ.get("BENCH_PROFILE_DOUBLE"):  # where to dump the double's own profile
        import cProfile

        profile = cProfile.Profile()
        profile.enable()
    while True:
        message = conn.recv()
        kind = message[0]
        if kind == "http":
            _kind, method, url, body, user = message
            begun = time.perf_counter()
            status, payload = double.answer(method, url, body, user)
            content = json.dumps(payload).encode("utf-8")
            busy += time.perf_counter() - begun
            conn.send(status)
            for start in range(0, len(content), CHUNK):
                conn.send_bytes(content[start : start + CHUNK])
            conn.send_bytes(b"")
        elif kind == "mark":
            conn.send(double.mark())
        elif kind == "kinds":
            conn.send(double.kinds(message[1], user=message[2]))
        elif kind == "busy":
            conn.send(busy)
            busy = 0.0
        elif kind in rounds:  # people type a round of edits (as the owner, one request)
            _type_edits(double, sid, rounds[kind], OWNER)
            conn.send(True)
        elif kind == "stop":
            if profile is not None:
                profile.disable()
                profile.dump_stats(os.environ["BENCH_PROFILE_DOUBLE"])
            conn.send({"rss_peak_mib": _rss()})
            conn.close()
            return


def _rss() -> float:
    """Peak resident set of this process (VmHWM: not inherited from the parent at fork)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _schema() -> Any:
    from functions.schema import load_schema

    return load_schema()


class _Cells:
    """The double's cells for seeded values; cells are immutable, so equal values share one."""

    def __init__(self) -> None:
        self.shared: dict[tuple[type, Any], Any] = {}

    def cell(self, value: Any) -> Any:
        from tests.google_double.cells import Cell

        key = (type(value), value)
        found = self.shared.get(key)
        if found is None:
            if isinstance(value, bool):
                entered = {"boolValue": value}
            elif isinstance(value, int | float):
                entered = {"numberValue": value}
            else:
                entered = {"stringValue": str(value)}
            found = self.shared[key] = Cell(entered=entered)
        return found

    def day(self, value: Any) -> Any:
        """A typed date as the first tick left it on a Google Sheet: a day number shown as a
        date, else the text as typed."""
        from functions.adapters.gsheets.cells import number_format
        from tests.google_double.cells import Cell

        from .seed import google_day

        serial = google_day(value)
        if serial is None:
            return self.cell(value)
        key = (date, serial)
        if key not in self.shared:
            fmt = {"numberFormat": number_format("date", "en")}
            self.shared[key] = Cell(entered={"numberValue": serial}, fmt=fmt)
        return self.shared[key]


def _fill(double: Any, sid: str, seed: dict[str, Any]) -> None:
    from functions.adapters.gsheets.cells import grid, lock_description
    from functions.adapters.gsheets.changes import ChangeBuilder
    from tests.google_double.batch import Batch
    from tests.google_double.server import OWNER

    schema = _schema()
    book = double.book(sid)
    made = _Cells()
    rows_of = {"invoices": seed["rows"].invoices, "deals": seed["rows"].deals}
    for tab, rows in rows_of.items():
        sheet = book.sheet_by_title(schema.tab(tab).title["en"])
        columns = schema.tab(tab).columns
        keys = [c.key for c in columns]
        dates = {c.key for c in columns if c.type == "date"}
        sheet.grow(len(rows) + 1000, len(keys))
        cells = sheet.cells
        for number, values in enumerate(rows, start=1):
            for col, key in enumerate(keys):
                value = values.get(key)
                if value is not None and value != "":
                    cells[(number, col)] = made.day(value) if key in dates else made.cell(value)
    log = book.sheet_by_title(schema.tab("log").title["en"])
    log.grow(len(seed["log"]) + 1, len(schema.tab("log").columns))
    for number, values in enumerate(seed["log"], start=1):
        for col, value in enumerate(values):
            if value not in (None, ""):
                log.cells[(number, col)] = made.cell(value)
    invoices = book.sheet_by_title(schema.tab("invoices").title["en"])
    keys = [c.key for c in schema.tab("invoices").columns]
    row_of = {values["id"]: number for number, values in enumerate(rows_of["invoices"], start=2)}
    next_id = 10_000_000
    for tab, record, column in seed["locks"]:
        row, col = row_of[record], keys.index(column)
        invoices.protected_ranges.append(
            {
                "protectedRangeId": next_id,
                "range": grid(invoices.id, row - 1, row, col, col + 1),
                "description": lock_description(tab, record, column),
                "editors": {"users": [SA, OWNER]},
            }
        )
        next_id += 1
    builder = SimpleNamespace(tab=SimpleNamespace(sheet_id=invoices.id))
    requests_ = []
    for view in seed["queues"]:
        ids = sorted({str(r[0]) for r in view.rows if r[0]})
        this = SimpleNamespace(separator=",")  # the double's spreadsheet is en_US
        spec = ChangeBuilder._filter_view(this, builder, view.title, keys.index("id"), ids)  # type: ignore[arg-type]
        requests_.append({"addFilterView": {"filter": spec}})
    Batch(book, SA).run(requests_)
    book.touch()


def _type_edits(double: Any, sid: str, edits: dict[str, Any], user: str) -> None:
    from tests.google_double.a1 import column_letter, quote_title

    schema = _schema()
    data = []
    for tab, by_index in edits.items():
        title = quote_title(schema.tab(tab).title["en"])
        keys = [c.key for c in schema.tab(tab).columns]
        for index, values in by_index.items():
            for key, value in values.items():
                cell = f"{title}!{column_letter(keys.index(key))}{index + 1}"
                data.append({"range": cell, "values": [[value]]})
    double.client(user).http_client.values_batch_update(
        sid, {"valueInputOption": "RAW", "data": data}
    )
