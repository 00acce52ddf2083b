"""A tick's plan gathers every row's writes, locks, Log rows, emails and problems; IDs count on
from the highest one; a deal's edits are on the record."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.model import CellLock, TickPlan
from functions.schema import load_schema
from functions.tick.planner import plan_tick
from tests.builders import NOW, PEOPLE, invoice
from tests.fakes import FakeBook

SCHEMA = load_schema()


def read(invoices: list[dict[str, Any]], deals: list[dict[str, Any]] | None = None) -> Any:
    book = FakeBook([(p.name, p.email, p.role, "Yes") for p in PEOPLE.people if p.active])
    book.tabs["invoices"] = invoices
    book.tabs["deals"] = deals or []
    return book.read()


def tick(
    invoices: list[dict[str, Any]], before: TickPlan | None = None, minutes: int = 0
) -> TickPlan:
    """Plan a tick; the plan's snapshot holds every invoice as the next tick sees it."""
    snapshot: dict[str, Any] = {
        tab: dict(rows) for tab, rows in (before.snapshot if before else {}).items()
    }
    meta = before.meta if before else {}
    plan = plan_tick(read(invoices), snapshot, meta, SCHEMA, NOW + timedelta(minutes=minutes))
    plan.snapshot["invoices"] = {**snapshot.get("invoices", {}), **plan.snapshot["invoices"]}
    return plan


def rows_of(plan: TickPlan) -> list[dict[str, Any]]:
    """The invoice rows as the sheet holds them after the plan is applied."""
    return [dict(entry["values"]) for entry in plan.snapshot["invoices"].values() if entry]


def row_problems(plan: TickPlan) -> list[str]:
    return [p for p in plan.problems if p.startswith("INV-")]


def test_every_rows_emails_locks_log_and_moves_are_in_the_plan() -> None:
    plan = tick([invoice(), invoice(id="INV-000002", invoice_no="B-2")])
    assert [e.key for e in plan.emails] == [
        "invoice:INV-000001:signer_request:r1:dmitry@example.com",
        "invoice:INV-000002:signer_request:r1:dmitry@example.com",
    ]
    assert plan.transitions == [
        ("INV-000001", "", "New"),
        ("INV-000001", "New", "Awaiting decision"),
        ("INV-000002", "", "New"),
        ("INV-000002", "New", "Awaiting decision"),
    ]
    editors = ("dmitry@example.com",)
    assert plan.changes.locks == [
        CellLock("invoices", record, column, True, editors)
        for record in ("INV-000001", "INV-000002")
        for column in ("decision", "comment")
    ]
    assert [(e.record, e.event) for e in plan.changes.log if e.event == "created"] == [
        ("INV-000001", "created"),
        ("INV-000002", "created"),
    ]
    status = [w for w in plan.changes.writes if w.column == "status"]
    assert [(w.record, w.value) for w in status] == [
        ("INV-000001", "Awaiting decision"),
        ("INV-000002", "Awaiting decision"),
    ]


def test_a_rows_problem_is_reported_when_new_or_changed_not_on_every_tick() -> None:
    first = tick([invoice(signer=None), invoice(id="INV-000002", invoice_no="B-2")])
    assert row_problems(first) == ["INV-000001: Choose a Signer (director)"]
    again = tick(rows_of(first), first, minutes=1)
    assert row_problems(again) == []  # the same Note: nothing new to tell
    edited = tick([{**rows_of(again)[0], "comment": "soon"}, rows_of(again)[1]], again, minutes=1)
    assert row_problems(edited) == []  # another cell edited, the same Note
    changed = [{**rows_of(again)[0], "amount": "lots"}, rows_of(again)[1]]
    third = tick(changed, again, minutes=2)
    assert row_problems(third) == [
        "INV-000001: Amount “lots” is not a number. Choose a Signer (director)"
    ]


def test_conflicts_of_every_row_are_reported_not_just_the_last_rows() -> None:
    first = tick([invoice(), invoice(id="INV-000002", invoice_no="B-2")])
    typed = [{**rows_of(first)[0], "status": "Closed"}, {**rows_of(first)[1], "comment": "ok"}]
    second = tick(typed, first, minutes=1)
    assert len(second.conflicts) == 1
    assert second.conflicts[0].startswith("INV-000001: ")


