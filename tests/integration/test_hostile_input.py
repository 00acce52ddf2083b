"""Whatever people type, or however a workbook is broken, a tick does no harm.

Real ticks on real workbooks, fed a fixed corpus and hypothesis-made text: line breaks and
header-like text (`x\\r\\nBcc: evil@x.com`) in names and addresses, HTML and <script>, cells
starting with = + - @, 50,000-character cells, emoji and right-to-left text, formula errors,
merged cells, hidden and blank rows, 10,000 copies of one ID, and files that are not
workbooks at all. For each: no crash (or a one-line error from the CLI), a Note that says
what is wrong, every typed value still there, no formula written, no header injected into
a sent email, and every piece of text escaped in the HTML part.
"""

from __future__ import annotations

import email
import email.policy
import re
import subprocess
import sys
import tempfile
import time
import unicodedata
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markupsafe import escape
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from functions.controls import comparable
from functions.notify import clean_header_text
from functions.text import emails as email_text
from functions.text.catalog import DEFAULT_TEMPLATES_DIR
from functions.text.parsing import text
from functions.tick.engine import TickReport
from tests.local_backend import (
    SCHEMA,
    Edit,
    edit_book,
    make_engine,
    new_book,
    rows_by_header,
    save_like_an_office_program,
    type_into,
    typed_invoice,
)
from tests.worded_parsing import parse_amount, parse_date, parse_email

NOW = datetime(2026, 11, 28, 8, 0, tzinfo=UTC)
SHEETFLOW = Path(sys.executable).with_name("sheetflow")
AUTOMATION_COLUMNS = [
    c.header["en"] for c in SCHEMA.tab("invoices").columns if c.owner == "automation"
]
KNOWN_ADDRESSES = {
    "billing@acme.example",
    "maria@example.com",
    "dmitry@example.com",
    "irina@example.com",
    "sergey@example.com",
    "hostile.manager@example.com",
    "hostile.accountant@example.com",
}
HEADERS_WE_WRITE = (
    "Subject",
    "From",
    "To",
    "Reply-To",
    "Date",
    "Message-ID",
    "X-Sheetflow-Key",
    "MIME-Version",
    "Content-Type",
    "Content-Transfer-Encoding",
)
MAX_CELL = 32_767  # longer text does not fit in a cell (openpyxl and Excel cut it there)
_HEADER_LINE = re.compile(rb"^(?:" + b"|".join(h.encode() for h in HEADERS_WE_WRITE) + rb"):")

CORPUS = [
    "x\r\nBcc: evil@x.com",
    "x\nBcc: evil@x.com",
    "x\rTo: evil@x.com",
    "Acme\r\n\r\n<html>body injected</html>",
    "=?utf-8?q?evil?= <evil@x.com>",
    '"Smith, J." <evil@x.com>, other@x.com',
    "<script>alert('x')</script>",
    '<img src=x onerror="alert(1)">',
    "a & b < c > d \" e ' f",
    '=HYPERLINK("http://evil.example","click")',
    "=1+1",
    "+7 999 123",
    "-5",
    "@SUM(A1:A2)",
    "😀 Поставщик 🚚",
    "שלום עולם",
    "\u202eevil\u202c.exe",
    "مرحبا بالعالم",
    "line\u2028sep\u2029para",
    "\t tabbed \t",
    "x" * 50_000,
]


def _typeable(value: str) -> str:
    """What a person can type: no control characters a spreadsheet cannot hold."""
    return ILLEGAL_CHARACTERS_RE.sub("", value)


hostile_text = st.one_of(
    st.sampled_from([value for value in CORPUS if len(value) < 1000]),
    st.text(max_size=60),
    st.tuples(
        st.text(max_size=10), st.sampled_from(["\r\n", "\n", "\r"]), st.text(max_size=20)
    ).map(lambda parts: parts[0] + parts[1] + "Bcc: evil@x.com " + parts[2]),
    st.tuples(st.sampled_from("=+-@"), st.text(max_size=30)).map("".join),
    st.tuples(st.sampled_from(["<b>", "<script>", "</td>", "&amp;", '"', "'"]), st.text()).map(
        "".join
    ),
).map(_typeable)
filled_hostile_text = hostile_text.filter(lambda value: value.strip() != "")


