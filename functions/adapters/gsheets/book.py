"""The Google Sheets backend: the same SpreadsheetBook as the workbook, in few API requests.

Requests per tick, whatever the number of rows:

- `version()`: one Drive `files.get?fields=version` (an idle tick stops here);
- `read()`: one `values:batchGet` of Invoices, Deals, People, Settings and the Log's header
  row (unformatted values, dates as serial numbers); the tab titles, ids, protections and
  filter views come from one `spreadsheets.get` cached on the instance, fetched again only
  when a range no longer parses (a tab was renamed) or a write met a stale id;
- `apply()`: ONE atomic `spreadsheets:batchUpdate` carrying every cell write (updateCells with
  stringValue for text, so a text starting with `=` is never a formula), the Log rows
  (appendCells), the lock protections, the queue filter views and the dropdown lists. It asks
  for the updated tab metadata in its response, so the cache stays current for free.

A person's concurrent edit, without reading again before writing:

1. every cell write is compare-and-set against the values the read saw (the plan's
   `expected`): a cell a person changed before the read is kept and reported;
2. the cells the automation writes are protected (ID, Status, Note, Updated and locked
   Accountant cells: only the service account may edit them), so people cannot race us there;
3. the Drive version is checked again right before any batch that writes cells or locks:
   `updateCells` and protected ranges address rows by position, so a sort, an inserted or a
   deleted row since the read would put values on other rows (Log rows are appended and
   report tabs replaced whole: a batch of only those needs no re-check). A change raises
   BookChangedError, writing nothing; the engine drops the plan and the next tick re-plans
   on the rows as they are then;
4. the batch is atomic: it is applied entirely or not at all, so no half-written tick exists.

A busy tick thus costs version + read + version + batchUpdate = 4 requests on an instance that
has the tab metadata (Cloud Functions keep one engine per instance, see cloud.py), 5 on an
instance's first tick.

Without a fingerprint (a journal replayed after a crash) apply reads the tabs the changes touch
and the Log in one batchGet, keeping of the Log only its header and its last rows (as many as
the journal appends), writes only cells still holding their `expected` value, and skips Log
rows that already end the Log: at most 3 requests (metadata, batchGet, batchUpdate).

Monthly reports: `read_log()` is one `values:batchGet` of the whole Log (unformatted values;
the tab's title comes from the metadata the read cached), its rows handed over as they arrive
(the report keeps only those it counts), and a report tab travels in the
tick's one batchUpdate (deleted and added again at its position, see gsheets_report). A tick
on the 1st of a month thus costs version + read + read_log + batchUpdate = 4 requests when
the metadata is cached (5 when the same tick also writes cells), one more on an instance's
very first tick; `sheetflow report` on a fresh instance costs version, metadata, read,
read_log and batchUpdate: 5.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Collection, Iterator
from typing import Any

from functions.adapters.google_calls import ApiFailure, GoogleApiError
from functions.adapters.gsheets.answers import Tab
from functions.adapters.gsheets.api import SheetsApi, argument_separator
from functions.adapters.gsheets.changes import ChangeBuilder, SeenGrids
from functions.adapters.gsheets.grid import (
    TabGrid,
    book_locale,
    find_tab,
    log_rows,
    quote,
    required_tab,
)
from functions.adapters.gsheets.layout import create_google_book
from functions.errors import BookChangedError, RefusedError
from functions.model import ALWAYS_READ, BookRead, Cell, SheetChanges
from functions.schema import OPTIONAL_TABS, READ_TABS, Locale, Schema, column_positions
from functions.text.messages import say

__all__ = ["GoogleApiError", "GoogleSheetBook", "create_google_book"]

_STALE_MARKERS = (
    "No grid with id",
    "No protected range with id",
    "No filter with id",
    "already exists",  # a tab (a report written by another instance) we did not know of
)


def _refused(
    exc: ApiFailure, requests: list[dict[str, Any]], origins: list[tuple[str, int]]
) -> RefusedError:
    """Google's 400 names the sub-request it refused (`Invalid requests[3].addFilterView`)."""
    found = re.search(r"requests\[(\d+)\]", exc.google_message)
    if found is None or int(found.group(1)) >= len(requests):
        return RefusedError(exc.google_message, request="spreadsheets.batchUpdate")
    index = int(found.group(1))
    kind = next(iter(requests[index]), "?")
    part = origins[index] if index < len(origins) and origins[index][1] >= 0 else None
    return RefusedError(exc.google_message, part=part, request=f"requests[{index}].{kind}")


