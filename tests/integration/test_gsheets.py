"""What only the Google backend does: init, retries, protections, filter views, stale titles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import gspread
import pytest

from functions.adapters.gsheets.book import GoogleApiError, GoogleSheetBook, create_google_book
from functions.adapters.sqlite.state import SqliteState
from functions.errors import BookChangedError, ConfigError, SchemaError
from functions.model import CellLock, CellWrite, LogEntry, QueueView, ReportTab, SheetChanges
from functions.notify import EmailRenderer
from functions.schema import Locale, Schema, load_schema
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.a1 import column_letter
from tests.google_double.discovery import Validator
from tests.google_double.people import SheetEditor, new_google_book, no_sleep

SCHEMA: Schema = load_schema()
SA = SERVICE_ACCOUNT
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Old Accountant", "old@example.com", "accountant", False),
    ("Mia Manager", "mia@example.com", "manager", True),
]
WRITERS = [email for _n, email, _r, _a in PEOPLE]
BATCH_GET = "sheets.spreadsheets.values.batchGet"
BATCH_UPDATE = "sheets.spreadsheets.batchUpdate"


@pytest.fixture
def double() -> GoogleDouble:
    return GoogleDouble()


def made(double: GoogleDouble, locale: Locale = "en") -> tuple[str, GoogleSheetBook, SheetEditor]:
    sid, book = new_google_book(double, SCHEMA, locale, PEOPLE, {"company": "N"}, writers=WRITERS)
    editor = SheetEditor(double, sid, SCHEMA, locale)
    editor.put("invoices", 2, {"id": "INV-000001", "manager": "Mia"})
    editor.put("invoices", 3, {"id": "INV-000002", "manager": "Mia"})
    return sid, book, editor


def sheet(double: GoogleDouble, sid: str, title: str) -> Any:
    return double.book(sid).sheet_by_title(title)


# --- init ----------------------------------------------------------------------------------


@pytest.mark.parametrize("locale", ["en", "ru"])
def test_init_lays_out_tabs_headers_dropdowns_frozen_rows_and_protections(
    double: GoogleDouble, locale: Locale
) -> None:
    sid, _book = new_google_book(double, SCHEMA, locale, PEOPLE)
    book = double.book(sid)
    main = [SCHEMA.tab(k).title[locale] for k in ("invoices", "deals", "people", "settings", "log")]
    lists = SCHEMA.labels.lists_title[locale]
    assert [s.title for s in book.ordered()] == [*main, lists]  # the blank Sheet1 is gone
    assert sheet(double, sid, lists).hidden
    invoices = sheet(double, sid, main[0])
    assert invoices.frozen_rows == 1
    headers = SCHEMA.tab("invoices").headers(locale)
    assert [invoices.cell(0, c).entered["stringValue"] for c in range(len(headers))] == headers
    assert invoices.cell(0, 0).fmt == {  # bold, and a long header wraps onto two lines
        "textFormat": {"bold": True},
        "wrapStrategy": "WRAP",
        "verticalAlignment": "MIDDLE",
    }
    signer = headers.index(SCHEMA.tab("invoices").column("signer").header[locale])
    rule = invoices.cell(1, signer).validation
    assert rule["condition"]["type"] == "ONE_OF_RANGE"
    assert rule["condition"]["values"][0]["userEnteredValue"] == f"='{lists}'!$A$2:$A$200"
    assert rule["strict"] is False  # a warning: an email typed instead of a name is kept
    decision = headers.index(SCHEMA.tab("invoices").column("decision").header[locale])
    words = [
        v["userEnteredValue"] for v in invoices.cell(1, decision).validation["condition"]["values"]
    ]
    assert words == SCHEMA.choice_words("decisions", locale)
    header, *columns = invoices.protected_ranges
    assert header["range"] == {
        "sheetId": invoices.id,
        "startRowIndex": 0,
        "endRowIndex": 1,
        "startColumnIndex": 0,
        "endColumnIndex": len(headers),
    }
    for protection in (header, *columns):
        assert SA in protection["editors"]["users"]
        assert "mia@example.com" not in protection["editors"]["users"]
        assert protection["editors"]["domainUsersCanEdit"] is False
    # the automation's columns, each a column range below the header: rows stay movable
    protected = {p["range"]["startColumnIndex"] for p in columns}
    assert all(p["range"].get("startRowIndex") == 1 for p in columns)
    assert all("endRowIndex" not in p["range"] for p in columns)
    expected = {i for i, c in enumerate(SCHEMA.tab("invoices").columns) if c.owner != "people"}
    assert protected == expected
    assert not sheet(double, sid, main[2]).protected_ranges  # People stays open to everyone


@pytest.mark.parametrize(("locale", "date_pattern"), [("en", "yyyy-mm-dd"), ("ru", "dd.mm.yyyy")])
def test_init_formats_money_dates_and_percentages_and_wraps_notes(
    double: GoogleDouble, locale: Locale, date_pattern: str
) -> None:
    sid, _book = new_google_book(double, SCHEMA, locale, PEOPLE)
    invoices = sheet(double, sid, SCHEMA.tab("invoices").title[locale])
    deals = sheet(double, sid, SCHEMA.tab("deals").title[locale])

    def fmt(tab: Any, key: str, column: str, row: int = 1) -> dict[str, Any]:
        index = [c.key for c in SCHEMA.tab(key).columns].index(column)
        return dict(tab.cell(row, index).fmt or {})

    assert fmt(invoices, "invoices", "amount")["numberFormat"] == {
        "type": "NUMBER",
        "pattern": "#,##0.00",
    }
    assert fmt(invoices, "invoices", "invoice_date", 999)["numberFormat"]["pattern"] == date_pattern
    assert fmt(deals, "deals", "paid_pct")["numberFormat"]["type"] == "PERCENT"
    assert fmt(invoices, "invoices", "note")["wrapStrategy"] == "WRAP"
    assert "numberFormat" not in fmt(invoices, "invoices", "supplier")
    settings = sheet(double, sid, SCHEMA.tab("settings").title[locale])
    assert (
        settings.cell(0, 2).entered["stringValue"]
        == SCHEMA.tab("settings").column("note").header[locale]
    )
    assert settings.cell(0, 3).entered["stringValue"] == SCHEMA.labels.settings_description[locale]
    assert settings.cell(1, 2).fmt["wrapStrategy"] == "WRAP", "a long Note wraps"


def test_init_refuses_a_spreadsheet_with_sheetflow_tabs_unless_forced(double: GoogleDouble) -> None:
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE)
    client = double.client(SA)
    with pytest.raises(ConfigError, match="already has sheetflow tabs .*use --force"):
        create_google_book(sid, client, SCHEMA, "en", SA, sleep=no_sleep)
    create_google_book(sid, client, SCHEMA, "en", SA, force=True, sleep=no_sleep)
    titles = [s.title for s in double.book(sid).ordered()]
    assert titles == ["Invoices", "Deals", "People", "Settings", "Log", "Lists"]


def test_init_keeps_a_default_tab_someone_typed_into(double: GoogleDouble) -> None:
    sid = double.create_spreadsheet()
    double.client(OWNER).http_client.values_update(
        sid, "Sheet1!A1", {"valueInputOption": "RAW"}, {"values": [["my notes"]]}
    )
    create_google_book(sid, double.client(SA), SCHEMA, "en", SA, sleep=no_sleep)
    assert "Sheet1" in [s.title for s in double.book(sid).sheets]


def test_people_cannot_edit_automation_columns_but_can_edit_their_own(double: GoogleDouble) -> None:
    sid, _book, editor = made(double)
    mia = editor.as_user("mia@example.com")
    mia.set("invoices", "INV-000001", {"comment": "fine"})
    with pytest.raises(gspread.exceptions.APIError, match="protected cell") as caught:
        mia.set("invoices", "INV-000001", {"status": "Closed"})
    assert caught.value.response.status_code == 403
    with pytest.raises(gspread.exceptions.APIError, match="protected cell"):
        mia.add_row("log", {"event": "forged"})


# --- retries -------------------------------------------------------------------------------


def test_transient_errors_are_retried_with_growing_jittered_waits(double: GoogleDouble) -> None:
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE)
    waits: list[float] = []
    book = GoogleSheetBook(sid, double.client(SA), SCHEMA, SA, sleep=waits.append)
    double.fail(BATCH_GET, 429, times=2)
    double.fail(BATCH_GET, 503, times=1)
    assert book.read().locale == "en"
    assert len(waits) == 3
    caps = [0.5 * 2**attempt for attempt in range(3)]  # exponential ceilings, random below
    assert all(0 <= wait <= cap for wait, cap in zip(waits, caps, strict=True))
    assert double.count(kind=BATCH_GET, user=SA) == 4 + 1  # 4 attempts, and init's blank check


def test_a_request_that_keeps_failing_gives_up_after_five_attempts(double: GoogleDouble) -> None:
    sid, _book = new_google_book(double, SCHEMA, "en", PEOPLE)
    waits: list[float] = []
    book = GoogleSheetBook(sid, double.client(SA), SCHEMA, SA, sleep=waits.append)
    double.fail("drive.files.get", 503, times=99)
    with pytest.raises(GoogleApiError, match="Google answered 503: The service is currently"):
        book.version()
    assert double.count(kind="drive.files.get") == 5
    assert len(waits) == 4


def log_plan() -> SheetChanges:
    return SheetChanges(log=[LogEntry("10:00", "invoice", "INV-000001", "created")])


def test_a_write_that_met_a_5xx_is_not_sent_again_and_the_journal_replay_finishes(
    double: GoogleDouble,
) -> None:
    _sid, book, editor = made(double)
    fingerprint = book.read().fingerprint
    double.fail(BATCH_UPDATE, 503)
    with pytest.raises(GoogleApiError, match="Google answered 503"):
        book.apply(log_plan(), fingerprint)
    assert double.count(kind=BATCH_UPDATE, user=SA) == 1 + 1  # init, the failure: no resend
    assert editor.log() == []
    book.apply(log_plan(), None)  # the next tick replays the journal
    assert editor.log() == [log_plan().log[0].as_row()]


def test_a_write_refused_for_quota_is_sent_again(double: GoogleDouble) -> None:
    _sid, book, editor = made(double)
    double.fail(BATCH_UPDATE, 429)
    book.apply(log_plan(), book.read().fingerprint)
    assert editor.log() == [log_plan().log[0].as_row()]


def test_drive_rate_limit_403_is_a_passing_failure_and_retried(double: GoogleDouble) -> None:
    from functions.adapters.gsheets.api import TIMEOUT

    _sid, book, _editor = made(double)
    double.fail("drive.files.get", 403, times=2)
    assert book.version()
    assert double.count(kind="drive.files.get", user=SA) == 3
    assert book.api._http.timeout == TIMEOUT  # every call has a timeout


def test_a_write_that_failed_after_applying_is_not_repeated_and_replay_finishes(
    double: GoogleDouble,
) -> None:
    _sid, book, editor = made(double)
    fingerprint = book.read().fingerprint
    double.fail(BATCH_UPDATE, 500, after_apply=True)
    with pytest.raises(GoogleApiError, match="Google answered 500"):
        book.apply(log_plan(), fingerprint)
    assert editor.log() == [log_plan().log[0].as_row()]
    book.apply(log_plan(), None)  # the journal, replayed by the next tick
    assert editor.log() == [log_plan().log[0].as_row()]


def test_replaying_a_journal_costs_at_most_three_requests(double: GoogleDouble) -> None:
    sid, book = new_google_book(double, SCHEMA, "en", PEOPLE)
    fresh = GoogleSheetBook(sid, double.client(SA), SCHEMA, SA, sleep=no_sleep)
    mark = double.mark()
    fresh.apply(log_plan(), None)
    assert double.kinds(mark) == ["sheets.spreadsheets.get", BATCH_GET, BATCH_UPDATE]


def test_a_replay_reads_the_tabs_its_changes_touch_and_only_the_log_s_end(
    double: GoogleDouble,
) -> None:
    _sid, book, editor = made(double)
    earlier = [LogEntry("09:00", "invoice", f"INV-{i:06d}", "created") for i in range(2_000)]
    book.apply(SheetChanges(log=earlier), None)
    fingerprint = book.read().fingerprint
    status = CellWrite("invoices", "INV-000001", 2, "status", "Awaiting decision", None)
    entries = [LogEntry("10:00", "invoice", "INV-000001", "transition", "New", "Awaiting decision")]
    changes = SheetChanges(writes=[status], log=[*entries, log_plan().log[0]])
    double.fail(BATCH_UPDATE, 500, after_apply=True)  # written, but the tick never learnt it
    with pytest.raises(GoogleApiError, match="Google answered 500"):
        book.apply(changes, fingerprint)
    read: list[tuple[list[str], list[int]]] = []
    batch_get = book.api.batch_get

    def spy(ranges: Any, tails: Any = None) -> Any:
        grids = batch_get(ranges, tails)
        read.append((list(ranges), [len(grid) for grid in grids]))
        return grids

    book.api.batch_get = spy  # type: ignore[method-assign]
    book.apply(changes, None)  # the journal, replayed by the next tick
    ((ranges, sizes),) = read
    assert ranges == ["'Invoices'", "'People'", "'Settings'", "'Log'"]  # no Deals
    assert sizes[-1] == 1 + 2  # the Log's header and its last two rows, not 2,003
    assert len(editor.log()) == 2_000 + 2  # the replayed tick's rows are not appended twice
    assert editor.log()[-1] == log_plan().log[0].as_row()


# --- stale titles and protections ---------------------------------------------------------


def rename(double: GoogleDouble, sid: str, old: str, new: str) -> None:
    sheet_id = double.book(sid).sheet_by_title(old).id
    props = {"properties": {"sheetId": sheet_id, "title": new}, "fields": "title"}
    double.client(OWNER).http_client.batch_update(
        sid, {"requests": [{"updateSheetProperties": props}]}
    )


def test_a_renamed_tab_is_found_again_and_a_missing_one_is_named(double: GoogleDouble) -> None:
    sid, book, _editor = made(double)
    book.read()
    rename(double, sid, "People", " people ")  # case and spaces do not matter
    assert len(book.read().table("people").rows) == len(PEOPLE)
    rename(double, sid, " people ", "Staff")
    with pytest.raises(SchemaError, match='no "People" tab'):
        book.read()


def test_a_protection_removed_by_the_owner_makes_the_tick_retry_then_succeed(
    double: GoogleDouble,
) -> None:
    sid, book, editor = made(double)
    lock = CellLock("invoices", "INV-000001", "accountant", True)
    book.apply(SheetChanges(locks=[lock]), book.read().fingerprint)
    stale = next(p for p in sheet(double, sid, "Invoices").protected_ranges if "lock" in str(p))
    remove = {"deleteProtectedRange": {"protectedRangeId": stale["protectedRangeId"]}}
    double.client(OWNER).http_client.batch_update(sid, {"requests": [remove]})
    unlock = SheetChanges(locks=[CellLock("invoices", "INV-000001", "accountant", False)])
    with pytest.raises(BookChangedError, match="protections"):
        book.apply(unlock, book.read().fingerprint)  # the cached id is gone: nothing written
    assert book.apply(unlock, book.read().fingerprint) == []
    assert editor.may_edit("invoices", "INV-000001", "accountant", "axel@example.com")


def test_locks_follow_their_record_when_rows_move_and_go_with_the_row(
    double: GoogleDouble,
) -> None:
    sid, book, editor = made(double)
    locks = [CellLock("invoices", r, "accountant", True) for r in ("INV-000001", "INV-000002")]
    book.apply(SheetChanges(locks=locks), book.read().fingerprint)
    editor.put("invoices", 2, {"id": "INV-000002"})  # the owner swaps the two rows
    editor.put("invoices", 3, {"id": "INV-000001"})
    book.apply(log_plan(), book.read().fingerprint)
    assert not editor.may_edit("invoices", "INV-000001", "accountant", "axel@example.com")
    assert editor.row_number("invoices", "INV-000001") == 3
    editor.put("invoices", 3, {"id": "", "manager": ""})  # INV-000001's row is emptied
    book.apply(log_plan(), book.read().fingerprint)
    descriptions = [
        p.get("description", "") for p in sheet(double, sid, "Invoices").protected_ranges
    ]
    assert [d for d in descriptions if "lock" in d] == [
        "sheetflow lock: invoices/INV-000002/accountant"
    ]


def queue(name: str, *records: str) -> QueueView:
    return QueueView(name, SCHEMA.queue_title(name, "en"), ("ID",), tuple((r,) for r in records))


def test_queue_filter_views_keep_their_id_so_bookmarks_keep_working(double: GoogleDouble) -> None:
    sid, book, editor = made(double)
    book.apply(SheetChanges(queues=[queue("Axel", "INV-000001")]), book.read().fingerprint)
    (view,) = sheet(double, sid, "Invoices").filter_views
    book.apply(SheetChanges(queues=[queue("Axel", "INV-000002")]), book.read().fingerprint)
    (updated,) = sheet(double, sid, "Invoices").filter_views
    assert updated["filterViewId"] == view["filterViewId"]
    assert editor.queue("Axel") == ["INV-000002"]
    mark = double.mark()
    book.apply(SheetChanges(queues=[queue("Axel", "INV-000002")]), book.read().fingerprint)
    assert BATCH_UPDATE not in double.kinds(mark)  # nothing changed: nothing sent


def test_a_russian_book_is_read_and_written_by_russian_headers(double: GoogleDouble) -> None:
    _sid, book, editor = made(double, "ru")
    read = book.read()
    assert read.locale == "ru"
    assert [r.values["id"] for r in read.table("invoices").rows] == ["INV-000001", "INV-000002"]
    write = CellWrite("invoices", "INV-000002", 3, "status", "Новый", None)
    book.apply(SheetChanges(writes=[write], log=log_plan().log), read.fingerprint)
    assert editor.row("invoices", "INV-000002")["status"] == "Новый"
    assert editor.log()[0][3] == "created"


def test_a_spreadsheet_not_shared_with_the_service_account_says_how_to_fix_it(
    double: GoogleDouble,
) -> None:
    sid = double.create_spreadsheet(editors=())
    book = GoogleSheetBook(sid, double.client(SA), SCHEMA, SA, sleep=no_sleep)
    with pytest.raises(GoogleApiError, match=f"shared with {SA} as an editor"):
        book.read()


# --- monthly reports -----------------------------------------------------------------------

TEAM = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Oleg Smirnov", "oleg@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
]
NOVEMBER = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
REPORT = "Report 2026-11"
DRIVE_GET, SHEETS_GET = "drive.files.get", "sheets.spreadsheets.get"


class ReportStory:
    """November on a Google Sheet: two deals paid into, one invoice submitted (as in the
    workbook's report test), ticked by one engine whose book keeps its cached metadata."""

    def __init__(self, tmp_path: Path) -> None:
        self.double = GoogleDouble()
        writers = [email for _n, email, _r, _a in TEAM]
        settings = {"company": "N", "time_zone": "Europe/Berlin"}
        self.sid, self.book = new_google_book(
            self.double, SCHEMA, "en", TEAM, settings, writers=writers
        )
        self.editor = SheetEditor(self.double, self.sid, SCHEMA)
        self.state = SqliteState(tmp_path / "state.sqlite")
        self.mail = FakeMail()
        self.engine = self.engine_for(self.book)
        headers = SCHEMA.tab("deals").headers("en")
        paid, amount = (column_letter(headers.index(h)) for h in ("Paid", "Amount"))
        self.editor.add_row(
            "deals",
            {"deal_id": "D-1", "deal": "Beams", "manager": "Maria Lopez", "amount": 1000}
            | {"paid": 0, "paid_pct": 0},
        )
        self.editor.add_row(
            "deals",
            {"deal_id": "D-2", "deal": "Paper", "manager": "Oleg Smirnov", "amount": 400}
            | {"paid": 100, "paid_pct": f"={paid}3/{amount}3"},
        )
        assert self.engine.tick(NOVEMBER).outcome == "done"
        self.editor.set("deals", "D-1", {"paid": 250, "paid_pct": "25%"})
        self.editor.set("deals", "D-2", {"paid": 400})
        self.editor.add_row(
            "invoices",
            {
                "manager": "Oleg Smirnov",
                "supplier": "Acme",
                "supplier_email": "b@acme.example",
                "invoice_no": "A-1",
                "invoice_date": "20.11.2026",
                "amount": 50,
                "invoice_file": "https://files.example/a-1.pdf",
                "signer": "Dmitry Volkov",
            },
        )
        assert self.engine.tick(NOVEMBER + timedelta(hours=1)).outcome == "done"

    def engine_for(self, book: GoogleSheetBook) -> Engine:
        return Engine(book, self.state, self.mail, EmailRenderer(), SCHEMA)

    def fresh_book(self) -> GoogleSheetBook:
        """Another instance (a CLI run, a cold Cloud Function): no metadata cached."""
        return GoogleSheetBook(self.sid, self.double.client(SA), SCHEMA, SA, sleep=no_sleep)

    def reports(self) -> list[Any]:
        return [s for s in self.double.book(self.sid).ordered() if s.title.startswith("Report")]


def check_report_tab(story: ReportStory) -> None:
    """One report tab: the November figures, formats, frozen header, chart and protection."""
    (tab,) = story.reports()
    book = story.double.book(story.sid)
    headers = [c.header("en") for c in SCHEMA.labels.report_columns]
    width, height = len(headers), tab.last_row()
    grid = [[book.value(tab, r, c) for c in range(width)] for r in range(height)]
    assert grid[0] == headers
    rows = {row[0]: row for row in grid[1:]}
    assert list(rows) == ["Maria Lopez", "Oleg Smirnov", "Total"]
    received = headers.index("Deal payments received")
    assert [rows[m][received] for m in rows] == [250.0, 300.0, 550.0]
    assert rows["Oleg Smirnov"][1] == 1.0  # one invoice submitted
    assert rows["Total"][1] == 1.0
    patterns = {c: (tab.cell(1, c).fmt or {}).get("numberFormat") for c in range(1, width)}
    formats = [c.format for c in SCHEMA.labels.report_columns]
    wanted = {"int": "0", "money": "#,##0.00", "hours": "0.0"}
    assert patterns == {c: {"type": "NUMBER", "pattern": wanted[formats[c]]} for c in patterns}
    assert "numberFormat" not in (tab.cell(1, 0).fmt or {})
    assert tab.cell(1, 0).entered == {"stringValue": "Maria Lopez"}
    assert tab.cell(1, received).entered == {"numberValue": 250.0}
    assert all(tab.cell(0, c).fmt["textFormat"]["bold"] for c in range(width))
    assert all(tab.cell(height - 1, c).fmt["textFormat"]["bold"] for c in range(width))
    assert "textFormat" not in (tab.cell(1, 1).fmt or {})
    assert tab.frozen_rows == 1
    (chart,) = tab.charts
    basic = chart["spec"]["basicChart"]
    assert basic["chartType"] in ("BAR", "COLUMN")
    (domain,) = basic["domains"][0]["domain"]["sourceRange"]["sources"]
    (series,) = basic["series"][0]["series"]["sourceRange"]["sources"]
    managers = {"sheetId": tab.id, "startRowIndex": 1, "endRowIndex": height - 1}
    assert domain == {**managers, "endColumnIndex": 1}  # rows 2..n-1: no totals row
    assert series == {**managers, "startColumnIndex": received, "endColumnIndex": received + 1}
    anchor = chart["position"]["overlayPosition"]["anchorCell"]
    assert anchor["sheetId"] == tab.id
    assert anchor["rowIndex"] >= height  # below the table
    (protection,) = tab.protected_ranges
    assert protection["range"] == {"sheetId": tab.id}
    assert not protection.get("warningOnly")
    assert protection["editors"]["users"] == [SA, OWNER]  # Google adds the owner itself
    assert not book.may_edit("maria@example.com", tab, 1, 1)
    answer = story.double.client(SA).http_client.request(
        "get", f"https://sheets.googleapis.com/v4/spreadsheets/{story.sid}"
    )
    shown = next(s for s in answer.json()["sheets"] if s["properties"]["title"] == REPORT)
    assert shown["charts"] == tab.charts
    assert Validator("sheets.v4").body("Spreadsheet", answer.json()) == []


def test_a_monthly_report_on_google_is_one_tab_with_a_chart_in_at_most_five_requests(
    tmp_path: Path,
) -> None:
    story = ReportStory(tmp_path)
    mark = story.double.mark()
    tab = story.engine.monthly_report("2026-11", NOVEMBER + timedelta(hours=2))
    warm = story.double.kinds(mark, user=SA)
    assert warm == [DRIVE_GET, BATCH_GET, BATCH_GET, BATCH_UPDATE]  # version, read, Log, write
    assert tab.title == REPORT
    check_report_tab(story)
    first_id = story.reports()[0].id
    mark = story.double.mark()
    story.engine_for(story.fresh_book()).monthly_report("2026-11", NOVEMBER + timedelta(hours=3))
    cold = story.double.kinds(mark, user=SA)
    assert cold == [DRIVE_GET, SHEETS_GET, BATCH_GET, BATCH_GET, BATCH_UPDATE]
    assert len(cold) <= 5
    check_report_tab(story)  # rewritten, not duplicated
    assert story.reports()[0].id != first_id
    titles = [s.title for s in story.double.book(story.sid).ordered()]
    assert titles[-1] == REPORT
    assert [row[3] for row in story.editor.log()].count("Report") == 2


def test_the_report_due_on_the_first_is_written_within_the_tick_budget(tmp_path: Path) -> None:
    story = ReportStory(tmp_path)
    assert story.reports() == []
    mark = story.double.mark()
    report = story.engine.tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    kinds = story.double.kinds(mark, user=SA)
    assert report.outcome == "done"
    assert kinds == [DRIVE_GET, BATCH_GET, BATCH_GET, BATCH_UPDATE]
    assert len(kinds) <= 4
    check_report_tab(story)
    assert story.editor.log()[-1][2:4] == ["2026-11", "Report"]
    for minutes, expected in ((5, [DRIVE_GET, BATCH_GET]), (10, [DRIVE_GET])):
        mark = story.double.mark()  # re-reading our own write, then idle: no second report
        assert story.engine.tick(datetime(2026, 12, 1, 9, minutes, tzinfo=UTC)).outcome == "idle"
        assert story.double.kinds(mark, user=SA) == expected
    assert len(story.reports()) == 1


def test_a_cold_instance_pays_one_metadata_request_more_for_the_report_tick(
    tmp_path: Path,
) -> None:
    """Measured, not hidden: an instance's very first tick, on the 1st, needs 5 requests."""
    story = ReportStory(tmp_path)
    engine = story.engine_for(story.fresh_book())
    mark = story.double.mark()
    assert engine.tick(datetime(2026, 12, 1, 9, 0, tzinfo=UTC)).outcome == "done"
    kinds = story.double.kinds(mark, user=SA)
    assert kinds == [DRIVE_GET, SHEETS_GET, BATCH_GET, BATCH_GET, BATCH_UPDATE]
    check_report_tab(story)


def test_a_report_tab_changed_behind_the_cached_metadata_makes_the_write_retry(
    double: GoogleDouble,
) -> None:
    sid, book, _editor = made(double)
    other = GoogleSheetBook(sid, double.client(SA), SCHEMA, SA, sleep=no_sleep)
    tab = ReportTab(REPORT, ("Manager", "Sum"), ("text", "money"), (("Total", 1.0),), 1)
    write = SheetChanges(reports=[tab])
    book.read()  # caches the tabs: no report yet
    other.apply(write, other.read().fingerprint)  # another instance writes the report
    with pytest.raises(BookChangedError, match="tabs"):
        book.apply(write, None)  # addSheet: a tab of that name already exists
    book.apply(write, None)  # the tabs were fetched again: the report is rewritten
    report = double.book(sid).sheet_by_title(REPORT)
    double.client(OWNER).http_client.batch_update(
        sid, {"requests": [{"deleteSheet": {"sheetId": report.id}}]}
    )
    with pytest.raises(BookChangedError, match="tabs"):
        book.apply(write, None)  # deleteSheet: no grid with the cached id
    book.apply(write, None)
    assert [s.title for s in double.book(sid).sheets].count(REPORT) == 1