def test_a_new_rows_id_follows_the_highest_id_with_the_books_prefix() -> None:
    plan = tick([invoice(id="INV-000005"), invoice(id=None, invoice_no="B-2")])
    assert [r["id"] for r in rows_of(plan)] == ["INV-000005", "INV-000006"]
    other = tick(
        [
            invoice(id="OLD-9"),
            invoice(id="INV-12A", invoice_no="C"),
            invoice(id=None, invoice_no="B-2"),
        ]
    )
    assert sorted(r["id"] for r in rows_of(other)) == ["INV-000001", "INV-12A", "OLD-9"]


def test_an_invoice_edited_to_match_one_already_submitted_is_held() -> None:
    first = tick([invoice(signer=None, invoice_no="X-1"), invoice(id="INV-000002")])
    assert first.snapshot["invoices"]["INV-000002"]["state"]["status"] == "awaiting_decision"  # type: ignore[index]
    edited = [
        {**rows_of(first)[0], "signer": "Dmitry Volkov", "invoice_no": "A-17"},
        rows_of(first)[1],
    ]
    second = tick(edited, first, minutes=1)
    held = second.snapshot["invoices"]["INV-000001"] or {}
    assert held["state"]["status"] == "new"
    assert "Looks like a duplicate of INV-000002 (Awaiting decision)" in str(held["values"]["note"])


def deal(**overrides: Any) -> dict[str, Any]:
    return {
        "deal_id": "D-1",
        "deal": "Steel",
        "manager": "Maria Lopez",
        "amount": 10000,
        "paid": 0,
        "paid_pct": 0,
        **overrides,
    }


def test_a_deals_edits_are_logged_old_to_new_under_the_column_header() -> None:
    first = plan_tick(read([], [deal()]), {}, {}, SCHEMA, NOW)
    snapshot: dict[str, Any] = {"deals": dict(first.snapshot["deals"])}
    second = plan_tick(
        read([], [deal(amount=12000, stage="Shipping")]), snapshot, first.meta, SCHEMA, NOW
    )
    edits = [e for e in second.changes.log if e.event == "edited"]
    assert [(e.flow, e.record, e.from_, e.to, e.details) for e in edits] == [
        ("deal", "D-1", "", "Shipping", "Stage"),
        ("deal", "D-1", "10,000.00", "12,000.00", "Amount"),  # money as the book writes it
    ]
    assert edits[0].as_row()[1:4] == ["Deal", "D-1", "Edited"]


def test_a_deleted_rows_last_values_are_logged_under_their_headers() -> None:
    first = tick([invoice()])
    second = tick([], first, minutes=1)
    [removed] = [e for e in second.changes.log if e.event == "removed"]
    assert "Supplier: Acme Steel" in removed.details
    assert "Invoice no.: A-17" in removed.details


def test_a_russian_book_is_planned_in_russian() -> None:
    plan = plan_tick(replace(read([invoice(signer=None)]), locale="ru"), {}, {}, SCHEMA, NOW)
    assert plan.locale == "ru"
    assert row_problems(plan) == ["INV-000001: Выберите подписанта (директор)"]


def test_people_with_active_left_empty_next_to_yes_are_read_alike() -> None:
    book = FakeBook([("Maria Lopez", "maria@example.com", "manager", "Yes")])
    book.tabs["people"] += [
        {"name": n, "email": e, "role": r, "active": None}
        for n, e, r in [("Dmitry Volkov", "dmitry@example.com", "director")]
    ]
    book.tabs["invoices"] = [invoice()]
    plan = plan_tick(book.read(), {}, {}, SCHEMA, NOW)
    assert [e.key for e in plan.emails] == [
        "invoice:INV-000001:signer_request:r1:dmitry@example.com"
    ]


