"""The Bitrix24 import end to end: a real workbook, SQLite state, outbox, and the loopback double.

Each test plays ticks the way `sheetflow run` does, with Bitrix24 changing in between.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.sqlite.state import SqliteState
from functions.adapters.workbook.book import WorkbookBook
from functions.demo.bitrix24.portal import Portal, stage
from functions.demo.bitrix24.server import BitrixDouble, bitrix_double
from functions.demo.bitrix24.wiring import deals as deal_source
from functions.model import BookRead
from functions.notify import EmailRenderer
from functions.tick.engine import Engine
from tests.local_backend import (
    SCHEMA,
    edit_book,
    new_book,
    outbox_keys,
    outbox_messages,
    rows_by_header,
    state_path,
)

START = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


class Crash(Exception):
    pass


def engine(book: Path, double: BitrixDouble, budget: int = 100, checkpoint: Any = None) -> Engine:
    made = Engine(
        WorkbookBook(book, SCHEMA),
        SqliteState(state_path(book), clock=time.time),
        OutboxSender(book.parent / "outbox"),
        EmailRenderer(),
        SCHEMA,
        checkpoint or (lambda step: None),
        crm=deal_source(double, budget=budget),  # as the bootstrap does with a webhook
    )
    return made


def tick(book: Path, double: BitrixDouble, minute: int, **options: Any) -> Any:
    double.portal.clock.advance(60)
    return engine(book, double, **options).tick(START + timedelta(minutes=minute))


def deals_tab(book: Path) -> dict[str, dict[str, Any]]:
    return {str(r["Deal ID"]): r for r in rows_by_header(book, "Deals") if r["Deal ID"]}


def settings_status(book: Path) -> str:
    rows = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    return str(rows.get("Bitrix24 status") or "")


def log_rows(book: Path, event: str | None = None) -> list[dict[str, Any]]:
    """Log rows of one event, given by its key (the Log shows it in the book's language)."""
    rows = rows_by_header(book, "Log")
    return [
        r for r in rows if event is None or SCHEMA.log_key("log_events", str(r["Event"])) == event
    ]


def portal_with_deals(count: int, paid_every: int = 0) -> Portal:
    portal = Portal()
    portal.add_user("Maria", "Lopez", "maria@example.com")  # user 2: Maria Lopez in People
    for n in range(count):
        deal = portal.add_deal(f"Deal {n + 1}", 1000.0, assignedById=2)
        if paid_every and n % paid_every == 0:
            portal.pay(deal, 250.0)
    return portal


def test_a_first_import_of_hundreds_of_deals_fills_deals_in_few_requests_and_alerts_nobody(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(260, paid_every=4)) as double:
        report = tick(book, double, 0)
        rows = deals_tab(book)
        assert len(rows) == 260, report
        first = rows["1"]
        assert first["Deal"] == "Deal 1"
        assert first["Manager"] == "Maria Lopez"  # as in People (matched by email)
        assert first["Stage"] == "New"  # the stage's name, not its code
        assert (first["Amount"], first["Paid"], first["Paid %"]) == (1000, 250, 25)
        assert rows["2"]["Paid"] == 0
        calls = Counter(double.methods_called())
        assert calls["crm.deal.list"] == 0  # deprecated (crm-deal-list.md)
        # context 2 + one page + one chained batch of pages + 6 payment batches (50 deals each)
        assert double.portal.http_requests <= 10
        assert double.portal.refused_for_rate == 0
        tick(book, double, 1)  # the deal watcher records the imported pipeline silently
        tick(book, double, 2)
        assert outbox_messages(tmp_path / "outbox") == []
        assert "deals imported so far: 260" in settings_status(book)


def test_a_payment_in_bitrix24_updates_the_row_and_alerts_the_directors_once(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(3)) as double:
        for minute in range(3):
            tick(book, double, minute)
        double.portal.pay(2, 400.0)
        tick(book, double, 3)  # the import writes Paid and Paid %
        assert deals_tab(book)["2"]["Paid"] == 400
        tick(book, double, 4)  # the watcher sees the change like a typed one
        tick(book, double, 5)
        keys = outbox_keys(tmp_path / "outbox")
        assert [k for k in keys if ":2:payment:" in k] == ["deal:2:payment:1:dmitry@example.com"]
        assert set(keys.values()) == {1}
        report = engine(book, double).monthly_report("2026-11", START + timedelta(minutes=6))
        column = [c.key for c in SCHEMA.labels.report_columns].index("deal_received")
        assert report.rows[-1][column] == 400  # the monthly report counts the imported payment


def test_a_deal_changed_during_the_import_ends_with_its_new_values(tmp_path: Path) -> None:
    book = new_book(tmp_path)
    portal = portal_with_deals(180)
    changed: list[bool] = []

    def change_deal_already_read(p: Portal) -> None:
        if not changed and any(m == "crm.item.payment.list" for m, _ in p.calls):
            changed.append(True)
            p.update_deal(5, title="Deal 5 (renamed while importing)")

    portal.after_request.append(change_deal_already_read)
    with bitrix_double(portal) as double:
        tick(book, double, 0)
        assert changed
        assert deals_tab(book)["5"]["Deal"] == "Deal 5"  # read before the change
        tick(book, double, 1)
        assert deals_tab(book)["5"]["Deal"] == "Deal 5 (renamed while importing)"
        assert len(deals_tab(book)) == 180


def test_a_renamed_stage_or_user_reaches_every_deal_row(tmp_path: Path) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(60)) as double:
        tick(book, double, 0)
        double.portal.stages["DEAL_STAGE"][0] = stage("DEAL_STAGE", "NEW", "Fresh lead", 10)
        double.portal.users[2]["LAST_NAME"] = "Lopez-Garcia"
        double.portal.users[2]["EMAIL"] = "maria.lg@example.com"  # no longer in People
        for minute in range(1, 4):
            tick(book, double, minute)
        rows = deals_tab(book)
        assert {r["Stage"] for r in rows.values()} == {"Fresh lead"}
        assert {r["Manager"] for r in rows.values()} == {"Maria Lopez-Garcia"}
        assert len(log_rows(book, "renamed")) == 2


