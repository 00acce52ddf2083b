"""Every request production sends, broken one way at a time, is refused and changes nothing.

Production (init, ticks with transitions, locks, queue views and the Log, a monthly report
with its chart) runs against the double. Before each of the service account's requests
reaches the double, a copy of it is broken — a field renamed, a `fields` mask misspelled, a
range pushed past the grid, a frozen row count as large as the grid, an unknown query
parameter or tab — and sent first. The double must answer 400 and leave the spreadsheet
exactly as it was (nothing applied from a refused batch); then the real request goes on.
A double that let one of these through would let the same bug in production pass the tests.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import pytest

from functions.adapters.gsheets.book import GoogleSheetBook, create_google_book
from functions.adapters.sqlite.state import SqliteState
from functions.model import CellLock, CellWrite, SheetChanges
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.batch import HANDLERS
from tests.google_double.people import SheetEditor, new_google_book

SCHEMA = load_schema()
ADAPTERS = Path(__file__).resolve().parents[2] / "functions" / "adapters"
NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Maria Lopez", "maria@example.com", "manager", True),
]
Broken = tuple[str, str, str, bytes | None]  # what was broken, method, url, body


def production_kinds() -> set[str]:
    """The batchUpdate request kinds the adapters' source builds."""
    source = "\n".join(p.read_text(encoding="utf-8") for p in ADAPTERS.glob("gsheets*.py"))
    return {kind for kind in HANDLERS if re.search(rf'"{kind}": \{{', source)}


def _renamed(body: dict[str, Any]) -> dict[str, Any]:
    """The first field of a request body gets a typo (`range` → `rangee`)."""
    first = next(iter(body))
    return {(f"{k}e" if k == first else k): v for k, v in body.items()}


def _misspelled(mask: str) -> str:
    head, _, rest = mask.partition(",")
    return ",".join(filter(None, [f"{head}x", rest]))


def _past_the_grid(body: dict[str, Any]) -> dict[str, Any] | None:
    broken = copy.deepcopy(body)
    grid = broken.get("range")
    if not isinstance(grid, dict):
        grid = (broken.get("protectedRange") or broken.get("filter") or {}).get("range")
    if not isinstance(grid, dict):
        grid = ((broken.get("rule") or {}).get("ranges") or [None])[0]  # a conditional format
    if not isinstance(grid, dict):
        return None
    key = "endIndex" if "dimension" in grid else "endRowIndex"
    grid[key] = 10**6
    return broken


def _frozen_everything(body: dict[str, Any]) -> dict[str, Any] | None:
    grid = (body.get("properties") or {}).get("gridProperties") or {}
    if "frozenRowCount" not in grid:
        return None
    broken = copy.deepcopy(body)
    rows = grid.get("rowCount", 1000)  # a new tab's default
    broken["properties"]["gridProperties"]["frozenRowCount"] = rows
    return broken


def _keys(value: Any) -> str:
    """The shape of a request: its keys, nested (list items by their first one)."""
    if isinstance(value, dict):
        return "{" + ",".join(f"{k}:{_keys(v)}" for k, v in sorted(value.items())) + "}"
    if isinstance(value, list) and value:
        return f"[{_keys(value[0])}]"
    return ""


def batch_variants(url: str, body: dict[str, Any], seen: set[str]) -> Iterator[Broken]:
    """For each request kind (and shape) not broken yet: the whole batch, one request broken."""
    requests = body.get("requests") or []
    for index, request in enumerate(requests):
        (kind, inner), *_ = request.items()
        shape = f"{kind}:{_keys(inner)}:{inner.get('fields')}"
        if shape in seen:
            continue
        seen.add(shape)
        changes: list[tuple[str, dict[str, Any] | None]] = [
            (f"{kind}: a field renamed", _renamed(inner)),
            (f"{kind}: the range past the grid", _past_the_grid(inner)),
            (f"{kind}: every row frozen", _frozen_everything(inner)),
        ]
        if "fields" in inner:
            misspelled = {**inner, "fields": _misspelled(inner["fields"])}
            changes.append((f"{kind}: the fields mask misspelled", misspelled))
        for what, broken in changes:
            if broken is None:
                continue
            out = [*requests[:index], {kind: broken}, *requests[index + 1 :]]
            yield what, "POST", url, json.dumps({**body, "requests": out}).encode()
        yield (
            f"{kind}: the kind misspelled",
            "POST",
            url,
            json.dumps({**body, "requests": [{f"{kind}s": inner}]}).encode(),
        )