def test_the_dropdowns_list_the_active_people_of_each_role() -> None:
    plan = tick([])
    assert plan.changes.lists == {
        "directors": ["Dmitry Volkov", "Elena Sokolova"],
        "accountants": ["Irina K", "Sergey Popov"],
        "managers": ["Maria Lopez"],
    }


def test_rows_are_planned_in_sheet_order_not_id_order() -> None:
    plan = tick([invoice(id="INV-000009"), invoice(id="INV-000002", invoice_no="B-2")])
    assert [e.record for e in plan.emails] == ["INV-000009", "INV-000002"]
    deals = plan_tick(read([], [deal(deal_id="D-9"), deal(deal_id="D-2")]), {}, {}, SCHEMA, NOW)
    assert list(deals.snapshot["deals"]) == ["D-9", "D-2"]


def test_an_id_once_given_is_never_given_again_even_after_its_row_is_deleted() -> None:
    first = tick([invoice(id="INV-000005")])
    assert first.meta["next_invoice_no"] == 6
    second = tick([invoice(id=None, invoice_no="B-2")], first, minutes=1)
    assert [e.record for e in second.emails] == ["INV-000006"]
    assert second.meta["next_invoice_no"] == 7


def test_a_deleted_row_is_logged_once_not_on_every_tick() -> None:
    first = tick([invoice()])
    second = tick([], first, minutes=1)
    assert [e.event for e in second.changes.log] == ["removed"]
    third = tick([], second, minutes=2)
    assert [e for e in third.changes.log if e.event == "removed"] == []
    deals = plan_tick(read([], [deal()]), {}, {}, SCHEMA, NOW)
    kept: dict[str, Any] = {"deals": dict(deals.snapshot["deals"])}
    gone = plan_tick(read([]), kept, deals.meta, SCHEMA, NOW)
    after: dict[str, Any] = {"deals": dict(gone.snapshot["deals"])}
    later = plan_tick(read([]), after, gone.meta, SCHEMA, NOW)
    assert [e for e in later.changes.log if e.event == "removed"] == []


def test_a_book_that_keeps_dates_gets_typed_dates_back_as_date_cells() -> None:
    plan = plan_tick(replace(read([invoice()]), date_cells=True), {}, {}, SCHEMA, NOW)
    dates = {w.column: w.value for w in plan.changes.writes if w.column == "invoice_date"}
    assert dates == {"invoice_date": "2026-11-20T00:00:00"}


def deal_tick(deals: list[dict[str, Any]], before: TickPlan | None = None) -> TickPlan:
    snapshot: dict[str, Any] = {"deals": dict(before.snapshot.get("deals", {}))} if before else {}
    return plan_tick(read([], deals), snapshot, before.meta if before else {}, SCHEMA, NOW)


def test_the_first_look_at_the_deals_records_them_without_alerts_and_logs_it() -> None:
    plan = deal_tick([deal(paid=3000, paid_pct=30), deal(deal_id="D-2")])
    assert plan.emails == []
    assert [e.as_row() for e in plan.changes.log] == [
        [
            "2026-11-28 09:00:00+00:00",
            "Deal",
            "*",
            "Baseline",
            "",
            "",
            "",
            "2 deals recorded as they are; alerts start with the next change",
        ]
    ]
    assert plan.meta["deals_baseline"] is True