@dataclass(frozen=True)
class Hostile:
    """What people typed: free text (shown in emails) and checked fields (explained in a Note)."""

    supplier: str
    invoice_no: str
    comment: str
    currency: str
    invoice_file: str
    closing_docs: str
    manager_name: str
    accountant_name: str
    supplier_email: str
    amount: str
    invoice_date: str
    signer: str
    decision: str
    people_email: str

    def shown(self) -> list[str]:
        """The values that end up in emails."""
        return [
            self.supplier,
            self.invoice_no,
            self.comment,
            self.currency,
            self.invoice_file,
            self.closing_docs,
            self.manager_name,
            self.accountant_name,
        ]


# Row A must move on with them: these may be anything but blank.
_MUST_BE_FILLED = {
    "supplier",
    "invoice_no",
    "invoice_file",
    "closing_docs",
    "manager_name",
    "accountant_name",
}


def _person(name: str, email: str, role: str) -> dict[str, object]:
    return {"name": name, "email": email, "role": role, "active": "Yes"}


def hostile_book(folder: Path, h: Hostile) -> Path:
    """Five rows: one will close, one waits for the signer, one will go to rework (all three
    full of hostile free text), one has hostile checked fields, and one names a manager whose
    People email is hostile. B and C carry invoice numbers of their own, so that they are not
    held as duplicates of A (same supplier and number); A and D carry the hostile number."""
    book = new_book(folder, prepared_rows=20)
    free = {
        "supplier": h.supplier,
        "invoice_no": h.invoice_no,
        "currency": h.currency,
        "invoice_file": h.invoice_file,
    }
    edit_book(
        book,
        [
            ("people", "new", _person(h.manager_name, "hostile.manager@example.com", "Manager")),
            (
                "people",
                "new",
                _person(h.accountant_name, "hostile.accountant@example.com", "Accountant"),
            ),
            ("people", "new", _person("Ghost Manager", h.people_email, "Manager")),
            ("invoices", "new", typed_invoice("A", h.manager_name, **free)),
            ("invoices", "new", typed_invoice("B", h.manager_name, **{**free, "invoice_no": "B"})),
            ("invoices", "new", typed_invoice("C", h.manager_name, **{**free, "invoice_no": "C"})),
            (
                "invoices",
                "new",
                typed_invoice(
                    "D",
                    "Maria Lopez",
                    supplier_email=h.supplier_email,
                    amount=h.amount,
                    invoice_date=h.invoice_date,
                    signer=h.signer,
                    decision=h.decision,
                ),
            ),
            ("invoices", "new", typed_invoice("E", "Ghost Manager")),
        ],
    )
    return book


def decisions_and_payment(h: Hostile) -> list[list[Edit]]:
    """What people type once asked: the signer decides A and C, then A is claimed, paid, closed."""
    comment = h.comment if h.comment.strip() else "Fix it"
    return [
        [
            ("invoices", "INV-000001", {"decision": "Approve", "comment": h.comment}),
            ("invoices", "INV-000003", {"decision": "Rework", "comment": comment}),
        ],
        [
            (
                "invoices",
                "INV-000001",
                {
                    "accountant": h.accountant_name,
                    "paid_on": "28.11.2026",
                    "closing_docs": h.closing_docs,
                },
            )
        ],
    ]


def tick(book: Path, now: datetime = NOW) -> TickReport:
    engine = make_engine(book)
    try:
        return engine.tick(now)
    finally:
        engine.state.close()


def typed_cells(book: Path, tab: str = "invoices") -> dict[tuple[int, str], tuple[Any, str]]:
    """Every people-owned cell of `tab` that holds something: (row, header) → (value, type)."""
    people = [c.header["en"] for c in SCHEMA.tab(tab).columns if c.owner == "people"]
    wb = openpyxl.load_workbook(book)
    try:
        ws = wb[SCHEMA.tab(tab).title["en"]]
        columns = {c.value: c.column for c in ws[1] if c.value in people}
        return {
            (cell.row, header): (cell.value, cell.data_type)
            for header, col in columns.items()
            for (cell,) in ws.iter_rows(min_row=2, min_col=col, max_col=col)
            if cell.value is not None
        }
    finally:
        wb.close()


