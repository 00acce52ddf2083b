"""People at work in a Google Sheet served by the double, and books ready for tests.

`SheetEditor` edits the way a person does in the browser — by header and by record ID, as
that person (protections apply) — through the same HTTP API, so it exercises the double
exactly like the adapter does. Its requests are made as the person, so they never count
towards the service account's per-tick budget.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from functions.adapters.gsheets.book import GoogleSheetBook, create_google_book
from functions.schema import Locale, Schema

from .a1 import column_letter, quote_title
from .protection import visible_rows
from .server import OWNER, SERVICE_ACCOUNT, GoogleDouble


def no_sleep(seconds: float) -> None:
    """Retries in tests do not wait."""


def new_google_book(
    double: GoogleDouble,
    schema: Schema,
    locale: Locale = "en",
    people: Sequence[tuple[str, str, str, bool]] = (),
    settings: dict[str, str] | None = None,
    *,
    writers: Sequence[str] = (),
) -> tuple[str, GoogleSheetBook]:
    """A spreadsheet shared with the service account (and `writers`), set up by init."""
    sid = double.create_spreadsheet("sheetflow", editors=(SERVICE_ACCOUNT, *writers))
    client = double.client(SERVICE_ACCOUNT)
    create_google_book(
        sid, client, schema, locale, SERVICE_ACCOUNT, people, settings, sleep=no_sleep
    )
    return sid, GoogleSheetBook(sid, client, schema, SERVICE_ACCOUNT, sleep=no_sleep)


class SheetEditor:
    """One person editing by header and record ID (default: the spreadsheet's owner)."""

    def __init__(
        self,
        double: GoogleDouble,
        spreadsheet_id: str,
        schema: Schema,
        locale: Locale = "en",
        user: str = OWNER,
    ) -> None:
        self.double, self.sid, self.schema, self.locale = double, spreadsheet_id, schema, locale
        self.user = user
        self.client = double.client(user)

    def as_user(self, user: str) -> SheetEditor:
        return SheetEditor(self.double, self.sid, self.schema, self.locale, user)

    def _title(self, tab: str) -> str:
        return self.schema.tab(tab).title[self.locale]

    def grid(self, tab: str) -> list[list[Any]]:
        answer = self.client.http_client.values_get(
            self.sid,
            quote_title(self._title(tab)),
            params={"valueRenderOption": "UNFORMATTED_VALUE"},
        )
        return [list(row) for row in answer.get("values", [])]

    def columns(self, tab: str, header: list[Any]) -> dict[str, int]:
        by_header = {str(v).strip(): i for i, v in enumerate(header) if v not in (None, "")}
        return {
            col.key: by_header[col.header[self.locale]]
            for col in self.schema.tab(tab).columns
            if col.header[self.locale] in by_header
        }

    def put(self, tab: str, row: int, values: dict[str, Any]) -> None:
        """Type values into sheet row `row` (one values:batchUpdate, USER_ENTERED)."""
        grid = self.grid(tab)
        columns = self.columns(tab, grid[0] if grid else [])
        title = quote_title(self._title(tab))
        data = [
            {"range": f"{title}!{column_letter(columns[key])}{row}", "values": [[_typed(value)]]}
            for key, value in values.items()
        ]
        self.client.http_client.values_batch_update(
            self.sid, {"valueInputOption": "USER_ENTERED", "data": data}
        )

    def append_rows(self, tab: str, rows: list[dict[str, Any]]) -> None:
        """Paste many rows below the table (one values:append, which grows the tab)."""
        grid = self.grid(tab)
        columns = self.columns(tab, grid[0])
        width = max(columns.values()) + 1
        lines = []
        for values in rows:
            line: list[Any] = [""] * width
            for key, value in values.items():
                line[columns[key]] = "" if value is None else _typed(value)
            lines.append(line)
        self.client.http_client.values_append(
            self.sid,
            f"{quote_title(self._title(tab))}!A1",
            {"valueInputOption": "USER_ENTERED", "insertDataOption": "INSERT_ROWS"},
            {"values": lines},
        )

    def add_row(self, tab: str, values: dict[str, Any]) -> int:
        """Type a new row below the last one; returns its sheet row number."""
        row = max(len(self.grid(tab)) + 1, 2)
        self.put(tab, row, values)
        return row

    def set(self, tab: str, record: str, values: dict[str, Any]) -> None:
        """Change cells of the row whose ID column holds `record`."""
        self.put(tab, self.row_number(tab, record), values)

    def row_number(self, tab: str, record: str) -> int:
        grid = self.grid(tab)
        columns = self.columns(tab, grid[0])
        id_col = columns[self.schema.tab(tab).id_column or "id"]
        for number, row in enumerate(grid[1:], start=2):
            if id_col < len(row) and str(row[id_col]).strip() == record:
                return number
        raise KeyError(f"{record} not found in {tab}")

    def rows(self, tab: str) -> list[dict[str, Any]]:
        """Every non-blank row as {column key: value} ('' reads as None)."""
        grid = self.grid(tab)
        if not grid:
            return []
        columns = self.columns(tab, grid[0])
        out = []
        for row in grid[1:]:
            values = {
                k: (row[c] if c < len(row) and row[c] != "" else None) for k, c in columns.items()
            }
            if any(v is not None for v in values.values()):
                out.append(values)
        return out

    def row(self, tab: str, record: str) -> dict[str, Any]:
        id_key = self.schema.tab(tab).id_column or "id"
        for values in self.rows(tab):
            if str(values.get(id_key) or "").strip() == record:
                return values
        raise KeyError(f"{record} not found in {tab}")

    def log(self) -> list[list[str]]:
        return [[str(v) for v in row] + [""] * (8 - len(row)) for row in self.grid("log")[1:]]

    def queue(self, name: str) -> list[str]:
        """Record IDs the accountant's `Queue — NAME` filter view shows."""
        book = self.double.book(self.sid)
        sheet = book.sheet_by_title(self._title("invoices"))
        title = self.schema.queue_title(name, self.locale)
        view = next(v for v in sheet.filter_views if v.get("title") == title)
        id_col = self.columns("invoices", self.grid("invoices")[0])["id"]
        return [str(book.value(sheet, row - 1, id_col)) for row in visible_rows(book, sheet, view)]

    def queues(self) -> list[str]:
        sheet = self.double.book(self.sid).sheet_by_title(self._title("invoices"))
        return [str(v.get("title")) for v in sheet.filter_views]

    def may_edit(self, tab: str, record: str, column: str, user: str) -> bool:
        book = self.double.book(self.sid)
        sheet = book.sheet_by_title(self._title(tab))
        row = self.row_number(tab, record)
        col = self.columns(tab, self.grid(tab)[0])[column]
        return book.may_edit(user, sheet, row - 1, col)


def _typed(value: Any) -> Any:
    """What a person types: dates as text, everything else as is."""
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return value
