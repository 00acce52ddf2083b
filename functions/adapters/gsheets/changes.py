"""Turns one tick's SheetChanges into the sub-requests of a single atomic batchUpdate.

Cell writes are compare-and-set against the cells as read (a person's newer value is kept
and reported); ID assignments go first so later writes find their row; Log rows are one
`appendCells` (skipped when a replayed journal finds them already ending the Log); locks are
one-cell protected ranges named after their record, kept on the record's row when people sort
and removed when no longer needed; queues are filter views; dropdown lists are cell updates
of the hidden Lists tab; report tabs are deleted and added again at the same position
(gsheets_report).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from functions.adapters.gsheets.answers import Grid, Tab, criteria_key
from functions.adapters.gsheets.cells import (
    JSON,
    NUMBER_FORMAT_FIELDS,
    TAB_LOCK,
    cell,
    column_letter,
    free_sheet_id,
    grid,
    log_time_cell,
    protection,
    rows,
    typed_cell,
)
from functions.adapters.gsheets.grid import TabGrid, find_tab
from functions.adapters.gsheets.locks import lock_requests
from functions.adapters.gsheets.report import report_requests
from functions.errors import SchemaError
from functions.model import (
    Cell,
    CellLock,
    CellWrite,
    LogEntry,
    QueueView,
    ReportTab,
    RowAppend,
    Stored,
)
from functions.schema import LIST_KEYS, LIST_ROWS, Locale, Schema, column_positions, unique_title
from functions.text.log_times import same_log_row
from functions.text.parsing import text
from functions.write_decision import decide_write, in_write_order


@dataclass
class SeenGrids:
    """Everything one read returned, for writing without reading again."""

    version: str
    locale: Locale
    grids: dict[str, TabGrid]
    log_header: list[object] | None  # None: there is no Log tab
    log_rows: Grid | None = None  # the whole Log, read only to replay a journal


class ChangeBuilder:
    def __init__(
        self,
        schema: Schema,
        seen: SeenGrids,
        tabs: Sequence[Tab],
        robot: str,
        *,
        replay: bool,
        separator: str = ",",
    ) -> None:
        self.schema, self.seen, self.tabs, self.robot = schema, seen, list(tabs), robot
        self.separator = separator  # between a formula's arguments: `;` in many locales
        self.replay = replay
        self.requests: list[JSON] = []
        self.retired: set[int] = set()  # ids of tabs this batch deletes
        self.origins: list[tuple[str, int]] = []  # per request: the part of the changes

    def build(
        self,
        writes: list[CellWrite],
        locks: list[CellLock],
        log: list[LogEntry],
        queues: list[QueueView] | None,
        lists: dict[str, list[str]] | None,
        reports: Sequence[ReportTab] | None = None,
        appends: Sequence[RowAppend] = (),
    ) -> list[str]:
        with self._from(("appends", 0)):
            self.append_rows(appends)  # first: a write in the same plan may name the new ID
        skipped = []
        for index, write in in_write_order(writes, self.schema):
            with self._from(("writes", index)):
                if message := self.write(write):
                    skipped.append(message)
        self.locks(locks)  # tracks its own origins, lock by lock
        if log:
            with self._from(("log", 0)):
                self.append_log(log)
        if queues is not None:
            with self._from(("queues", 0)):
                self.queues(queues)
        if lists is not None:
            with self._from(("lists", 0)):
                self.lists(lists)
        for index, report in enumerate(reports or ()):
            with self._from(("reports", index)):
                self.report(report)
        return skipped

    @contextmanager
    def _from(self, part: tuple[str, int]) -> Iterator[None]:
        """Remember which part of the changes the requests added meanwhile come from."""
        start = len(self.requests)
        yield
        self.origins += [part] * (len(self.requests) - start)

    def grid(self, key: str) -> TabGrid:
        found = self.seen.grids.get(key)
        if found is None:
            title = self.schema.tab(key).title[self.seen.locale]
            raise SchemaError(f'the spreadsheet has no "{title}" tab (was it renamed?)', tab=title)
        return found

    # -- cells -------------------------------------------------------------------------------
    def write(self, write: CellWrite) -> str | None:
        """An updateCells if `decide_write` lets the write be put; else the sentence why not."""
        tab = self.grid(write.tab)
        decision = decide_write(write, _Opening(tab, self), self.schema, self.seen.locale)
        row = decision.row
        if not decision.put or row is None:
            return decision.note
        tab.put(row, write.column, write.value)
        data, fields = typed_cell(write.value, tab.spec.column(write.column).type, self.seen.locale)
        self.requests.append(
            {
                "updateCells": {
                    "start": {
                        "sheetId": tab.tab.sheet_id,
                        "rowIndex": row - 1,
                        "columnIndex": tab.columns[write.column],
                    },
                    "rows": [{"values": [data]}],
                    "fields": fields,
                }
            }
        )
        return None

    # -- new rows ----------------------------------------------------------------------------
    def append_rows(self, appends: Sequence[RowAppend]) -> None:
        """One appendCells per tab, cells placed by header; a row whose ID is there is skipped."""
        by_tab: dict[str, list[RowAppend]] = {}
        for append in appends:
            by_tab.setdefault(append.tab, []).append(append)
        for key, wanted in by_tab.items():
            tab = self.grid(key)
            id_key = tab.spec.id_column or ""
            last = max(
                (n for n, line in enumerate(tab.rows, 1) if any(v not in (None, "") for v in line)),
                default=1,
            )
            lines: list[list[Stored]] = []
            for append in wanted:
                if tab.row_of(append.record, None) is not None:
                    continue  # appended by the tick a crash cut short, or typed meanwhile
                values = {**append.values, id_key: append.record}
                cells: list[Stored] = [None] * len(tab.rows[0] if tab.rows else ())
                for column, value in values.items():
                    if column in tab.columns:
                        col = tab.columns[column]
                        cells.extend([None] * (col + 1 - len(cells)))
                        cells[col] = value
                        tab.put(last + 1 + len(lines), column, value)  # later writes find it
                lines.append(cells)
            if lines:
                self.requests.append(
                    {
                        "appendCells": {
                            "sheetId": tab.tab.sheet_id,
                            "rows": rows(lines),
                            "fields": "userEnteredValue",
                        }
                    }
                )

    # -- locks -------------------------------------------------------------------------------
    def locks(self, locks: Sequence[CellLock]) -> None:
        """Reconcile lock protections (locks.py), each request traced to its lock."""
        for index, requests in lock_requests(locks, self.tabs, self.seen.grids, self.robot):
            with self._from(("locks", index)):
                self.requests += requests

    # -- the Log -----------------------------------------------------------------------------
    def append_log(self, entries: Sequence[LogEntry]) -> None:
        spec = self.schema.tab("log")
        title = spec.title[self.seen.locale]
        header = self.seen.log_header
        log_tab = find_tab(self.tabs, title)
        if log_tab is None or header is None:
            sheet_id = self._add_tab(title, spec.headers(self.seen.locale), hidden=False)
            header = list(spec.headers(self.seen.locale))
        else:
            sheet_id = log_tab.sheet_id
        try:
            positions = column_positions(header, spec, self.seen.locale, title)
        except SchemaError:  # the Log is append-only history: fall back to the schema's order
            positions = {column.key: index for index, column in enumerate(spec.columns)}
        order = [positions[column.key] for column in spec.columns]
        wanted = [entry.as_row() for entry in entries]
        if self.replay and self._log_ends_with(order, wanted):
            return
        width = max(order) + 1
        appended = []
        for values in wanted:
            cells: list[JSON] = [{} for _ in range(width)]
            for col, value in zip(order, values, strict=True):
                cells[col] = cell(value)
            # Time: a date-time (serial number) in the Settings time zone, not text.
            cells[order[0]] = log_time_cell(values[0], self.seen.locale)
            appended.append({"values": cells})
        self.requests.append(
            {
                "appendCells": {
                    "sheetId": sheet_id,
                    "rows": appended,
                    "fields": NUMBER_FORMAT_FIELDS,
                }
            }
        )

    def _log_ends_with(self, order: list[int], wanted: list[list[str]]) -> bool:
        existing = [r for r in (self.seen.log_rows or [])[1:] if any(text(v) for v in r)]
        if len(existing) < len(wanted):
            return False
        tail = existing[len(existing) - len(wanted) :]
        got = [[r[c] if c < len(r) else "" for c in order] for r in tail]
        return all(same_log_row(g, w) for g, w in zip(got, wanted, strict=True))

    def _add_tab(self, title: str, header: Sequence[str], *, hidden: bool) -> int:
        sheet_id = free_sheet_id([*(t.sheet_id for t in self.tabs), *self.retired])
        properties: JSON = {
            "sheetId": sheet_id,
            "title": title,
            "gridProperties": {"rowCount": max(LIST_ROWS, 1000), "columnCount": len(header)},
        }
        if hidden:
            properties["hidden"] = True
        else:
            properties["gridProperties"]["frozenRowCount"] = 1
        self.requests += [
            {"addSheet": {"properties": properties}},
            {
                "updateCells": {
                    "start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                    "rows": rows([header]),
                    "fields": "userEnteredValue",
                }
            },
            protection({"sheetId": sheet_id}, TAB_LOCK, self.robot),
        ]
        self.tabs.append(Tab(sheet_id, title, 1000, len(header), hidden))
        return sheet_id

    # -- report tabs --------------------------------------------------------------------------
    def report(self, report: ReportTab) -> None:
        """Replace the report's tab whole, at the position the old one had (else at the end)."""
        old = find_tab(self.tabs, report.title)
        index: int | None = None
        # never an id deleted in this batch: see gsheets_report on why not reuse the old one
        sheet_id = free_sheet_id([*(t.sheet_id for t in self.tabs), *self.retired])
        if old is not None:
            index = self.tabs.index(old)  # tabs come in Google's tab order
            self.requests.append({"deleteSheet": {"sheetId": old.sheet_id}})
            self.tabs.remove(old)
            self.retired.add(old.sheet_id)
        self.requests += report_requests(report, sheet_id, index, self.robot)
        new = Tab(sheet_id, report.title, len(report.rows) + 1, len(report.headers))
        self.tabs.insert(len(self.tabs) if index is None else index, new)

    # -- queues: one filter view per accountant ---------------------------------------------
    def queues(self, views: Sequence[QueueView]) -> None:
        invoices = self.grid("invoices")
        prefix = self.schema.labels.queue_title[self.seen.locale].split("{name}")[0]
        id_header = invoices.spec.column("id").header[self.seen.locale]
        id_col = invoices.columns["id"]
        mine = {v.title: v for v in invoices.tab.filter_views if v.title.startswith(prefix)}
        used: list[str] = []
        for view in views:
            title = unique_title(view.title, used, limit=None)
            used.append(title)
            index = view.headers.index(id_header) if id_header in view.headers else 0
            ids = sorted({text(row[index]) for row in view.rows if text(row[index])})
            spec = self._filter_view(invoices, title, id_col, ids)
            existing = mine.pop(title, None)
            if existing is None:
                self.requests.append({"addFilterView": {"filter": spec}})
            elif existing.criteria != criteria_key(spec["filterSpecs"]) or not _whole_tab(
                existing.range, invoices
            ):
                spec["filterViewId"] = existing.id
                self.requests.append(
                    {"updateFilterView": {"filter": spec, "fields": "range,filterSpecs,sortSpecs"}}
                )
        for stale in mine.values():
            self.requests.append({"deleteFilterView": {"filterId": stale.id}})

    def _filter_view(self, invoices: TabGrid, title: str, col: int, ids: list[str]) -> JSON:
        pattern = "|".join(re.sub(r"([\\^$.|?*+()\[\]{}])", r"\\\1", i) for i in ids)
        letter = column_letter(col)
        quoted = pattern.replace(chr(34), chr(34) * 2)
        formula = (
            f'=REGEXMATCH(TO_TEXT(${letter}2){self.separator}"^({quoted})$")' if ids else "=FALSE"
        )
        return {
            "title": title,
            "range": {"sheetId": invoices.tab.sheet_id},
            "filterSpecs": [
                {
                    "columnIndex": col,
                    "filterCriteria": {
                        "condition": {
                            "type": "CUSTOM_FORMULA",
                            "values": [{"userEnteredValue": formula}],
                        }
                    },
                }
            ],
            "sortSpecs": [{"dimensionIndex": col, "sortOrder": "ASCENDING"}],
        }

    # -- dropdown lists ----------------------------------------------------------------------
    def lists(self, lists: dict[str, list[str]]) -> None:
        title = self.schema.labels.lists_title[self.seen.locale]
        tab = find_tab(self.tabs, title)
        sheet_id = tab.sheet_id if tab else self._add_tab(title, LIST_KEYS, hidden=True)
        height = min(LIST_ROWS, tab.rows) if tab else LIST_ROWS
        for col, key in enumerate(LIST_KEYS):
            names = lists.get(key)
            if names is None:
                continue
            self.requests.append(
                {
                    "updateCells": {
                        "range": grid(sheet_id, 0, height, col, col + 1),
                        "rows": rows([[key], *[[n] for n in names[: height - 1]]]),
                        "fields": "userEnteredValue",
                    }
                }
            )


class _Opening:
    """A tab as the write decision sees it: asked for a column the sheet lacks (an optional
    one, the Settings Note), it adds the column in the same batch."""

    def __init__(self, tab: TabGrid, builder: ChangeBuilder) -> None:
        self.tab, self.builder = tab, builder

    def row_of(self, record: str, hint: int | None) -> int | None:
        return self.tab.row_of(record, hint)

    def current(self, row: int, column: str) -> Cell:
        if column not in self.tab.columns:
            self.builder.requests += self.tab.add_column(column, self.builder.seen.locale)
        return self.tab.value(row, column)


def _whole_tab(grid_range: JSON, tab: TabGrid) -> bool:
    """Whether a filter view still spans every row (the tab may have grown since)."""
    end = int(grid_range.get("endRowIndex", tab.tab.rows))
    return end >= tab.tab.rows and int(grid_range.get("startRowIndex", 0)) == 0