def assert_typed_kept(book: Path, typed: dict[tuple[int, str], tuple[Any, str]]) -> None:
    """Every typed cell is as it was, or (an accepted row's amount or date typed as text) now
    the same number or date, with the text exactly as typed in the Log."""
    now = typed_cells(book)
    assert now.keys() == typed.keys()
    log = rows_by_header(book, "Log")
    kinds = {c.header["en"]: c.type for c in SCHEMA.tab("invoices").columns}
    for key, (before, _kind) in typed.items():
        after = now[key][0]
        if after == before:
            continue
        header = key[1]
        assert kinds[header] in ("money", "date"), (key, before, after)
        if kinds[header] == "money":
            assert parse_amount(before, header)[0] == parse_amount(after, header)[0], key
        else:
            assert parse_date(before, header)[0] == parse_date(after, header)[0], key
        assert any(
            r["Event"] == "Typed text made a value"
            and r["From"] == before
            and r["Details"] == header
            for r in log
        ), (key, before)


def assert_no_formula_written(book: Path) -> None:
    """sheetflow's own cells (Invoices ID/Status/Note/Updated, Log, queues, lists) hold text."""
    wb = openpyxl.load_workbook(book)
    try:
        for ws in wb.worksheets:
            if ws.title in ("People", "Settings", "Deals"):
                continue
            columns = (
                [c.column for c in ws[1] if c.value in AUTOMATION_COLUMNS]
                if ws.title == "Invoices"
                else range(1, ws.max_column + 1)
            )
            for col in columns:
                for (cell,) in ws.iter_rows(min_col=col, max_col=col):
                    assert cell.data_type != "f", (ws.title, cell.coordinate, cell.value)
                    if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                        assert cell.data_type == "s", (ws.title, cell.coordinate)
    finally:
        wb.close()


def assert_titles_are_valid_in_excel(book: Path) -> None:
    wb = openpyxl.load_workbook(book, read_only=True)
    try:
        for title in wb.sheetnames:
            assert 0 < len(title) <= 31
            assert not set(title) & set("[]:*?/\\"), title
            assert not any(unicodedata.category(ch) == "Cc" for ch in title), repr(title)
            assert not title.startswith("'"), title
            assert not title.endswith("'"), title
    finally:
        wb.close()


def _normal(value: str) -> str:
    return value.replace("\r\n", "\n").replace("\r", "\n")


def assert_safe_email(raw: bytes, names: dict[str, str], numbers: dict[str, str]) -> None:
    """Only our headers, each on its own lines; one known recipient; every value escaped."""
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    for line in header_block.split(b"\r\n"):
        assert b"\r" not in line, line[:80]
        assert b"\n" not in line, line[:80]
        assert line[:1] in (b" ", b"\t") or _HEADER_LINE.match(line), line[:80]
    message = parse_eml_bytes(raw)
    assert "Bcc" not in message
    assert "Cc" not in message
    for reply_to in message["Reply-To"].addresses if "Reply-To" in message else ():
        assert reply_to.addr_spec in names  # a person from People, one address
    [address] = message["To"].addresses
    assert address.addr_spec in names
    # The name as typed, on one line, cut at 100 characters (a long one is split in encoded
    # words, and Python's parser puts a space where they join: whitespace is not compared).
    expected = clean_header_text(names[address.addr_spec][:MAX_CELL])[:100]
    assert address.display_name.split() == expected.split() or "".join(
        address.display_name.split()
    ) == "".join(expected.split())
    assert "\n" not in str(message["Subject"])
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = _normal(html_part.get_content())
    tags = _Tags()
    tags.feed(html)
    assert tags.names <= TEMPLATE_TAGS, tags.names - TEMPLATE_TAGS
    assert not [a for a in tags.attributes if a.startswith("on")], tags.attributes
    record = str(message["X-Sheetflow-Key"]).split(":")[1]
    assert str(escape(_normal(text(numbers[record]))[:MAX_CELL])) in html