def test_a_payment_is_planned_once_with_its_move_note_and_problem() -> None:
    first = deal_tick([deal(), deal(deal_id="D-2")])
    paid = deal_tick([deal(paid=12000, paid_pct=120, note="old words"), deal(deal_id="D-2")], first)
    assert paid.transitions == [("D-1", "0%", "120%")]  # as the Log writes them
    assert [e.key for e in paid.emails] == [
        "deal:D-1:payment:1:dmitry@example.com",
        "deal:D-1:payment:1:elena@example.com",
    ]
    note = "Paid 12,000.00 is more than the Amount 10,000.00 (overpayment)"
    assert [
        (w.tab, w.record, w.row, w.column, w.value, w.expected) for w in paid.changes.writes
    ] == [("deals", "D-1", 2, "note", note, "old words")]
    assert [p for p in paid.problems if p.startswith("D-")] == [f"D-1: {note}"]
    log = [(e.event, e.record, e.details) for e in paid.changes.log][:3]
    assert log == [  # the Note is sheetflow's own: its edit is not logged
        ("edited", "D-1", "Paid"),
        ("edited", "D-1", "Paid %"),
        ("payment", "D-1", "Paid % 0% → 120%"),
    ]
    again = deal_tick([deal(paid=12000, paid_pct=120, note=note), deal(deal_id="D-2")], paid)
    assert again.emails == []  # the payment was seen: no second alert
    moved = deal_tick(
        [deal(paid=12000, paid_pct=120, note=note, stage="Won"), deal(deal_id="D-2")], paid
    )
    assert moved.emails == []  # another cell edited: still no second alert
    assert [p for p in moved.problems if p.startswith("D-")] == []  # the same Note
    assert [e.details for e in moved.changes.log] == ["Stage"]


def test_deal_rows_without_an_id_or_with_a_taken_one_are_told_in_their_note_once() -> None:
    rows = [deal(), deal(deal_id=None), deal(note="mine")]
    plan = deal_tick(rows)
    taken = "Deal ID D-1 is also on row 2: each deal needs its own ID; this row is not watched"
    assert [(w.record, w.row, w.value, w.expected) for w in plan.changes.writes] == [
        (None, 3, "Fill in: Deal ID", None),
        (None, 4, taken, "mine"),
    ]
    assert [p for p in plan.problems if p.startswith("deals row")] == [
        "deals row 3: Fill in: Deal ID",
        f"deals row 4: {taken}",
    ]
    told = deal_tick([deal(), deal(deal_id=None, note="Fill in: Deal ID"), deal(note=taken)], plan)
    assert told.changes.writes == []


def test_a_copied_row_keeping_the_id_is_told_once_in_its_note_and_the_log() -> None:
    plan = tick([invoice(), invoice(supplier="Copy", note="typed")])
    note = (
        "ID INV-000001 is already used by row 2: this row looks like a copy. Clear its ID cell"
        " and a new ID will be assigned"
    )
    copy = [w for w in plan.changes.writes if w.row == 3]
    assert [(w.record, w.column, w.value, w.expected) for w in copy] == [
        (None, "note", note, "typed")
    ]
    [logged] = [e for e in plan.changes.log if e.event == "copy"]
    assert (logged.record, logged.details, logged.as_row()[3]) == ("INV-000001", note, "Copied row")
    assert "row 3: " + note in plan.problems
    again = tick([rows_of(plan)[0], invoice(supplier="Copy", note=note)], plan, minutes=1)
    assert [w for w in again.changes.writes if w.row == 3] == []


def test_a_deleted_row_is_logged_with_its_last_status_and_kept_as_deleted() -> None:
    first = tick([invoice()])
    second = tick([], first, minutes=1)
    [removed] = [e for e in second.changes.log if e.event == "removed"]
    assert (removed.flow, removed.as_row()[1:4]) == (
        "invoice",
        ["Invoice", "INV-000001", "Row deleted"],
    )
    assert removed.from_ == "Awaiting decision"
    assert removed.details.startswith("row deleted; last values: ID: INV-000001, Manager: Maria")
    assert second.snapshot["invoices"]["INV-000001"]["deleted"] is True  # type: ignore[index]
    assert "INV-000001: row deleted (its last values are in the Log)" in second.problems


def test_a_deleted_approved_invoice_leaves_the_accountants_queues() -> None:
    first = tick([invoice()])
    approved = tick([{**rows_of(first)[0], "decision": "Approve"}], first, minutes=1)
    assert [len(q.rows) for q in approved.changes.queues or []] == [1, 1]
    second = tick([], approved, minutes=2)
    assert [len(q.rows) for q in second.changes.queues or []] == [0, 0]