def _with_query(url: str, change: dict[str, list[str]]) -> str:
    parts = urlsplit(url)
    query = {**parse_qs(parts.query, keep_blank_values=True), **change}
    return urlunsplit(parts._replace(query=urlencode(query, doseq=True)))


def query_variants(method: str, url: str, body: bytes | None) -> Iterator[Broken]:
    """Reads and value writes: a query parameter renamed, a mask misspelled, a tab unknown."""
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    lenient = "/drive/" in url  # Drive v3 ignores unknown query parameters, as Google does
    for name in [] if lenient else query:
        parts = urlsplit(url)
        renamed = {(f"{k}s" if k == name else k): v for k, v in query.items()}
        bad = urlunsplit(parts._replace(query=urlencode(renamed, doseq=True)))
        yield f"{method} {parts.path}: ?{name} renamed", method, bad, body
    if "fields" in query:
        bad = _with_query(url, {"fields": [_misspelled(query["fields"][0])]})
        yield f"{method}: the fields mask misspelled", method, bad, body
    if "ranges" in query:
        ranges = ["'No such tab'!A1:B2", *query["ranges"][1:]]
        bad = _with_query(url, {"ranges": ranges})
        yield f"{method}: a range on a missing tab", method, bad, body


class Breaker:
    """Sits in front of the double: breaks, sends and checks, then lets the real request by."""

    def __init__(self, double: GoogleDouble) -> None:
        self.double, self.real = double, double.answer
        self.refused: dict[str, str] = {}
        self.kinds: set[str] = set()
        self.shapes: set[str] = set()
        self.queries: set[str] = set()

    def answer(self, method: str, url: str, body: bytes | None, user: str) -> tuple[int, Any]:
        if user == SERVICE_ACCOUNT:
            for broken in self.variants(method, url, body):
                self.check_refused(*broken, user)
        return self.real(method, url, body, user)

    def variants(self, method: str, url: str, body: bytes | None) -> Iterator[Broken]:
        path = urlsplit(url).path
        if path.endswith(":batchUpdate") and "/values" not in path:
            parsed = json.loads(body or b"{}")
            self.kinds |= {next(iter(r)) for r in parsed.get("requests") or []}
            yield from batch_variants(url, parsed, self.shapes)
        else:
            signature = f"{method} {re.sub(r'/values/[^:?]+', '/values/R', path)}"
            signature += " " + ",".join(sorted(parse_qs(urlsplit(url).query)))
            if signature not in self.queries:
                self.queries.add(signature)
                yield from query_variants(method, url, body)

    def check_refused(
        self, what: str, method: str, url: str, body: bytes | None, user: str
    ) -> None:
        path = urlsplit(url).path
        sid = re.split(r"[/:]", path.split("/spreadsheets/" if "/v4/" in path else "/files/")[1])[0]
        book = self.double.books[sid]
        before, version, calls = copy.deepcopy(book.sheets), book.version, len(self.double.calls)
        status, answer = self.real(method, url, body, user)
        del self.double.calls[calls:]  # the broken copies are not part of the tick's budget
        assert status == 400, f"{what}: the double answered {status}: {str(answer)[:300]}"
        assert book.sheets == before, f"{what}: refused, but part of it was applied"
        assert book.version == version, f"{what}: refused, but the file version moved"
        self.refused[what] = answer["error"]["message"]