class _Tags(HTMLParser):
    """Every tag and attribute name in a page: text that became markup would add some."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.attributes: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.names.add(tag)
        self.attributes |= {name for name, _value in attrs}


def parse_eml_bytes(raw: bytes) -> EmailMessage:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def by_id(book: Path) -> dict[str, dict[str, Any]]:
    return {str(r["ID"]): r for r in rows_by_header(book, "Invoices")}


def check_no_harm(folder: Path, h: Hostile) -> None:
    """One tick on the hostile book: nothing typed changed, every row where it should be, a
    Note for every bad field, and every email sent with safe headers and escaped HTML."""
    book = hostile_book(folder, h)
    reports = []
    for index, edits in enumerate([[], *decisions_and_payment(h)]):
        if edits:
            edit_book(book, edits)
        typed = typed_cells(book)
        reports.append(tick(book, NOW + timedelta(minutes=index)))
        assert reports[-1].outcome == "done", reports[-1]
        assert_typed_kept(book, typed)  # nothing typed was changed or lost
        assert_no_formula_written(book)
        assert_titles_are_valid_in_excel(book)

    rows = by_id(book)
    assert [rows[f"INV-00000{n}"]["Status"] for n in (1, 2, 3)] == [
        "Closed",
        "Awaiting decision",
        "Rework",
    ]
    d_status, d_note = rows["INV-000004"]["Status"], rows["INV-000004"]["Note"] or ""
    assert d_status == "New"
    assert "Signer" in d_note
    for value, parse, header in (
        (h.supplier_email, parse_email, "Supplier email"),
        (h.amount, parse_amount, "Amount"),
        (h.invoice_date, parse_date, "Invoice date"),
    ):
        # A cell keeps a line break as LF: the xlsx format (XML) turns CR LF and CR into LF.
        _parsed, problem = parse(_normal(value) or None, header, "en")
        if problem and text(value):
            assert problem in d_note
    ghost_ok = parse_email(h.people_email, "Email", "en")[1] is None
    assert rows["INV-000005"]["Status"] == ("Awaiting decision" if ghost_ok else "New")
    if not ghost_ok:
        assert "Manager “Ghost Manager” is not an active manager" in rows["INV-000005"]["Note"]

    names = {
        "billing@acme.example": text(h.supplier),
        "hostile.manager@example.com": text(h.manager_name),
        "hostile.accountant@example.com": text(h.accountant_name),
        "dmitry@example.com": "Dmitry Volkov",
        "irina@example.com": "Irina K",  # the approval goes to every active accountant
        "sergey@example.com": "Sergey Popov",
    }
    emails = sorted((book.parent / "outbox").glob("*.eml"))
    assert len(emails) == sum(len(r.emails) for r in reports) >= 5
    numbers = {"INV-000001": h.invoice_no, "INV-000002": "B", "INV-000003": "C"}
    for path in emails:
        assert_safe_email(path.read_bytes(), names, numbers)


def distinct_people(h: Hostile) -> bool:
    names = {text(n).casefold() for n in (h.manager_name, h.accountant_name)}
    taken = {"maria lopez", "dmitry volkov", "irina k", "sergey popov", "ghost manager"}
    return len(names) == 2 and not names & taken


def own_invoice_numbers(h: Hostile) -> bool:
    """Rows B and C must not look like A: `<b>` and `B` are one invoice no. to the duplicate
    check (case and punctuation ignored), so A's hostile number may not fold to theirs."""
    return comparable(h.invoice_no) not in {comparable("B"), comparable("C")}


def hostile(value: str, **fields: str) -> Hostile:
    """The same text in every field, except where `fields` say otherwise."""
    base = dict.fromkeys(Hostile.__dataclass_fields__, value)
    base.update(manager_name=f"{value} (manager)", accountant_name=f"{value} (accountant)")
    return Hostile(**{**base, **fields})