def test_a_missing_custom_field_is_told_once_and_the_other_columns_still_import(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    portal = portal_with_deals(4)
    portal.add_field("UF_CRM_1700000001", "Order number")
    portal.update_deal(1, UF_CRM_1700000001="ORD-77")
    with bitrix_double(portal) as double:
        edit_book(
            book,
            [
                ("settings", "new", {"key": "Bitrix24 Order no. field", "value": "Order number"}),
                ("settings", "new", {"key": "Bitrix24 Invoice no. field", "value": "UF_CRM_NOPE"}),
            ],
        )
        for minute in range(4):
            tick(book, double, minute)
        rows = deals_tab(book)
        assert rows["1"]["Order no."] == "ORD-77"  # found by the field's title
        assert len(rows) == 4
        problems = [r for r in log_rows(book, "problem") if str(r["Flow"]).casefold() == "bitrix24"]
        assert len(problems) == 1
        assert "UF_CRM_NOPE" in problems[0]["Details"]
        assert "UF_CRM_NOPE" in settings_status(book)


def test_a_custom_paid_field_replaces_the_payments(tmp_path: Path) -> None:
    book = new_book(tmp_path)
    portal = portal_with_deals(2)
    portal.add_field("UF_CRM_PAID", "Paid")
    portal.update_deal(1, UF_CRM_PAID="600|EUR")  # a money field (value|currency)
    with bitrix_double(portal) as double:
        edit_book(
            book, [("settings", "new", {"key": "Bitrix24 Paid field", "value": "UF_CRM_PAID"})]
        )
        tick(book, double, 0)
        row = deals_tab(book)["1"]
        assert (row["Paid"], row["Paid %"]) == (600, 60)
        assert "crm.item.payment.list" not in double.methods_called()


@pytest.mark.parametrize(
    ("breakage", "words"),
    [
        ("wrong_code", "does not accept the webhook"),
        ("down", "is not answering"),
        ("no_crm_scope", "may not read"),
        ("no_deal_access", "may not read"),
    ],
)
def test_a_broken_connection_is_one_log_line_and_a_settings_note_and_deals_keep_their_values(
    tmp_path: Path, breakage: str, words: str
) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(5)) as double:
        tick(book, double, 0)
        before = deals_tab(book)
        edit_book(book, [("invoices", "new", {"supplier": "Acme"})])  # the rest of the tick
        portal = double.portal
        if breakage == "wrong_code":
            portal.code = "revoked"
        elif breakage == "down":
            portal.down = 10_000
        elif breakage == "no_crm_scope":
            portal.scopes.discard("crm")
        else:
            portal.deal_access = False
        report = tick(book, double, 1)
        tick(book, double, 2)
        assert deals_tab(book) == before
        assert words in settings_status(book)
        problems = [r for r in log_rows(book, "problem") if str(r["Flow"]).casefold() == "bitrix24"]
        assert len(problems) == 1, problems
        assert any("Bitrix24" in p for p in report.problems)
        invoices = rows_by_header(book, "Invoices")
        assert invoices
        assert invoices[0]["ID"]  # the invoice flow carried on
        assert portal.code not in str(rows_by_header(book, "Log")) or breakage != "down"