class GoogleSheetBook:
    """A SpreadsheetBook backed by one Google Sheet, shared with the service account."""

    version_may_lag = (
        True  # Drive's version of a sheet can trail an edit: read in full now and then
    )
    written_version: str | None = None  # Drive names no version for a batch just written

    def __init__(
        self,
        spreadsheet_id: str,
        client: Any,
        schema: Schema,
        service_account_email: str,
        *,
        sleep: Callable[[float], None] = time.sleep,
        attempts: int = 5,
        max_wait: float = 30.0,
        endpoint: str | None = None,
    ) -> None:
        self.schema = schema
        self.service_account = service_account_email
        self.name = f"Google Sheet {spreadsheet_id}"
        self.spreadsheet_id = spreadsheet_id
        self.api = SheetsApi(
            client,
            spreadsheet_id,
            attempts=attempts,
            max_wait=max_wait,
            sleep=sleep,
            endpoint=endpoint,
        )
        self._tabs: list[Tab] | None = None
        self._seen: SeenGrids | None = None
        self._version: str | None = None  # seen by version(), used by the next read()

    def busy_reason(self) -> str | None:
        return None  # a Google Sheet is never locked by someone having it open

    def version(self) -> str:
        self._version = self._drive_version()
        return self._version

    def _drive_version(self) -> str:
        try:
            return self.api.drive_version()
        except ApiFailure as exc:
            raise self._explain(exc) from exc

    def read(self, tabs: Collection[str] | None = None) -> BookRead:
        if self._version is None:
            self.version()
        version, self._version = self._version or "", None
        self._seen = None  # an earlier read's cells (an idle tick keeps them) go before the next
        self._seen = self._load(version, only=tabs)
        tables = {key: grid.table() for key, grid in self._seen.grids.items()}
        # A copy of a Google Sheet is a new spreadsheet: its ID is the book's identity.
        return BookRead(
            self._seen.locale, tables, version, identity=self.spreadsheet_id, date_serials=True
        )

    def read_log(self) -> Iterator[list[Cell]]:
        """The Log's rows below its header, in sheet order, blank rows left out: 1 request.

        Columns come in the schema's order (found by header; as they stand if the header no
        longer matches), empty cells as None. The rows are handed over as Google sends them
        (a busy book's Log holds hundreds of thousands). Reading does not disturb what
        `read()` saw, so an `apply()` after it still writes against that read.
        """
        for attempt in (1, 2):
            tabs = self._metadata()
            locale = book_locale(tabs, self.schema, self.name)
            spec = self.schema.tab("log")
            log_tab = find_tab(tabs, spec.title[locale])
            if log_tab is None:
                return
            rows = self.api.rows_of(quote(log_tab.title))
            try:
                header = next(rows, [])
            except ApiFailure as exc:
                if exc.status == 400 and attempt == 1:
                    self._tabs = None  # the Log was renamed since we cached titles
                    continue
                raise self._explain(exc) from exc
            try:
                yield from log_rows(header, rows, spec, locale, log_tab.title)
            except ApiFailure as exc:  # the answer was cut off midway
                raise self._explain(exc) from exc
            return
        raise AssertionError("unreachable")

    def apply(self, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        if changes.is_empty():
            return []
        seen = self._seen if self._seen and self._seen.version == fingerprint else None
        self._seen = None  # whatever happens next, the cells read are no longer current
        if fingerprint is None:
            # A replay reads the tabs the changes touch and the Log's end: whether the tick
            # it replays already appended its Log rows (ChangeBuilder.append_log).
            seen = self._load("", log_tail=len(changes.log), only=changes.row_tabs())
        elif changes.writes or changes.locks or seen is None:
            # Cells and locks are addressed by row position: any edit since the read (a sort,
            # an inserted or deleted row) must stop the write, or values land on other rows.
            if self._drive_version() != fingerprint:
                raise BookChangedError(say(seen.locale if seen else "en", "sheet_changed"))
            seen = seen or self._load(fingerprint)
        builder = ChangeBuilder(
            self.schema,
            seen,
            self._metadata(),
            self.service_account,
            replay=fingerprint is None,
            separator=argument_separator(self.api.locale),
        )
        skipped = builder.build(
            changes.writes,
            changes.locks,
            changes.log,
            changes.queues,
            changes.lists,
            changes.reports,
            changes.appends,
        )
        if builder.requests:
            batch, origins, locale = builder.requests, builder.origins, seen.locale
            # The answer brings the tabs afresh: drop the old ones (one protected range per
            # locked cell, 180,000 at 100,000 invoices) before it is parsed, not after.
            del builder, seen
            self._tabs = None
            self._write(batch, fingerprint, origins, locale)
        return skipped

    def _write(
        self,
        requests: list[dict[str, Any]],
        fingerprint: str | None,
        origins: list[tuple[str, int]],
        locale: str = "en",
    ) -> None:
        try:
            _answer, self._tabs = self.api.batch_update(requests, unchanged_since=fingerprint)
        except ApiFailure as exc:
            if exc.status == 400 and any(m in exc.google_message for m in _STALE_MARKERS):
                self._tabs = None
                raise BookChangedError(say(locale, "sheet_tabs_changed")) from exc
            if exc.status == 400:
                raise _refused(exc, requests, origins) from exc
            if exc.status == 403:
                raise GoogleApiError(
                    f"{exc.google_message} — share {self.name} with {self.service_account}"
                    " as an editor and keep it among the editors of every protected range"
                ) from exc
            raise

    def _metadata(self) -> list[Tab]:
        if self._tabs is None:
            self._tabs = self._fetch_tabs()
        return self._tabs

    def _fetch_tabs(self) -> list[Tab]:
        try:
            return self.api.tabs()
        except ApiFailure as exc:
            raise self._explain(exc) from exc

    def _explain(self, exc: ApiFailure) -> GoogleApiError:
        if exc.status in (403, 404):
            return GoogleApiError(
                f"{exc.google_message} — is {self.name} shared with"
                f" {self.service_account} as an editor?"
            )
        return exc

    def _load(
        self, version: str, *, log_tail: int = 0, only: Collection[str] | None = None
    ) -> SeenGrids:
        """One batchGet of the watched tabs (or `only` those row tabs, with People and
        Settings) and the Log's header (with its last `log_tail` rows); refreshes stale
        titles once."""
        for attempt in (1, 2):
            tabs = self._metadata()
            locale = book_locale(tabs, self.schema, self.name)
            wanted = self._watched(tabs, locale, only)
            log_tab = find_tab(tabs, self.schema.tab("log").title[locale])
            ranges = [quote(tab.title) for tab in wanted.values()]
            if log_tab is not None:
                ranges.append(quote(log_tab.title) + ("" if log_tail else "!1:1"))
            try:
                grids = self.api.batch_get(ranges, {len(wanted): log_tail} if log_tail else None)
            except ApiFailure as exc:
                if exc.status == 400 and attempt == 1:
                    self._tabs = None  # a tab was renamed or deleted since we cached titles
                    continue
                raise
            return self._seen_from(version, locale, wanted, grids, log_tab is not None)
        raise AssertionError("unreachable")

    def _watched(
        self, tabs: list[Tab], locale: Locale, only: Collection[str] | None = None
    ) -> dict[str, Tab]:
        found = {}
        for key in READ_TABS:
            if only is not None and key not in only and key not in ALWAYS_READ:
                continue  # another function's rows: not read, not written
            spec = self.schema.tab(key)
            if key in OPTIONAL_TABS:
                tab = find_tab(tabs, spec.title[locale])
                if tab is not None:
                    found[key] = tab
            else:
                found[key] = required_tab(tabs, spec, locale)
        return found

    def _seen_from(
        self,
        version: str,
        locale: Locale,
        wanted: dict[str, Tab],
        grids: list[list[list[Any]]],
        has_log: bool,
    ) -> SeenGrids:
        tables = {}
        for (key, tab), rows in zip(wanted.items(), grids, strict=False):
            spec = self.schema.tab(key)
            header = rows[0] if rows else []
            columns = column_positions(header, spec, locale, tab.title)
            tables[key] = TabGrid(key, tab, spec, columns, rows)
        log = grids[len(wanted)] if has_log and len(grids) > len(wanted) else None
        log_header: list[object] | None = None
        if has_log:
            log_header = list(log[0]) if log else []
        return SeenGrids(version, locale, tables, log_header, log)
