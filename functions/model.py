"""Core data types shared by the pure core and the adapters (no I/O here)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any

from functions.meta import BITRIX24
from functions.schema import Locale

# What a spreadsheet cell can hold once read (openpyxl or Sheets "unformatted" values).
Cell = str | int | float | bool | datetime | date | None
# One row as the last tick saw it: {"values": {column: Stored}, "state": {...}}, and
# "deleted": True once the row left the sheet. It stays a mapping (the stores hand over compact
# shared Records; an object per row would cost at 100,000 rows): read it with `entry_*` below.
SnapshotEntry = Mapping[str, Any]
# What the last tick saw, per tab and record ID (read-only).
Snapshot = dict[str, dict[str, SnapshotEntry]]
# A row as a plan commits it (None: the record is forgotten).
PlannedEntry = dict[str, Any]
# How a state store may swap a snapshot row for an equal one already in memory, as it loads:
# (tab, record ID, row as stored) → the row to keep.
Remember = Callable[[str, str, SnapshotEntry], SnapshotEntry]
JSON = dict[str, Any]
# A row's change as a tick reports it: record, from, to (status labels, deal percentages).
StatusChange = tuple[str, str, str]
# What the snapshot keeps of a cell: JSON-safe, so SQLite and Firestore store it as is.
Stored = str | int | float | bool | None


def entry_values(entry: SnapshotEntry) -> Mapping[str, Stored]:
    """The row's cells as the last tick saw them."""
    values: Mapping[str, Stored] = entry.get("values") or {}
    return values


def entry_state(entry: SnapshotEntry | None) -> Mapping[str, Any]:
    """The flow's state of the row (an invoice's status and round, a deal's alerts)."""
    state: Mapping[str, Any] = (entry or {}).get("state") or {}
    return state


def entry_deleted(entry: SnapshotEntry) -> bool:
    """Whether the row was deleted from the sheet (its entry is kept for the Log)."""
    return bool(entry.get("deleted"))


def planned_entry(values: Mapping[str, Stored], state: Mapping[str, Any]) -> PlannedEntry:
    return {"values": values, "state": state}


def deleted_entry(entry: SnapshotEntry) -> PlannedEntry:
    return {**entry, "deleted": True}


def stored(value: Cell) -> Stored:
    """Normalise a cell for comparison and storage: blank strings are empty, dates are ISO text."""
    if isinstance(value, str):  # the common case first: this runs for every cell of every tick
        return value if value.strip() else None
    if value is None or isinstance(value, bool | int):
        return value
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


@dataclass(frozen=True)
class SheetRow:
    """One data row as read: its 1-based sheet row number and its cells by column key.

    Adapters pass a `record.Record` (compact, shared strings); tests may pass a plain dict.
    """

    number: int
    values: Mapping[str, Cell]

    def get(self, key: str) -> Cell:
        return self.values.get(key)

    def is_blank(self) -> bool:
        return all(stored(v) is None for v in self.values.values())


@dataclass(frozen=True)
class TableRead:
    """One tab as read: which columns were found and its non-blank rows in sheet order."""

    tab: str
    title: str
    columns: tuple[str, ...]
    rows: tuple[SheetRow, ...]


# Tabs every read includes: every flow needs its people and settings.
ALWAYS_READ = frozenset({"people", "settings"})


@dataclass(frozen=True)
class BookRead:
    """Every watched tab of one spreadsheet, read in one go."""

    locale: str
    tables: dict[str, TableRead]
    fingerprint: str = ""
    identity: str = ""  # the book's own ID (set by init, travels with the file); "" if none
    date_cells: bool = False  # writes of ISO midnight text to date columns become date cells
    date_serials: bool = False  # dates are written as serial day numbers (Google Sheets)

    def table(self, key: str) -> TableRead:
        return self.tables[key]


@dataclass(frozen=True)
class CellWrite:
    """Set one cell, addressed by record ID (or by row number for an ID being assigned).

    `expected` is the value the plan saw; the adapter writes only if the cell still holds it
    (or already holds `value`), so a person's newer edit is never overwritten.
    """

    tab: str
    record: str | None
    row: int
    column: str
    value: Stored
    expected: Stored


@dataclass(frozen=True)
class CellLock:
    """Lock (or unlock) one cell; `editors` are emails still allowed to edit it (Google)."""

    tab: str
    record: str
    column: str
    locked: bool
    editors: tuple[str, ...] = ()


@dataclass(frozen=True)
class LogEntry:
    """One row of the Log tab."""

    time: str
    flow: str
    record: str
    event: str
    from_: str = ""
    to: str = ""
    by: str = ""
    details: str = ""
    # `flow` and `event` are stable keys (code and tests read them); the Log shows these words.
    flow_shown: str = ""
    event_shown: str = ""

    def as_row(self) -> list[str]:
        return [
            self.time,
            self.flow_shown or self.flow,
            self.record,
            self.event_shown or self.event,
            self.from_,
            self.to,
            self.by,
            self.details,
        ]


@dataclass(frozen=True)
class Recipient:
    name: str
    email: str


@dataclass(frozen=True)
class EmailIntent:
    """An email a flow wants sent; rendered from `templates/<template>.j2`.

    `key` is deterministic (flow, record, event, round, recipient) so the ledger never sends
    the same email twice, however often a tick is retried.
    """

    key: str
    template: str
    to: tuple[Recipient, ...]
    context: dict[str, Any]
    record: str
    cc: tuple[Recipient, ...] = ()
    reply_to: tuple[Recipient, ...] = ()  # whoever can act on a reply


@dataclass(frozen=True)
class RenderedEmail:
    """A ready-to-send message: what the ledger stores and the senders deliver."""

    key: str
    message_id: str
    sender: str
    to: tuple[str, ...]
    subject: str
    raw: bytes