def test_a_deal_deleted_in_bitrix24_is_marked_not_removed(tmp_path: Path) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(6)) as double:
        tick(book, double, 0)
        del double.portal.deals[3]
        tick(book, double, 20)  # the deletion check runs every 15 minutes
        rows = deals_tab(book)
        assert rows["3"]["Stage"] == "Deleted in Bitrix24"
        assert rows["3"]["Deal"] == "Deal 3"
        assert len(rows) == 6
        assert [r["Record"] for r in log_rows(book, "deleted")] == ["3"]


@pytest.mark.parametrize("step", ["journal_saved", "sheet_applied", "before_commit"])
def test_a_crash_in_the_middle_of_an_import_resumes_without_duplicate_rows_or_alerts(
    tmp_path: Path, step: str
) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(120)) as double:
        tick(book, double, 0, budget=4)  # part of the first import
        tick(book, double, 1)
        tick(book, double, 2)
        for deal in (2, 70, 110):
            double.portal.pay(deal, 100.0)
        double.portal.add_deal("Deal 121", 500.0, assignedById=2)

        def crash(at: str) -> None:
            if at == step:
                raise Crash(at)

        with pytest.raises(Crash):
            tick(book, double, 3, checkpoint=crash)
        for minute in range(4, 8):
            tick(book, double, minute)
        ids = [str(r["Deal ID"]) for r in rows_by_header(book, "Deals") if r["Deal ID"]]
        assert len(ids) == len(set(ids)) == 121
        keys = outbox_keys(tmp_path / "outbox")
        assert sorted(k for k in keys) == [
            f"deal:{d}:payment:1:dmitry@example.com" for d in ("110", "2", "70")
        ]
        assert set(keys.values()) == {1}


def test_the_webhook_never_reaches_the_sheet_the_state_or_the_output(tmp_path: Path) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(3)) as double:
        tick(book, double, 0)
        double.portal.code = "changed"
        report = tick(book, double, 1)
        secret = "s3cr3tc0de9x7q2l"
        assert secret not in str(report)
        assert secret not in str(rows_by_header(book, "Settings")) + str(
            rows_by_header(book, "Log")
        )
        assert secret.encode() not in state_path(book).read_bytes()


def test_a_quiet_minute_costs_three_bitrix24_requests_and_no_read_of_the_sheet(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    book = new_book(tmp_path)
    with bitrix_double(portal_with_deals(5)) as double:
        for minute in range(3):
            tick(book, double, minute)
        before = double.portal.http_requests
        reads: list[bool] = []
        real_read = WorkbookBook.read

        def counted_read(self: WorkbookBook) -> BookRead:
            reads.append(True)
            return real_read(self)

        monkeypatch.setattr(WorkbookBook, "read", counted_read)
        report = tick(book, double, 3)
        assert report.outcome == "idle"
        assert double.portal.http_requests - before == 3  # context (2) + one empty page
        assert reads == []
