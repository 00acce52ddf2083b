"""What the tick's plan takes in besides the rows' own cells.

The invoices folder: a new file becomes a row, the row's Note says what was read from the file
once the planner sees it, and then the note is forgotten. And what the tick reads around the
rows: People problems and percents in the book's language, Settings changes (not sheetflow's own
Note) re-evaluating every row, Google's serial dates, every unusable Deal alerts to entry, and a
claim naming a name two accountants share."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from functions.directory import Directory, Person
from functions.model import FolderFile, FolderScan, RowAppend
from functions.schema import load_schema
from functions.tick.planner import plan_tick
from tests.builders import NOW, PEOPLE, invoice
from tests.fakes import FakeBook

SCHEMA = load_schema()
NOTICE = "scan.txt is not a PDF or an image: is it an invoice? If not, delete this row"


def read(invoices: list[dict[str, Any]], people: Directory = PEOPLE) -> Any:
    book = FakeBook([(p.name, p.email, p.role, "Yes") for p in people.people if p.active])
    book.tabs["invoices"] = invoices
    return book.read()


def scan(*names: str) -> FolderScan:
    files = [
        FolderFile(f"sha256:{name}", name, f"Invoices/{name}", "other", ("maria@example.com",))
        for name in names
    ]
    return FolderScan("Invoices", files, cursor={"at": 1})


def test_a_new_file_in_the_invoices_folder_is_appended_as_a_row_and_remembered() -> None:
    plan = plan_tick(read([]), {}, {}, SCHEMA, NOW, folder=scan("scan.txt"))
    assert [a for a in plan.changes.appends if a.tab == "invoices"] == [
        RowAppend(
            "invoices",
            "INV-000001",
            {"id": "INV-000001", "invoice_file": "Invoices/scan.txt", "manager": "Maria Lopez"},
        )
    ]
    folder = plan.meta["folder"]
    assert folder["seen"] == {"sha256:scan.txt": "INV-000001"}
    assert folder["notices"] == {"INV-000001": NOTICE}
    assert folder["cursor"] == {"at": 1}


def test_a_folder_rows_note_is_given_when_the_planner_first_sees_the_row_then_forgotten() -> None:
    meta = {
        "next_invoice_no": 3,
        "folder": {
            "location": "Invoices",
            "seen": {"sha256:a": "INV-000001", "sha256:b": "INV-000002"},
            "notices": {"INV-000001": NOTICE, "INV-000002": "another file's note"},
        },
    }
    row = invoice(id="INV-000001", signer=None, invoice_file="Invoices/scan.txt")
    plan = plan_tick(read([row]), {}, meta, SCHEMA, NOW)  # no new files this tick
    (note,) = [w.value for w in plan.changes.writes if w.column == "note"]
    assert note == f"{NOTICE}. Choose a Signer (director)"
    # Said once: the row is planned now, so only the row not yet seen keeps its note.
    assert plan.meta["folder"]["notices"] == {"INV-000002": "another file's note"}
    assert plan.meta["folder"]["seen"] == {"sha256:a": "INV-000001", "sha256:b": "INV-000002"}


def test_a_folder_rows_note_is_forgotten_also_when_the_folder_has_new_files() -> None:
    meta = {"folder": {"location": "Invoices", "seen": {}, "notices": {"INV-000001": NOTICE}}}
    row = invoice(id="INV-000001", invoice_file="Invoices/scan.txt")
    plan = plan_tick(read([row]), {}, meta, SCHEMA, NOW, folder=scan("next.txt"))
    assert [a.record for a in plan.changes.appends if a.tab == "invoices"] == ["INV-000002"]
    assert list(plan.meta["folder"]["notices"]) == ["INV-000002"]


def test_a_claim_by_a_name_two_accountants_share_stays_in_both_their_queues() -> None:
    twin = Person("Irina K", "irina.k@example.com", "accountant", True)
    people = Directory((*PEOPLE.people, twin))
    approved = {
        "values": invoice(accountant="Irina K", decision="Approve", status="In payment"),
        "state": {"status": "in_payment", "accountant": "Irina K", "signer": "Dmitry Volkov"},
    }
    book = read([approved["values"]], people)
    plan = plan_tick(book, {"invoices": {"INV-000001": approved}}, {}, SCHEMA, NOW)
    queues = [(q.accountant, [r[0] for r in q.rows]) for q in plan.changes.queues or []]
    # The claim cannot tell the two apart: neither loses the invoice; Sergey never sees it.
    assert queues == [
        ("Irina K", ["INV-000001"]),
        ("Sergey Popov", []),
        ("Irina K", ["INV-000001"]),
    ]


# -- what the tick reads around the rows: People, Settings, the book's kind -------------------


def settings_book(rows: list[dict[str, Any]], invoices: list[dict[str, Any]] | None = None) -> Any:
    book = FakeBook([(p.name, p.email, p.role, "Yes") for p in PEOPLE.people if p.active])
    book.tabs["invoices"] = [invoice()] if invoices is None else invoices
    book.tabs["settings"] = rows
    return book.read()


def test_a_russian_books_people_problems_are_said_in_russian() -> None:
    book = FakeBook([("", "nameless@example.com", "manager", "Да")])
    book.locale = "ru"
    plan = plan_tick(book.read(), {}, {}, SCHEMA, NOW)
    assert "Сотрудники, строка 2: не заполнено имя" in plan.problems


def test_a_changed_settings_value_re_evaluates_every_row_but_sheetflows_own_note_does_not() -> None:
    company = {"key": "Company", "value": "Northwind"}
    first = plan_tick(settings_book([company]), {}, {}, SCHEMA, NOW)
    assert first.changes.lists is not None  # the first look: dropdowns written
    snapshot: dict[str, Any] = {"invoices": dict(first.snapshot["invoices"])}
    rows = [dict(entry["values"]) for entry in snapshot["invoices"].values()]
    noted = {**company, "note": "a note sheetflow wrote"}
    quiet = plan_tick(settings_book([noted], rows), snapshot, first.meta, SCHEMA, NOW)
    assert quiet.changes.lists is None
    assert quiet.changes.queues is None
    renamed = settings_book([{**noted, "value": "Northwind GmbH"}], rows)
    again = plan_tick(renamed, snapshot, quiet.meta, SCHEMA, NOW)
    assert again.changes.lists is not None
    assert again.changes.queues is not None


def test_a_google_book_gets_typed_dates_back_as_serial_day_numbers() -> None:
    google = replace(read([invoice(invoice_date="20.11.2026")]), date_serials=True)
    plan = plan_tick(google, {}, {}, SCHEMA, NOW)
    dates = {w.column: w.value for w in plan.changes.writes if w.column == "invoice_date"}
    assert dates == {"invoice_date": 46346}  # 2026-11-20, counted from 1899-12-30


def test_every_unusable_deal_alert_recipient_is_said_in_the_settings_note() -> None:
    book = settings_book([{"key": "Deal alerts to", "value": "nobody; no one at all"}])
    plan = plan_tick(book, {}, {}, SCHEMA, NOW)
    (note,) = [w.value for w in plan.changes.writes if w.tab == "settings" and w.column == "note"]
    assert note == (
        "Settings “Deal alerts to”: “nobody” is neither a People name nor an email address, so"
        " it gets no alert. Settings “Deal alerts to”: “no one at all” is neither a People name"
        " nor an email address, so it gets no alert"
    )


def test_a_russian_books_deal_payment_is_told_with_russian_percents() -> None:
    deal = {"deal_id": "D-1", "deal": "Сталь", "manager": "Maria Lopez", "amount": 10000}
    book = FakeBook([(p.name, p.email, p.role, "Да") for p in PEOPLE.people if p.active])
    book.locale = "ru"
    book.tabs["deals"] = [{**deal, "paid": 0, "paid_pct": 0}]
    first = plan_tick(book.read(), {}, {}, SCHEMA, NOW)
    book.tabs["deals"] = [{**deal, "paid": 4550, "paid_pct": 45.5}]
    snapshot: dict[str, Any] = {"deals": dict(first.snapshot["deals"])}
    paid = plan_tick(book.read(), snapshot, first.meta, SCHEMA, NOW)
    assert paid.transitions == [("D-1", "0\xa0%", "45,5\xa0%")]
