"""The Cloud Functions entry points, through functions-framework, on a local book."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from functions_framework import create_app

from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from tests.cloud_function import cloud_function

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "book.xlsx"
    create_workbook(
        path,
        SCHEMA,
        "en",
        people=PEOPLE,
        settings={"time_zone": "Europe/Berlin", "sender": "flow@example.com"},
    )
    WorkbookEditor(path, SCHEMA).add_row(
        "invoices",
        {
            "manager": "Maria Lopez",
            "supplier": "Acme",
            "supplier_email": "b@acme.example",
            "invoice_no": "A-1",
            "invoice_date": "20.11.2026",
            "amount": 10,
            "invoice_file": "f.pdf",
            "signer": "Dmitry Volkov",
        },
    )
    monkeypatch.setenv("SHEETFLOW_BOOK", str(path))
    monkeypatch.setenv("SHEETFLOW_MAIL", f"outbox:{tmp_path / 'outbox'}")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    return path


def call(target: str, headers: dict[str, str] | None = None, query: str = "") -> tuple[Any, int]:
    client = create_app(target=target, source=str(ROOT / "main.py")).test_client()
    response = client.post("/" + query, headers=headers or {})
    return response.get_json(), response.status_code


def log_lines(captured: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in captured.splitlines() if line.startswith("{")]


def test_invoice_flow_answers_json_and_logs_for_cloud_logging(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    body, status = call("invoice_flow")
    assert status == 200
    assert body["outcome"] == "done"
    assert ["INV-000001", "New", "Awaiting decision"] in body["transitions"]
    entries = log_lines(capsys.readouterr().out)
    assert entries[-1]["severity"] == "INFO"
    assert entries[-1]["function"] == "invoice_flow"
    assert call("invoice_flow")[0]["outcome"] == "idle"


def test_a_scheduler_retry_of_the_same_run_is_not_run_twice(book: Path) -> None:
    headers = {"X-CloudScheduler-ScheduleTime": "2026-11-28T09:00:00Z"}
    assert call("deal_watch", headers)[0]["outcome"] != "duplicate"
    body, status = call("deal_watch", headers)
    assert (body["outcome"], status) == ("duplicate", 200)


def test_a_held_lock_answers_200_skipped(book: Path) -> None:
    state = SqliteState(book.with_name("book.state.sqlite"))
    assert state.acquire_lock("other", 300)
    body, status = call("invoice_flow")
    assert (body["outcome"], status) == ("skipped", 200)


def test_a_failed_tick_answers_500_with_a_json_error_so_scheduler_retries(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import openpyxl

    wb = openpyxl.load_workbook(book)
    wb["Invoices"]["J1"].value = "Approver"  # the Signer header renamed
    wb.save(book)
    body, status = call("invoice_flow")
    assert status == 500
    assert "Signer" in body["error"]
    assert log_lines(capsys.readouterr().out)[-1]["severity"] == "ERROR"


def test_missing_configuration_is_named(book: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHEETFLOW_BOOK")
    body, status = call("invoice_flow")
    assert status == 500
    assert "SHEETFLOW_BOOK" in body["error"]


def test_monthly_report_writes_the_requested_month(book: Path) -> None:
    call("invoice_flow")
    body, status = call("monthly_report", query="?month=2026-11")
    assert (status, body["report"]) == (200, "Report 2026-11")
    import openpyxl

    assert "Report 2026-11" in openpyxl.load_workbook(book, read_only=True).sheetnames


@pytest.fixture
def server(book: Path) -> Iterator[str]:
    with cloud_function("invoice_flow", {}, []) as (url, _port):
        yield url


def test_a_real_functions_framework_process_runs_the_tick(server: str, book: Path) -> None:
    request = urllib.request.Request(server, method="POST", data=b"")
    with urllib.request.urlopen(request, timeout=60) as response:
        body = json.loads(response.read())
        assert response.status == 200
    assert body["outcome"] == "done"
    assert len(list((book.parent / "outbox").glob("*.eml"))) == 1


def test_a_failed_monthly_report_is_run_again_when_scheduler_retries_it(book: Path) -> None:
    call("invoice_flow")
    headers = {"X-CloudScheduler-ScheduleTime": "2026-12-01T06:00:00Z"}
    someone = book.with_name(f".~lock.{book.name}#")
    someone.write_text("Maria,maria-pc,01.12.2026 07:00,file:///home/maria;")
    body, status = call("monthly_report", headers, "?month=2026-11")
    assert status == 500, body
    someone.unlink()
    body, status = call("monthly_report", headers, "?month=2026-11")  # Scheduler's retry
    assert (status, body["outcome"], body["report"]) == (200, "done", "Report 2026-11")


class _Request:
    headers: dict[str, str] = {}
    args: dict[str, str] = {}


def test_a_function_instance_builds_its_engine_once_and_afresh_after_a_crash(book: Path) -> None:
    from functions.entry.cloud import handle
    from functions.wiring.bootstrap import build_engine

    built: list[object] = []

    def build(config: Any) -> Any:
        built.append(config)
        return build_engine(config)

    assert handle("invoice_flow", _Request(), build)[1] == 200
    assert handle("invoice_flow", _Request(), build)[1] == 200
    assert len(built) == 1  # the second request reused the instance's engine (and its caches)

    def broken(config: Any) -> Any:
        engine = build_engine(config)
        engine.tick = lambda **_kw: 1 / 0  # type: ignore[method-assign,assignment]
        return engine

    assert handle("invoice_flow", _Request(), broken)[1] == 500
    answer, status = handle("invoice_flow", _Request(), build)
    assert status == 200
    assert len(built) == 1  # `build` keeps its engine; `broken`'s was dropped:
    from functions.entry import cloud

    assert not any(key[0] is broken for key in cloud._ENGINES)


def test_a_tick_that_set_a_refused_write_aside_is_logged_at_error(
    book: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from functions.entry.cloud import handle
    from functions.tick.engine import TickReport
    from functions.wiring.bootstrap import build_engine

    def build(config: Any) -> Any:
        engine = build_engine(config)
        refused = "set aside after repeated refusals: requests[3].addProtectedRange: Google…"
        engine.tick = lambda **_kw: TickReport(problems=[refused], set_aside=[refused])  # type: ignore[method-assign]
        return engine

    body, status = handle("invoice_flow", _Request(), build)
    assert status == 200
    entry = log_lines(capsys.readouterr().out)[-1]
    assert entry["severity"] == "ERROR"
    assert "addProtectedRange" in json.dumps(entry)
