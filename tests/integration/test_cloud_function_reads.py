"""Each Cloud Function reads its own flow's rows: invoice_flow never reads the Deals tab,
deal_watch never reads the Invoices tab (at 100,000 rows each, the other flow's rows would
double a function's memory), and neither undoes what the other wrote.

Two function instances, as deployed: each its own engine, Sheets client and Firestore
client, on the Sheets double and the real Firestore emulator, called through the handler.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from functions.adapters.firestore.state import FirestoreState
from functions.adapters.gsheets.book import GoogleSheetBook
from functions.entry.cloud import handle
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from functions.wiring.bootstrap import Config
from tests.fakes import FakeMail
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import SheetEditor, new_google_book, no_sleep
from tests.integration.test_controls_google import an_invoice

SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
]
INVOICE = an_invoice()
DEAL = {"deal_id": "D-1", "deal": "Beams", "manager": "Maria Lopez", "amount": 1000, "paid": 0}


class Request:
    headers: dict[str, str] = {}
    args: dict[str, str] = {}


class Deployment:
    """The two tick functions over one spreadsheet and one Firestore root."""

    def __init__(self, firestore_client: Any, settings: dict[str, str]) -> None:
        self.sheets = GoogleDouble()
        writers = [email for _n, email, _r, _a in PEOPLE]
        self.sid, _book = new_google_book(
            self.sheets, SCHEMA, "en", PEOPLE, settings, writers=writers
        )
        self.editor = SheetEditor(self.sheets, self.sid, SCHEMA)
        self.mail = FakeMail()
        self.read_ranges: list[tuple[str, list[str]]] = []
        root = f"sheetflow-test/{uuid.uuid4().hex}"
        self.builds: dict[str, Callable[[Config], Engine]] = {}
        for name in ("invoice_flow", "deal_watch"):
            book = GoogleSheetBook(
                self.sid,
                self.sheets.client(SERVICE_ACCOUNT),
                SCHEMA,
                SERVICE_ACCOUNT,
                sleep=no_sleep,
            )
            engine = Engine(
                book,
                FirestoreState(firestore_client, root=root),
                self.mail,
                EmailRenderer(),
                SCHEMA,
            )
            self.builds[name] = self._built(engine)
        self._watch_reads()

    @staticmethod
    def _built(engine: Engine) -> Callable[[Config], Engine]:
        return lambda _config: engine

    def _watch_reads(self) -> None:
        answer = self.sheets.answer
        self.current = ""

        def recording(method: str, url: str, body: bytes | None, user: str) -> tuple[int, Any]:
            parts = urlsplit(url)
            if user == SERVICE_ACCOUNT and parts.path.endswith("values:batchGet"):
                ranges = parse_qs(parts.query).get("ranges", [])
                self.read_ranges.append((self.current, ranges))
            return answer(method, url, body, user)

        self.sheets.answer = recording  # type: ignore[method-assign]

    def call(self, name: str) -> dict[str, Any]:
        self.current = name
        body, status = handle(name, Request(), build=self.builds[name])
        assert status == 200, body
        return body

    def tabs_read(self, name: str) -> set[str]:
        """The tabs (titles) one function's batchGets asked for."""
        return {
            r.split("!")[0].strip("'")
            for f, ranges in self.read_ranges
            if f == name
            for r in ranges
        }


@pytest.fixture
def deployment(firestore_client: Any, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setenv("SHEETFLOW_BOOK", "gsheet:not-used-by-these-builds")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    return Deployment(firestore_client, {"sender": "flow@example.com"})


def test_each_function_reads_its_own_rows_and_never_the_other_flow_s(
    deployment: Deployment,
) -> None:
    deployment.call("invoice_flow")  # the first tick on an empty state: it looks at invoices
    deployment.editor.add_row("invoices", INVOICE)
    deployment.editor.add_row("deals", DEAL)
    deployment.read_ranges.clear()
    assert deployment.call("invoice_flow")["outcome"] == "done"
    assert deployment.call("deal_watch")["outcome"] == "done"
    deployment.editor.set("deals", "D-1", {"paid": 250})
    body = deployment.call("deal_watch")
    assert ("D-1", "0%", "25%") in map(tuple, body["transitions"])
    invoices, deals = (SCHEMA.tab(k).title["en"] for k in ("invoices", "deals"))
    people, settings = (SCHEMA.tab(k).title["en"] for k in ("people", "settings"))
    assert deployment.tabs_read("deal_watch") >= {deals, people, settings}
    assert invoices not in deployment.tabs_read("deal_watch")
    assert deployment.tabs_read("invoice_flow") >= {invoices, people, settings}
    assert deals not in deployment.tabs_read("invoice_flow")
    assert deployment.editor.row("invoices", "INV-000001")["status"] == "Awaiting decision"
    directors = [m for m in deployment.mail.sent if "dmitry@example.com" in m.to]
    assert any("Beams" in m.subject for m in directors), "the deal alert went out"


def test_deal_watch_leaves_the_invoice_locks_it_did_not_read(deployment: Deployment) -> None:
    editor = deployment.editor
    deployment.call("invoice_flow")
    editor.add_row("invoices", INVOICE)
    deployment.call("invoice_flow")
    editor.as_user("dmitry@example.com").set("invoices", "INV-000001", {"decision": "Approve"})
    deployment.call("invoice_flow")
    editor.as_user("irina@example.com").set("invoices", "INV-000001", {"accountant": "Irina K"})
    deployment.call("invoice_flow")
    assert not editor.may_edit("invoices", "INV-000001", "accountant", "maria@example.com")
    editor.add_row("deals", DEAL)
    for _ in range(3):  # its first tick, the one after its own write, an edit's
        deployment.call("deal_watch")
        editor.set("deals", "D-1", {"paid": 100 + _})
    assert not editor.may_edit("invoices", "INV-000001", "accountant", "maria@example.com")
    assert editor.row("invoices", "INV-000001")["status"] == "In payment"


def test_a_deal_alerts_to_problem_is_noted_once_though_only_one_function_reads_deals(
    firestore_client: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHEETFLOW_BOOK", "gsheet:not-used-by-these-builds")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    deployment = Deployment(
        firestore_client, {"sender": "flow@example.com", "deal_alerts_to": "not an address"}
    )
    deployment.editor.add_row("deals", DEAL)
    said = []
    for name in ("deal_watch", "invoice_flow", "deal_watch", "invoice_flow", "deal_watch"):
        said += [p for p in deployment.call(name).get("problems", []) if p.startswith("Settings")]
        deployment.editor.set("deals", "D-1", {"paid": len(said) + 1})  # each tick has work
    # said once, and never "fixed" by the function that reads no deals
    assert len(said) == 1, said
    assert "not an address" in said[0]
    label = SCHEMA.labels.settings_keys["deal_alerts_to"]["en"]
    assert "not an address" in str(deployment.editor.row("settings", label)["note"])