@pytest.mark.parametrize("value", CORPUS, ids=[repr(v[:24]) for v in CORPUS])
def test_hostile_text_in_every_field_is_kept_explained_and_never_injected(
    tmp_path: Path, value: str
) -> None:
    check_no_harm(tmp_path, hostile(_typeable(value)))


@settings(
    max_examples=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    st.builds(
        Hostile,
        **{
            name: filled_hostile_text if name in _MUST_BE_FILLED else hostile_text
            for name in Hostile.__dataclass_fields__
        },
    )
    .filter(distinct_people)
    .filter(own_invoice_numbers)
)
def test_any_typed_text_is_kept_explained_and_never_injected(h: Hostile) -> None:
    with tempfile.TemporaryDirectory() as folder:
        check_no_harm(Path(folder), h)


def _template_tags() -> set[str]:
    tags = _Tags()
    # The layout's own tags and those the HTML helpers the templates call write.
    for path in (DEFAULT_TEMPLATES_DIR / "_layout.html", Path(email_text.__file__)):
        tags.feed(path.read_text(encoding="utf-8"))
    assert {"p", "table", "tr", "td", "a", "ul", "li"} <= tags.names
    return tags.names


# The tags our templates use: hostile text shown as markup would add others.
TEMPLATE_TAGS = _template_tags()


def _invoice(number: str, **extra: Any) -> tuple[str, str, dict[str, object]]:
    return ("invoices", "new", typed_invoice(number, **extra))


@pytest.mark.parametrize("error", ["#REF!", "#DIV/0!"])
def test_a_formula_error_in_amount_stops_the_row_with_a_note_and_stays_as_it_was(
    tmp_path: Path, error: str
) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [_invoice("ERR-1", amount=error)])
    typed = typed_cells(book)
    assert typed[(2, "Amount")] == (error, "e")  # an error value, as a spreadsheet keeps it

    report = tick(book)

    row = by_id(book)["INV-000001"]
    assert row["Status"] == "New"
    assert row["Note"] == f"Amount shows the formula error {error}"
    assert report.problems == [f"INV-000001: Amount shows the formula error {error}"]
    assert_typed_kept(book, typed)
    assert_no_formula_written(book)


@pytest.mark.parametrize("typed", ["=1+1", "+7 999", "-5", "@SUM(A1)", '=HYPERLINK("x","y")'])
def test_formula_like_text_over_sheetflow_cells_is_restored_and_kept_as_text_in_the_log(
    tmp_path: Path, typed: str
) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [_invoice("F-1")])
    tick(book)
    edit_book(book, [("invoices", "INV-000001", {"decision": "Approve"})])
    tick(book, NOW + timedelta(seconds=20))
    edit_book(book, [("invoices", "INV-000001", {"accountant": "Irina K"})])
    tick(book, NOW + timedelta(seconds=40))
    edit_book(
        book,
        [("invoices", "INV-000001", {"status": typed, "accountant": typed, "note": typed})],
    )

    report = tick(book, NOW + timedelta(minutes=1))

    row = by_id(book)["INV-000001"]
    assert (row["Status"], row["Accountant"]) == ("In payment", "Irina K")
    assert len(report.conflicts) == 3
    conflicts = [r for r in rows_by_header(book, "Log") if r["Event"] == "Restored"]
    assert sorted(r["By"] for r in conflicts) == ["Accountant", "Note", "Status"]
    assert {r["From"] for r in conflicts} == {typed}
    assert typed in row["Note"]
    assert_no_formula_written(book)


def test_merged_cells_in_invoices_are_split_where_sheetflow_writes_and_nothing_typed_is_lost(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [_invoice("M-1"), _invoice("M-2", amount="abc"), _invoice("M-3")])
    wb = openpyxl.load_workbook(book)
    ws = wb["Invoices"]
    ws.merge_cells("Q2:Q3")  # the Note cells of two rows, merged for looks
    ws.merge_cells("P4:R4")  # Status, Note and Updated of the third row
    ws.merge_cells("L2:L3")  # two Comment cells (people's column)
    save_like_an_office_program(wb, book)
    typed = typed_cells(book)

    report = tick(book)

    assert report.outcome == "done", report
    rows = by_id(book)
    assert rows["INV-000002"]["Note"] == "Amount “abc” is not a number"
    assert rows["INV-000003"]["Status"] == "Awaiting decision"
    assert rows["INV-000003"]["Updated"] == "2026-11-28 09:00"
    assert_typed_kept(book, typed)
    assert tick(book, NOW + timedelta(minutes=1)).outcome == "idle"


