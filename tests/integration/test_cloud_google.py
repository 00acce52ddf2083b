"""The whole Google deployment through the Cloud Function's handler: the Sheets double, the
real Firestore emulator and the Gmail double, as Cloud Scheduler would call it each minute."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from googleapiclient.discovery import build

from functions.adapters.firestore.state import FirestoreState
from functions.adapters.mail.gmail import GmailSender
from functions.entry.cloud import handle
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.gmail import GmailDouble
from tests.google_double.people import SheetEditor, new_google_book

SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
]
WRITERS = [email for _n, email, _r, _a in PEOPLE]


class Request:
    def __init__(self, headers: dict[str, str] | None = None) -> None:
        self.headers, self.args = headers or {}, dict[str, str]()


@pytest.fixture
def deployment(firestore_client: Any, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    sheets, gmail = GoogleDouble(), GmailDouble("flow@example.com")
    sid, book = new_google_book(
        sheets, SCHEMA, "en", PEOPLE, {"sender": "flow@example.com"}, writers=WRITERS
    )
    state = FirestoreState(firestore_client, root=f"sheetflow-test/{uuid.uuid4().hex}")
    sender = GmailSender(
        build("gmail", "v1", http=gmail, static_discovery=True, cache_discovery=False),
        sleep=lambda _s: None,
    )
    engine = Engine(book, state, sender, EmailRenderer(), SCHEMA)
    monkeypatch.setenv("SHEETFLOW_BOOK", f"gsheet:{sid}")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    return {
        "sheets": sheets,
        "gmail": gmail,
        "engine": engine,
        "state": state,
        "editor": SheetEditor(sheets, sid, SCHEMA),
        "sid": sid,
    }


def call(
    deployment: dict[str, Any], name: str = "invoice_flow", headers: dict[str, str] | None = None
) -> tuple[dict[str, Any], int, int]:
    """Run a function; also count the Google API requests the service account made."""
    mark = deployment["sheets"].mark()
    body, status = handle(name, Request(headers), build=lambda _config: deployment["engine"])
    return body, status, deployment["sheets"].count(since=mark, user=SERVICE_ACCOUNT)


def test_an_invoice_goes_to_payment_through_the_cloud_functions(deployment: dict[str, Any]) -> None:
    editor: SheetEditor = deployment["editor"]
    editor.add_row(
        "invoices",
        {
            "manager": "Maria Lopez",
            "supplier": "Acme",
            "supplier_email": "b@acme.example",
            "invoice_no": "A-1",
            "invoice_date": "20.11.2026",
            "amount": 100,
            "invoice_file": "https://files.example/a1.pdf",
            "signer": "Dmitry Volkov",
        },
    )
    body, status, requests = call(deployment)
    assert (status, body["outcome"]) == (200, "done")
    assert ("INV-000001", "New", "Awaiting decision") in map(tuple, body["transitions"])
    assert requests <= 5  # the instance's first request also fetches the tab metadata
    editor.as_user("dmitry@example.com").set("invoices", "INV-000001", {"decision": "Approve"})
    assert call(deployment)[2] <= 4
    editor.as_user("irina@example.com").set("invoices", "INV-000001", {"accountant": "Irina K"})
    body, _, requests = call(deployment)
    assert ("INV-000001", "Awaiting accountant", "In payment") in map(tuple, body["transitions"])
    assert requests <= 4
    assert editor.row("invoices", "INV-000001")["status"] == "In payment"
    # A second accountant cannot overwrite the claim: the cell is protected now.
    assert not editor.may_edit("invoices", "INV-000001", "accountant", "maria@example.com")
    sent_to = sorted(m.received["To"] for m in deployment["gmail"].sent)
    assert sent_to == [
        "Acme <b@acme.example>",
        "Dmitry Volkov <dmitry@example.com>",
        "Irina K <irina@example.com>",
    ]
    call(deployment)  # reads once more after its own write
    body, _, requests = call(deployment)
    assert (body["outcome"], requests) == ("idle", 1)  # only the Drive version check


def test_a_scheduler_retry_is_answered_without_running_again(deployment: dict[str, Any]) -> None:
    headers = {"X-CloudScheduler-ScheduleTime": "2026-11-28T09:00:00Z"}
    assert call(deployment, "deal_watch", headers)[0]["outcome"] != "duplicate"
    body, status, requests = call(deployment, "deal_watch", headers)
    assert (body["outcome"], status, requests) == ("duplicate", 200, 0)
