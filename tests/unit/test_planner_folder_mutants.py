"""The tick's plan takes in the invoices folder: a new file becomes a row, the row's Note says
what was read from the file once the planner sees it, and then the note is forgotten.

Also an accountants' queue edge: a claim naming a name two accountants share."""

from __future__ import annotations

from typing import Any

from functions.directory import Directory, Person
from functions.invoice_folder import FolderFile, FolderScan
from functions.model import RowAppend
from functions.planner import plan_tick
from functions.schema import load_schema
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