def test_hidden_rows_and_blank_rows_in_the_middle_are_read_and_stay_as_they_were(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path, prepared_rows=20)
    edit_book(book, [_invoice("H-1"), _invoice("H-2"), _invoice("H-3")])
    wb = openpyxl.load_workbook(book)
    ws = wb["Invoices"]
    ws.insert_rows(3, amount=2)  # two blank rows after the first invoice
    ws.row_dimensions[2].hidden = True
    ws.row_dimensions[6].hidden = True
    save_like_an_office_program(wb, book)
    typed = typed_cells(book)

    tick(book)

    rows = rows_by_header(book, "Invoices")
    assert [(r["Invoice no."], r["ID"], r["Status"]) for r in rows] == [
        ("H-1", "INV-000001", "Awaiting decision"),
        ("H-2", "INV-000002", "Awaiting decision"),
        ("H-3", "INV-000003", "Awaiting decision"),
    ]
    assert_typed_kept(book, typed)
    ws = openpyxl.load_workbook(book)["Invoices"]
    assert [ws.row_dimensions[r].hidden for r in (2, 3, 4, 5, 6)] == [
        True,
        False,
        False,
        False,
        True,
    ]
    assert [ws.cell(r, 5).value for r in (3, 4)] == [None, None]


def test_ten_thousand_rows_with_one_id_are_each_told_they_are_copies_in_bounded_time(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    edit_book(book, [_invoice("ORIGINAL")])
    tick(book)
    edit_book(book, [_invoice(f"C-{n}", id="INV-000001") for n in range(2, 10_001)])
    typed = typed_cells(book)

    started = time.monotonic()
    report = tick(book, NOW + timedelta(minutes=1))
    took = time.monotonic() - started

    assert report.outcome == "done", report.message
    assert took < 120, f"a tick over 10,000 copies took {took:.0f} s"
    rows = rows_by_header(book, "Invoices")
    copy_note = (
        "ID INV-000001 is already used by row 2: this row looks like a copy. "
        "Clear its ID cell and a new ID will be assigned"
    )
    assert rows[0]["Invoice no."] == "ORIGINAL"
    assert rows[0]["Status"] == "Awaiting decision"
    assert {r["Note"] for r in rows[1:]} == {copy_note}
    assert len(rows) == 10_000
    assert len(report.problems) == 9_999
    assert_typed_kept(book, typed)
    log_rows = len(rows_by_header(book, "Log"))
    again = tick(book, NOW + timedelta(minutes=2))
    assert again.outcome == "idle"
    assert len(rows_by_header(book, "Log")) == log_rows  # told once, not at every tick


def test_a_book_whose_tabs_hold_only_headers_ticks_and_explains_what_is_missing(
    tmp_path: Path,
) -> None:
    book = tmp_path / "book.xlsx"
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for key in ("invoices", "people", "settings"):
        tab = SCHEMA.tab(key)
        wb.create_sheet(tab.title["en"]).append([c.header["en"] for c in tab.columns])
    wb.save(book)
    assert tick(book).outcome in ("done", "idle")

    edit_book(book, [_invoice("HO-1")])
    tick(book, NOW + timedelta(minutes=1))

    row = by_id(book)["INV-000001"]
    assert row["Status"] == "New"
    assert "Manager “Maria Lopez” is not an active manager in People" in row["Note"]
    assert "Signer “Dmitry Volkov” is not an active director in People" in row["Note"]


def _empty_workbook(path: Path) -> None:
    openpyxl.Workbook().save(path)


def _truncated(path: Path) -> None:
    new_book(path.parent, "whole.xlsx", prepared_rows=20)
    data = (path.parent / "whole.xlsx").read_bytes()
    path.write_bytes(data[: len(data) // 2])


def _zip_of_something_else(path: Path) -> None:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("word/document.xml", "<w:document/>")


UNREADABLE = {
    "an empty workbook": (_empty_workbook, "is not a sheetflow workbook: no Invoices tab"),
    "a truncated file": (_truncated, "is not an .xlsx workbook"),
    "a zip that is not a workbook": (_zip_of_something_else, "is not an .xlsx workbook"),
    "a text file": (lambda p: p.write_text("Name;Amount\nAcme;100\n"), "is not an .xlsx workbook"),
    "an empty file": (lambda p: p.write_bytes(b""), "is not an .xlsx workbook"),
    "a picture": (lambda p: p.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64)), "is not an .xlsx"),
}


@pytest.mark.parametrize("kind", list(UNREADABLE))
def test_an_unreadable_file_gets_a_one_line_error_from_the_cli_and_is_left_alone(
    tmp_path: Path, kind: str
) -> None:
    make, says = UNREADABLE[kind]
    book = tmp_path / "book.xlsx"
    make(book)
    before = book.read_bytes()

    result = subprocess.run(
        [str(SHEETFLOW), "tick", "--book", str(book)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 1, result
    assert result.stdout == ""
    assert result.stderr.startswith("error: ")
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert says in result.stderr
    assert "Traceback" not in result.stderr
    assert book.read_bytes() == before


# --- the Deals tab and Settings: the deal alert email -----------------------------------------

HOSTILE_DEAL_TEXT = ("deal_id", "deal", "manager", "stage", "order_no", "invoice_no")


def set_setting(book: Path, label: str, value: str) -> None:
    """Type `value` into the Settings row whose Key is `label` (a new row if there is none)."""
    wb = openpyxl.load_workbook(book)
    ws = wb["Settings"]
    row = next(r for r in range(2, ws.max_row + 2) if ws.cell(r, 1).value in (label, None))
    ws.cell(row, 1).value = label
    type_into(ws.cell(row, 2), value)
    save_like_an_office_program(wb, book)


def set_deal_cells(book: Path, row: int, values: dict[str, object]) -> None:
    """Type into a Deals row by its row number (a hostile Deal ID cannot be looked up)."""
    wb = openpyxl.load_workbook(book)
    ws = wb["Deals"]
    columns = {c.value: c.column for c in ws[1]}
    for key, value in values.items():
        type_into(ws.cell(row, columns[SCHEMA.tab("deals").column(key).header["en"]]), value)
    save_like_an_office_program(wb, book)


def assert_no_formula_in_deal_notes(book: Path) -> None:
    wb = openpyxl.load_workbook(book)
    try:
        ws = wb["Deals"]
        [note] = [c.column for c in ws[1] if c.value == "Note"]
        for (cell,) in ws.iter_rows(min_col=note, max_col=note):
            assert cell.data_type != "f", (cell.coordinate, cell.value)
    finally:
        wb.close()


def assert_safe_deal_alert(raw: bytes, shown: list[str]) -> None:
    """Only our headers; one recipient, the director; every shown value escaped in the HTML."""
    header_block = raw.split(b"\r\n\r\n", 1)[0]
    for line in header_block.split(b"\r\n"):
        assert b"\r" not in line, line[:80]
        assert b"\n" not in line, line[:80]
        assert line[:1] in (b" ", b"\t") or _HEADER_LINE.match(line), line[:80]
    message = parse_eml_bytes(raw)
    assert "Bcc" not in message
    assert "Cc" not in message
    assert [a.addr_spec for a in message["To"].addresses] == ["dmitry@example.com"]
    assert "\n" not in str(message["Subject"])
    html_part = message.get_body(("html",))
    assert html_part is not None
    html = _normal(html_part.get_content())
    tags = _Tags()
    tags.feed(html)
    assert tags.names <= TEMPLATE_TAGS, tags.names - TEMPLATE_TAGS
    assert not [a for a in tags.attributes if a.startswith("on")], tags.attributes
    for value in shown:
        assert str(escape(_normal(text(value))[:MAX_CELL])) in html, value[:40]


@pytest.mark.parametrize("value", CORPUS, ids=[repr(v[:24]) for v in CORPUS])
def test_hostile_text_in_every_deal_field_and_the_company_is_kept_and_escaped_in_the_alert(
    tmp_path: Path, value: str
) -> None:
    value = _typeable(value)
    book = new_book(tmp_path, prepared_rows=20)
    deal: dict[str, object] = {key: value for key in HOSTILE_DEAL_TEXT}
    deal |= {"deal_id": f"D-{value}", "amount": 1000, "paid": 0}
    edit_book(book, [("deals", "new", deal)])
    assert tick(book).outcome == "done"  # the first look at the pipeline: a silent baseline
    set_setting(book, "Company", value)
    set_deal_cells(book, 2, {"paid": 300})
    typed = typed_cells(book, "deals")

    report = tick(book, NOW + timedelta(minutes=1))

    assert report.outcome == "done", report
    assert typed_cells(book, "deals") == typed  # nothing typed was changed or lost
    assert_no_formula_written(book)
    assert_no_formula_in_deal_notes(book)
    [alert] = sorted((tmp_path / "outbox").glob("*.eml"))
    assert len(report.emails) == 1
    assert_safe_deal_alert(alert.read_bytes(), [value, f"D-{value}"])


def _book_with_a_paid_deal_and_a_new_invoice(folder: Path, label: str, typed: str) -> Path:
    book = new_book(folder, prepared_rows=20)
    edit_book(book, [("deals", "new", {"deal_id": "D-1", "deal": "Steel", "amount": 1000})])
    assert tick(book).outcome == "done"  # baseline
    set_setting(book, label, typed)
    edit_book(book, [("deals", "D-1", {"paid": 300}), _invoice("AFTER-1")])
    return book


@pytest.mark.parametrize(
    "typed",
    [
        pytest.param("Dmitry Volkv", id="a misspelt name"),
        pytest.param("dmitry@example.com\r\nBcc: evil@x.com", id="CR LF and a Bcc header"),
        pytest.param("dmitry@example.com, <script>@x", id="a second, broken address"),
    ],
)
def test_a_deal_alert_recipient_that_is_not_an_address_is_explained_and_stops_nothing_else(
    tmp_path: Path, typed: str
) -> None:
    book = _book_with_a_paid_deal_and_a_new_invoice(tmp_path, "Deal alerts to", typed)

    report = tick(book, NOW + timedelta(minutes=1))

    assert report.outcome == "done", report
    assert by_id(book)["INV-000001"]["Status"] == "Awaiting decision"  # invoices go on
    deal_note = rows_by_header(book, "Deals")[0]["Note"] or ""
    told = " ".join([deal_note, *report.problems])
    assert "Deal alerts to" in told, told
    for path in (tmp_path / "outbox").glob("*.eml"):
        message = parse_eml_bytes(path.read_bytes())
        assert "Bcc" not in message
        assert all(a.addr_spec in KNOWN_ADDRESSES for a in message["To"].addresses)


def test_a_sender_setting_with_a_line_break_never_becomes_a_header_and_is_explained(
    tmp_path: Path,
) -> None:
    book = _book_with_a_paid_deal_and_a_new_invoice(
        tmp_path, "Sender", "robot@example.com\r\nBcc: evil@x.com"
    )

    result = subprocess.run(
        [str(SHEETFLOW), "tick", "--book", str(book)],
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode == 0, result
    assert "Traceback" not in result.stderr
    said = " ".join(result.stdout.split())
    assert "is not an email address, so emails go out from sheetflow@localhost" in said
    sender = next(r for r in rows_by_header(book, "Settings") if r["Key"] == "Sender")
    assert "sheetflow@localhost" in (sender["Note"] or ""), "said beside the value"
    assert "Bcc: evil@x.com" in sender["Value"], "the typed value is kept as typed"
    emails = list((tmp_path / "outbox").glob("*.eml"))
    assert emails, "invoices and deals go on meanwhile"
    for path in emails:
        message = parse_eml_bytes(path.read_bytes())
        assert "Bcc" not in message
        assert "sheetflow@localhost" in str(message["From"])