def test_a_claim_typed_as_an_address_is_in_that_accountants_queue_only_in_id_order() -> None:
    rows = [
        invoice(id="INV-000002", supplier="Alpha", invoice_no="2"),
        invoice(id="INV-000001", supplier="Zeta", invoice_no="1"),
    ]
    first = tick(rows)
    approved = tick([{**r, "decision": "Approve"} for r in rows_of(first)], first, minutes=1)
    [irina, sergey] = approved.changes.queues or []
    assert (irina.accountant, irina.title, sergey.title) == (
        "Irina K",
        "Queue — Irina K",
        "Queue — Sergey Popov",
    )
    assert [r[0] for r in irina.rows] == ["INV-000001", "INV-000002"]
    claimed = [{**r, "accountant": "IRINA@example.com"} for r in rows_of(approved)][:1] + rows_of(
        approved
    )[1:]
    after = tick(claimed, approved, minutes=2)
    [irina, sergey] = after.changes.queues or []
    assert [r[0] for r in irina.rows] == ["INV-000001", "INV-000002"]
    assert [r[0] for r in sergey.rows] == [rows_of(approved)[1]["id"]]


def test_an_id_typed_as_a_number_is_queued_in_id_order_among_text_ids() -> None:
    rows = [
        invoice(id="INV-000001", supplier="Zeta", invoice_no="1"),
        invoice(id=17, supplier="Alpha", invoice_no="2"),
    ]
    first = tick(rows)
    approved = tick([{**r, "decision": "Approve"} for r in rows_of(first)], first, minutes=1)
    assert [[r[0] for r in q.rows] for q in approved.changes.queues or []] == [
        [17, "INV-000001"],
        [17, "INV-000001"],
    ]


def test_a_state_from_before_the_id_counter_counts_on_from_every_id_it_knew() -> None:
    previous: dict[str, Any] = {
        "INV-000007": {"values": invoice(id="INV-000007"), "state": {}, "deleted": True}
    }
    plan = plan_tick(read([invoice(id=None)]), {"invoices": previous}, {}, SCHEMA, NOW)
    assert [e.record for e in plan.emails] == ["INV-000008"]


def test_a_new_row_whose_note_already_says_its_problem_is_still_reported() -> None:
    said = "Choose a Signer (director)"
    plan = tick([invoice(signer=None, note=said), invoice(id=None, signer=None, note=said)])
    assert row_problems(plan) == [f"INV-000001: {said}", f"INV-000002: {said}"]


def test_settings_problems_of_a_russian_book_are_in_russian() -> None:
    plan = plan_tick(replace(read([]), locale="ru"), {}, {}, SCHEMA, NOW)
    assert "Настройки: не заполнена «Валюта»: счета без валюты считаются в RUB" in plan.problems


def test_the_last_reported_month_is_counted_in_the_settings_time_zone() -> None:
    book = FakeBook()
    book.tabs["settings"] = [{"key": "Time zone", "value": "Asia/Tokyo"}]
    late = datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # already December in Tokyo
    assert plan_tick(book.read(), {}, {}, SCHEMA, late).meta["last_report"] == "2026-11"


def test_a_tick_of_the_invoice_flow_alone_leaves_the_deals_alone() -> None:
    only = frozenset({"invoice"})
    plan = plan_tick(read([invoice()], [deal()]), {}, {}, SCHEMA, NOW, flows=only)
    assert "deals" not in plan.snapshot
    assert "deals_baseline" not in plan.meta


def test_a_deleted_rows_log_line_is_cut_to_two_thousand_characters() -> None:
    first = tick([invoice(comment="x" * 3000)])
    second = tick([], first, minutes=1)
    [removed] = [e for e in second.changes.log if e.event == "removed"]
    assert len(removed.details) == 2000


def test_invoices_and_deals_edited_in_one_tick_all_reach_the_log() -> None:
    first = plan_tick(read([], [deal()]), {}, {}, SCHEMA, NOW)
    before: dict[str, Any] = {"deals": dict(first.snapshot["deals"])}
    plan = plan_tick(read([invoice()], [deal(stage="Won")]), before, first.meta, SCHEMA, NOW)
    assert [(e.record, e.event) for e in plan.changes.log][:1] == [("INV-000001", "created")]
    assert ("D-1", "edited") in [(e.record, e.event) for e in plan.changes.log]