@pytest.fixture(scope="module")
def breaker(tmp_path_factory: pytest.TempPathFactory) -> Breaker:
    """Init, three ticks (new invoices, a decision, a claim, payment) and a monthly report."""
    double = GoogleDouble()
    guard = Breaker(double)
    double.answer = guard.answer  # type: ignore[method-assign]
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, book = new_google_book(double, SCHEMA, "en", PEOPLE, {"company": "N"}, writers=writers)
    editor = SheetEditor(double, sid, SCHEMA)
    state = SqliteState(tmp_path_factory.mktemp("breaker") / "state.sqlite")
    engine = Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA)
    invoice = {
        "manager": "Maria Lopez",
        "supplier": "Acme",
        "supplier_email": "billing@acme.example",
        "invoice_no": "A-1",
        "invoice_date": "20.11.2026",
        "amount": 1200,
        "invoice_file": "https://files.example/a-1.pdf",
        "signer": "Dana Director",
    }
    editor.add_row("invoices", invoice)
    editor.add_row("invoices", {**invoice, "invoice_no": "A-2", "amount": "abc"})
    editor.add_row("deals", {"deal_id": "D-1", "deal": "Beams", "manager": "Maria Lopez"})
    assert engine.tick(NOW).outcome == "done"
    editor.set("invoices", "INV-000001", {"decision": "Approve"})
    assert engine.tick(NOW + timedelta(minutes=10)).outcome == "done"
    editor.set("invoices", "INV-000001", {"accountant": "Axel Accountant"})
    editor.set("deals", "D-1", {"amount": 1000, "paid": 250})
    assert engine.tick(NOW + timedelta(minutes=20)).outcome == "done"
    engine.monthly_report("2026-11", NOW + timedelta(hours=1))
    state.close()
    # What a story of ticks may not reach: a queue emptied, locks that follow a moved row and
    # go with an emptied one, and init run again with --force over the tabs.
    book.apply(SheetChanges(queues=[]), book.read().fingerprint)
    locks = [CellLock("invoices", r, "accountant", True) for r in ("INV-000001", "INV-000002")]
    book.apply(SheetChanges(locks=locks), book.read().fingerprint)
    editor.put("invoices", 2, {"id": "INV-000002"})
    editor.put("invoices", 3, {"id": "INV-000001"})
    book.apply(SheetChanges(locks=locks), book.read().fingerprint)
    editor.put("invoices", 3, {"id": "", "manager": ""})
    book.apply(SheetChanges(locks=locks[1:]), book.read().fingerprint)
    # A Settings tab an earlier init made (Key | Value | Description, three columns wide): a
    # Settings Note widens it and adds the Note header.
    old = double.book(sid).sheet_by_title("Settings")
    old.cells = {(r, 2 if c == 3 else c): v for (r, c), v in old.cells.items() if c != 2}
    old.properties["gridProperties"]["columnCount"] = 3
    note = CellWrite(
        "settings", "Sender", editor.row_number("settings", "Sender"), "note", "x", None
    )
    old_book = GoogleSheetBook(sid, double.client(SERVICE_ACCOUNT), SCHEMA, SERVICE_ACCOUNT)
    old_book.apply(SheetChanges(writes=[note]), old_book.read().fingerprint)
    client = double.client(SERVICE_ACCOUNT)
    people, settings = PEOPLE, {"company": "N"}
    create_google_book(sid, client, SCHEMA, "en", SERVICE_ACCOUNT, people, settings, force=True)
    return guard


def test_production_uses_every_request_kind_its_source_builds(breaker: Breaker) -> None:
    assert production_kinds() <= breaker.kinds
    assert {"addSheet", "updateCells", "updateDimensionProperties", "addChart"} <= breaker.kinds
    assert {"addConditionalFormatRule", "appendCells"} <= breaker.kinds


def test_every_request_kind_production_sends_is_refused_when_a_field_is_renamed(
    breaker: Breaker,
) -> None:
    renamed = {what.split(":")[0] for what in breaker.refused if "a field renamed" in what}
    assert renamed == breaker.kinds
    assert all("Unknown name" in m for w, m in breaker.refused.items() if "renamed" in w)


def test_every_fields_mask_production_sends_is_refused_when_misspelled(
    breaker: Breaker,
) -> None:
    masked = {w.split(":")[0] for w in breaker.refused if "fields mask misspelled" in w}
    assert {"updateCells", "updateSheetProperties", "updateDimensionProperties"} <= masked
    assert any(w.startswith("GET") and "mask" in w for w in breaker.refused)  # metadata reads


def test_ranges_past_the_grid_and_a_fully_frozen_tab_are_refused(breaker: Breaker) -> None:
    past = {w.split(":")[0] for w in breaker.refused if "past the grid" in w}
    assert {"updateDimensionProperties", "setDataValidation", "addProtectedRange"} <= past
    assert "addConditionalFormatRule" in past
    frozen = [m for w, m in breaker.refused.items() if "every row frozen" in w]
    assert frozen
    assert all("You can't freeze all visible rows on the sheet." in m for m in frozen)


def test_reads_with_an_unknown_parameter_or_tab_are_refused(breaker: Breaker) -> None:
    assert any("renamed" in w and "values:batchGet" in w for w in breaker.refused)
    assert any("missing tab" in w for w in breaker.refused)
