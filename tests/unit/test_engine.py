"""The tick as a whole, on fakes of the book and the mail, with real SQLite state."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from functions.adapters.sqlite.state import SqliteState
from functions.model import RenderedEmail, SheetChanges
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.builders import NOW, invoice
from tests.crash_points import Crash, dies_at
from tests.fakes import FakeBook, FakeMail

PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", "Yes"),
    ("Dmitry Volkov", "dmitry@example.com", "director", "Yes"),
    ("Irina K", "irina@example.com", "accountant", "Yes"),
    ("Sergey Popov", "sergey@example.com", "accountant", "Yes"),
]


@pytest.fixture
def book() -> FakeBook:
    return FakeBook(PEOPLE)


def make_engine(
    book: FakeBook, tmp_path: Path, mail: FakeMail | None = None, crash_at: str | None = None
) -> tuple[Engine, FakeMail]:
    mail = mail or FakeMail()
    state = SqliteState(tmp_path / "state.sqlite")
    return Engine(book, state, mail, EmailRenderer(), load_schema(), dies_at(crash_at)), mail


def new_invoice(**overrides: object) -> dict[str, object]:
    return invoice(id=None, **overrides)


STORY = [
    lambda b: b.tabs["invoices"].append(new_invoice()),
    lambda b: b.row("INV-000001").update(decision="Approve"),
    lambda b: b.row("INV-000001").update(accountant="Irina K"),
    lambda b: b.row("INV-000001").update(paid_on="28.11.2026"),
    lambda b: b.row("INV-000001").update(closing_docs="https://files.example/waybill"),
]


def play(
    book: FakeBook, tmp_path: Path, crash_at: str | None = None, crash_step: int = -1
) -> FakeMail:
    mail = FakeMail()
    for index, edit in enumerate(STORY):
        edit(book)
        now = NOW + timedelta(hours=index)
        engine, _ = make_engine(book, tmp_path, mail, crash_at if index == crash_step else None)
        try:
            engine.tick(now)
        except Crash:
            engine, _ = make_engine(book, tmp_path, mail)
            engine.tick(now)
    return mail


def test_the_whole_story_ends_closed_with_each_email_once(book: FakeBook, tmp_path: Path) -> None:
    mail = play(book, tmp_path)
    row = book.row("INV-000001")
    assert row["status"] == "Closed"
    keys = [e.key for e in mail.sent]
    assert len(keys) == len(set(keys))
    assert [k.split(":")[2] for k in keys] == [
        "signer_request",
        "accountants_approved",
        "accountants_approved",
        "supplier_in_payment",
        "manager_paid",
        "closed",
        "closed",
    ]
    # A closed invoice keeps no protection: the number of protected ranges stays bounded.
    assert not any(record == "INV-000001" for record, _ in book.locked)
    events = [r[3] for r in book.log]
    assert events.count("Status changed") == 5
    assert events[0] == "Created"


@pytest.mark.parametrize(
    "crash_at",
    ["read", "journal_saved", "sheet_applied", "email_sent", "before_commit", "committed"],
)
@pytest.mark.parametrize("crash_step", [0, 3])
def test_a_tick_killed_at_any_step_and_rerun_ends_the_same_with_each_email_once(
    tmp_path: Path, crash_at: str, crash_step: int
) -> None:
    clean_book = FakeBook(PEOPLE)
    clean_mail = play(clean_book, tmp_path / "clean")
    crashed_book = FakeBook(PEOPLE)
    crashed_mail = play(crashed_book, tmp_path / "crashed", crash_at, crash_step)
    assert crashed_book.tabs == clean_book.tabs
    assert [e.key for e in crashed_mail.sent] == [e.key for e in clean_mail.sent]
    assert [r[1:] for r in crashed_book.log] == [r[1:] for r in clean_book.log]


@pytest.fixture(autouse=True)
def _dirs(tmp_path: Path) -> None:
    (tmp_path / "clean").mkdir()
    (tmp_path / "crashed").mkdir()


def test_an_idle_tick_writes_nothing(book: FakeBook, tmp_path: Path) -> None:
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    applies = book.applies
    report = engine.tick(NOW + timedelta(minutes=1))
    assert report.outcome == "idle"
    assert book.applies == applies
    reads = book.reads
    assert engine.tick(NOW + timedelta(minutes=2)).outcome == "idle"
    assert book.reads == reads  # nothing was edited: the version check alone decides
    book.row("INV-000001")["comment"] = "edited"
    engine.tick(NOW + timedelta(minutes=3))
    assert book.reads == reads + 1


class OwnWriteBook(FakeBook):
    """A book that, like a workbook, names the version its own write left (or None)."""

    def __init__(self, people: list[tuple[str, str, str, str]], keeps: list[str]) -> None:
        super().__init__(people)
        self.keeps = keeps  # writes it reports as kept a person's value
        self.written_version: str | None = None

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        skipped = super().apply(changes, fingerprint) + self.keeps
        self.written_version = self.version()
        return skipped


def test_the_tick_after_the_books_own_write_reads_nothing(tmp_path: Path) -> None:
    book = OwnWriteBook(PEOPLE, keeps=[])
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    assert engine.tick(NOW).outcome == "done"
    reads = book.reads
    assert engine.tick(NOW + timedelta(minutes=1)).outcome == "idle"
    assert book.reads == reads  # the version its write left is the one recorded
    book.row("INV-000001")["decision"] = "Approve"
    engine.tick(NOW + timedelta(minutes=2))
    assert book.reads == reads + 1
    assert book.row("INV-000001")["status"] == "Awaiting accountant"


def test_a_write_that_kept_a_persons_value_is_read_again(tmp_path: Path) -> None:
    book = OwnWriteBook(PEOPLE, keeps=["INV-000001 Decision: kept the value a person typed"])
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    reads = book.reads
    engine.tick(NOW + timedelta(minutes=1))
    assert book.reads == reads + 1  # the book is not what the plan made: look again


def test_a_second_tick_while_one_runs_is_skipped(book: FakeBook, tmp_path: Path) -> None:
    first, _ = make_engine(book, tmp_path)
    assert first.state.acquire_lock(first.owner, 300)
    second, mail = make_engine(book, tmp_path)
    report = second.tick(NOW)
    assert report.outcome == "skipped"
    assert "another tick is running" in report.message
    assert book.applies == 0
    assert mail.sent == []


def test_a_busy_book_is_not_written_and_the_next_tick_catches_up(
    book: FakeBook, tmp_path: Path
) -> None:
    book.tabs["invoices"].append(new_invoice())
    book.busy = "the workbook is open in LibreOffice"
    engine, mail = make_engine(book, tmp_path)
    report = engine.tick(NOW)
    assert report.outcome == "busy"
    assert "open in LibreOffice" in report.message
    assert book.applies == 0
    assert mail.sent == []
    book.busy = None
    engine.tick(NOW)
    assert book.row("INV-000001")["status"] == "Awaiting decision"
    assert len(mail.sent) == 1


def test_an_edit_made_during_the_tick_is_never_overwritten(book: FakeBook, tmp_path: Path) -> None:
    book.tabs["invoices"].append(new_invoice())
    engine, mail = make_engine(book, tmp_path)
    engine.tick(NOW)

    def someone_edits(step: str) -> None:
        if step == "read":
            book.row("INV-000001")["decision"] = "Approve"

    book.row("INV-000001")["comment"] = "looks fine"
    engine.checkpoint = someone_edits
    report = engine.tick(NOW + timedelta(minutes=1))
    assert report.outcome == "retry"
    assert book.row("INV-000001")["decision"] == "Approve"
    engine.checkpoint = lambda step: None
    engine.tick(NOW + timedelta(minutes=2))
    assert book.row("INV-000001")["status"] == "Awaiting accountant"
    assert book.row("INV-000001")["comment"] == "looks fine"


def test_ids_are_assigned_in_order_and_never_reused(book: FakeBook, tmp_path: Path) -> None:
    book.tabs["invoices"] += [new_invoice(), new_invoice(invoice_no="B-2")]
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    assert [r["id"] for r in book.tabs["invoices"]] == ["INV-000001", "INV-000002"]
    book.tabs["invoices"].pop()  # someone deletes the last row
    engine.tick(NOW + timedelta(minutes=1))
    book.tabs["invoices"].append(new_invoice(invoice_no="C-3"))
    engine.tick(NOW + timedelta(minutes=2))
    assert book.tabs["invoices"][-1]["id"] == "INV-000003"
    removed = [r for r in book.log if r[3] == "Row deleted"]
    assert removed
    assert removed[0][2] == "INV-000002"
    assert "B-2" in removed[0][7]


def test_a_copied_row_is_told_it_is_a_copy_and_the_original_goes_on(
    book: FakeBook, tmp_path: Path
) -> None:
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    copy_row = copy.deepcopy(book.row("INV-000001"))
    copy_row.update(supplier="Copy Supplier", invoice_no="NEW-1")  # reused as a template
    book.tabs["invoices"].insert(0, copy_row)
    book.tabs["invoices"][1]["decision"] = "Approve"
    engine.tick(NOW + timedelta(minutes=1))
    assert "looks like a copy" in book.tabs["invoices"][0]["note"]
    assert book.tabs["invoices"][0]["supplier"] == "Copy Supplier"
    assert book.tabs["invoices"][1]["status"] == "Awaiting accountant"


def test_a_people_change_re_evaluates_waiting_rows(book: FakeBook, tmp_path: Path) -> None:
    book.tabs["invoices"].append(new_invoice())
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    book.row("INV-000001").update(decision="Approve")
    engine.tick(NOW + timedelta(seconds=30))
    book.row("INV-000001").update(accountant="Nina New")
    engine.tick(NOW + timedelta(seconds=40))
    assert "Nina New" in book.row("INV-000001")["note"]
    book.tabs["people"].append(
        {"name": "Nina New", "email": "nina@example.com", "role": "accountant", "active": "Yes"}
    )
    engine.tick(NOW + timedelta(minutes=1))
    assert book.row("INV-000001")["status"] == "In payment"
    assert "Nina New" in book.lists["accountants"]


def test_queues_show_unclaimed_and_own_invoices_never_others(
    book: FakeBook, tmp_path: Path
) -> None:
    book.tabs["invoices"] += [new_invoice(), new_invoice(invoice_no="B-2")]
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    book.row("INV-000001").update(decision="Approve")
    book.row("INV-000002").update(decision="Approve")
    engine.tick(NOW + timedelta(seconds=20))
    book.row("INV-000002").update(accountant="Sergey Popov")
    engine.tick(NOW + timedelta(seconds=40))
    irina = [row[0] for row in book.queues["Irina K"]]
    sergey = [row[0] for row in book.queues["Sergey Popov"]]
    assert irina == ["INV-000001"]
    assert sergey == ["INV-000001", "INV-000002"]
    book.row("INV-000001")["accountant"] = "Irina K"
    engine.tick(NOW + timedelta(minutes=1))
    assert [row[0] for row in book.queues["Sergey Popov"]] == ["INV-000002"]
    assert [row[0] for row in book.queues["Irina K"]] == ["INV-000001"]


class FlakyMail(FakeMail):
    """Fails the first send; `arrived` says whether that failed send reached the server."""

    def __init__(self, *, maybe_sent: bool, arrived: bool) -> None:
        super().__init__()
        self.maybe_sent, self.arrived, self.failed = maybe_sent, arrived, False

    def send(self, email: RenderedEmail) -> None:
        from functions.errors import MailError

        if not self.failed:
            self.failed = True
            if self.arrived:
                super().send(email)
            raise MailError("connection lost", maybe_sent=self.maybe_sent)
        super().send(email)


@pytest.mark.parametrize(
    ("maybe_sent", "arrived", "copies"), [(False, False, 1), (True, True, 1), (True, False, 1)]
)
def test_a_failed_send_is_retried_only_when_it_cannot_have_arrived(
    book: FakeBook, tmp_path: Path, maybe_sent: bool, arrived: bool, copies: int
) -> None:
    book.tabs["invoices"].append(new_invoice())
    mail = FlakyMail(maybe_sent=maybe_sent, arrived=arrived)
    engine, _ = make_engine(book, tmp_path, mail)
    first = engine.tick(NOW)
    assert any("will retry" in p for p in first.problems)
    engine.tick(NOW + timedelta(minutes=1))
    assert len(mail.sent) == copies


def test_a_people_edit_commits_only_the_rows_it_changed(book: FakeBook, tmp_path: Path) -> None:
    """Every invoice is re-evaluated after People change; unchanged ones are not rewritten."""
    book.tabs["invoices"] += [new_invoice(invoice_no=f"A-{i}") for i in range(5)]
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    engine.tick(NOW + timedelta(minutes=1))  # reads the IDs and statuses it wrote
    committed: list[dict[str, object]] = []
    commit = engine.state.commit_journal

    def recording(changes: Mapping[str, Mapping[str, Any]], meta: dict[str, Any]) -> None:
        committed.append({tab: sorted(rows) for tab, rows in changes.items() if rows})
        commit(changes, meta)

    engine.state.commit_journal = recording  # type: ignore[method-assign,assignment]
    book.tabs["people"].append(
        {"name": "Olga New", "email": "olga@example.com", "role": "manager", "active": "Yes"}
    )
    book.row("INV-000002").update(comment="Please pay by Friday")
    engine.tick(NOW + timedelta(minutes=2))
    assert committed == [{"invoices": ["INV-000002"]}]
    assert engine.state.load_meta()["context"] != ""  # the People change itself was recorded


def test_the_plan_itself_leaves_out_the_rows_a_people_edit_did_not_change(
    book: FakeBook, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Left out as they are made (not all held, then dropped): 100,000 re-planned rows would
    otherwise all be in memory at once."""
    import functions.tick.assemble as assemble_module
    from functions.tick import planner

    book.tabs["invoices"] += [new_invoice(invoice_no=f"A-{i}") for i in range(5)]
    engine, _ = make_engine(book, tmp_path)
    engine.tick(NOW)
    engine.tick(NOW + timedelta(minutes=1))
    monkeypatch.setattr(assemble_module, "drop_unchanged", lambda planned, stored: None)
    planned: list[list[str]] = []
    folder_asked: list[set[str]] = []
    plan_tick, plan_folder = planner.plan_tick, vars(planner)["plan_folder"]

    def recording(*args: Any, **kwargs: Any) -> Any:
        plan = plan_tick(*args, **kwargs)
        planned.append(sorted(plan.snapshot.get("invoices", {})))
        return plan

    def folder(*args: Any) -> None:
        folder_asked.append(set(args[-1]))
        plan_folder(*args)

    monkeypatch.setattr(assemble_module, "plan_tick", recording)
    monkeypatch.setattr(planner, "plan_folder", folder)
    book.tabs["people"].append(
        {"name": "Olga New", "email": "olga@example.com", "role": "manager", "active": "Yes"}
    )
    book.row("INV-000002").update(comment="Please pay by Friday")
    engine.tick(NOW + timedelta(minutes=2))
    assert planned == [["INV-000002"]]
    # every re-planned invoice still counts as planned (a pending folder Note is not kept)
    assert folder_asked == [{f"INV-00000{i}" for i in range(1, 6)}]