@dataclass(frozen=True)
class QueueView:
    """The rows one accountant sees in their `Queue — NAME` view."""

    accountant: str
    title: str
    headers: tuple[str, ...]
    rows: tuple[tuple[Stored, ...], ...]


@dataclass(frozen=True)
class ReportTab:
    """A `Report YYYY-MM` tab: rewritten whole, never duplicated; the last row holds totals."""

    title: str
    headers: tuple[str, ...]
    formats: tuple[str, ...]  # per column: text | int | money | hours
    rows: tuple[tuple[Stored, ...], ...]
    chart_column: int  # the column charted per manager (deal payments received)


@dataclass(frozen=True)
class RowAppend:
    """A new row at the end of a tab (a file in the invoices folder, a CRM import), by ID.

    Idempotent: a row whose ID the tab already holds is not appended again, so a journal
    replayed after a crash never makes a second row.
    """

    tab: str  # "invoices" | "deals"
    record: str  # the row's ID (Invoices: ID; Deals: Deal ID) — never blank
    values: dict[str, Stored]  # column key -> value; ID included


@dataclass
class SheetChanges:
    """Everything one tick writes to the spreadsheet, applied in one save / one batch."""

    writes: list[CellWrite] = field(default_factory=list)
    locks: list[CellLock] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    queues: list[QueueView] | None = None
    lists: dict[str, list[str]] | None = None
    reports: list[ReportTab] | None = None
    appends: list[RowAppend] = field(default_factory=list)

    def row_tabs(self) -> frozenset[str]:
        """The row tabs these changes write, lock or append to (queues filter Invoices)."""
        tabs = {w.tab for w in self.writes} | {c.tab for c in self.locks}
        tabs |= {a.tab for a in self.appends}
        return frozenset(tabs | ({"invoices"} if self.queues is not None else set()))

    def is_empty(self) -> bool:
        return not (
            self.writes
            or self.locks
            or self.log
            or self.queues is not None
            or self.lists is not None
            or self.reports
            or self.appends
        )


@dataclass(frozen=True)
class FolderFile:
    """One file found in the folder, with what could be read of it."""

    key: str  # what makes it the same file: "drive:ID" or "sha256:…" (content)
    name: str
    link: str  # what goes into Invoice file: a Drive webViewLink or a path beside the book
    kind: str  # pdf | image | other
    added_by: tuple[str, ...] = ()  # emails (Drive) or subfolder names (local), to match People
    text: str = ""  # the PDF's text layer
    problem: str | None = None  # no_text | protected | corrupt | too_big: why no text


@dataclass
class FolderScan:
    """One look at the folder: the files not seen before and where to look from next time."""

    location: str
    files: list[FolderFile] = field(default_factory=list)
    cursor: JSON = field(default_factory=dict)
    problem: str | None = None  # missing | not_shared | not_a_folder
    detail: str = ""  # the account to share with, or the path that does not exist


@dataclass(frozen=True)
class CrmFields:
    """Deal fields named in Settings (a code like UF_CRM_…, ufCrm…, or the field's name)."""

    paid: str = ""
    paid_pct: str = ""
    order_no: str = ""
    invoice_no: str = ""

    def named(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v}

    @classmethod
    def from_json(cls, data: object) -> CrmFields | None:
        return cls(**data) if isinstance(data, dict) else None


@dataclass
class CrmDeal:
    id: str
    title: str
    assigned: str  # the responsible user's ID
    stage: str  # the stage code, e.g. C2:WON
    amount: float | None
    currency: str
    custom: dict[str, Any] = field(default_factory=dict)  # mapped column → raw field value
    payments_paid: float | None = None  # sum of the deal's paid payments (no Paid field named)


@dataclass
class CrmPull:
    """What one tick brought from Bitrix24 (or why it could not)."""

    portal: str
    fields: CrmFields
    deals: list[CrmDeal] = field(default_factory=list)
    users: dict[str, list[str]] = field(default_factory=dict)  # ID → [name, email]
    stages: dict[str, str] = field(default_factory=dict)  # code → name
    cursor: dict[str, Any] = field(default_factory=dict)  # where the next pull starts
    complete: bool = False  # the pass reached the newest deal
    missing: list[str] = field(default_factory=list)  # mapped columns whose field is absent
    error: str | None = None  # kind: auth | permission | down | limit | refused
    error_detail: str = ""
    checked: list[str] = field(default_factory=list)  # IDs asked about in a deletion check
    visible: list[str] = field(default_factory=list)  # of those, the ones still there
    requests: int = 0

    def quiet(self, meta: Mapping[str, Any]) -> bool:
        """Nothing to write: no deal, no news about the portal, nothing renamed."""
        state = meta.get(BITRIX24) or {}
        return (
            not self.deals
            and not self.checked
            and self.error == state.get("error")
            and self.missing == state.get("missing", [])
            and self.stages == state.get("stages", {})
            and self.users == state.get("users", {})
        )  # a cursor that moved without news needs no saving: the next pull asks again


@dataclass
class TickPlan:
    """What one tick means to do: the sheet's changes, the emails, the state to commit."""

    changes: SheetChanges = field(default_factory=SheetChanges)
    emails: list[EmailIntent] = field(default_factory=list)
    snapshot: dict[str, dict[str, PlannedEntry | None]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    transitions: list[StatusChange] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    locale: Locale = "en"
    sender: str = ""
    # Rows appended, or values brought in from the CRM or the folder, are planned by the next
    # tick: it must read them even though the book holds only this tick's save.
    reread: bool = False

    def is_empty(self) -> bool:
        return self.changes.is_empty() and not self.emails and not any(self.snapshot.values())
