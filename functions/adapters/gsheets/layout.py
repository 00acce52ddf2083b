"""`sheetflow init` on a Google Sheet: tabs, headers, dropdowns, frozen rows, protections.

The spreadsheet is one a person created and shared with the service account (a sheet the
service account created would live in its own Drive, out of people's reach). Everything is
set up by ONE atomic batchUpdate, after one metadata read and one check that a default tab
about to be removed is empty.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Sequence
from typing import Any

from functions.adapters.gsheets.answers import Tab
from functions.adapters.gsheets.api import SheetsApi
from functions.adapters.gsheets.cells import (
    COLUMN_LOCK,
    HEADER_FIELDS,
    HEADER_LOCK,
    JSON,
    TAB_LOCK,
    column_letter,
    free_sheet_id,
    grid,
    header_cell,
    number_format,
    protection,
    rows,
    status_rule,
)
from functions.adapters.gsheets.grid import quote
from functions.adapters.look import STATUS_FILLS
from functions.directory import settings_rows
from functions.errors import ConfigError
from functions.schema import (
    DATA_ROWS,
    LIST_KEYS,
    LIST_ROWS,
    LOCALES,
    MAIN_TABS,
    PROTECTED_TABS,
    Locale,
    Schema,
)

_DEFAULT_TAB = re.compile(r"(Sheet|Лист)\d+")
_PIXELS_PER_CHARACTER = 7
_HINT: dict[Locale, str] = {
    "en": "Choose from the list. Another value is kept but may not be understood.",
    "ru": "Выберите из списка. Другое значение сохранится, но может быть не понято.",
}


def create_google_book(
    spreadsheet_id: str,
    client: Any,
    schema: Schema,
    locale: Locale,
    service_account_email: str,
    people: Sequence[tuple[str, str, str, bool]] | None = None,
    settings: dict[str, str] | None = None,
    force: bool = False,
    *,
    sleep: Callable[[float], None] = time.sleep,
    endpoint: str | None = None,
) -> None:
    """Set up every sheetflow tab in an existing Google Sheet (3 requests)."""
    api = SheetsApi(client, spreadsheet_id, sleep=sleep, endpoint=endpoint)
    tabs = api.tabs()
    titles = _sheetflow_titles(schema)
    ours = [t for t in tabs if t.title.strip().casefold() in titles]
    if ours and not force:
        names = ", ".join(t.title for t in ours)
        raise ConfigError(
            f"Google Sheet {spreadsheet_id} already has sheetflow tabs ({names});"
            " use --force to replace them"
        )
    blank = _blank_default_tabs(api, [t for t in tabs if t not in ours])
    layout = _Layout(schema, locale, service_account_email, [t.sheet_id for t in tabs])
    requests: list[JSON] = [
        {
            "updateSheetProperties": {
                "properties": {"sheetId": t.sheet_id, "title": f"{t.title} (replaced {n})"},
                "fields": "title",
            }
        }
        for n, t in enumerate(ours, start=1)
    ]
    requests += layout.requests(people or [], settings or {})
    requests += [{"deleteSheet": {"sheetId": t.sheet_id}} for t in [*ours, *blank]]
    api.batch_update(requests)


def _sheetflow_titles(schema: Schema) -> set[str]:
    titles = {schema.tab(key).title[loc].casefold() for key in MAIN_TABS for loc in LOCALES}
    return titles | {schema.labels.lists_title[loc].casefold() for loc in LOCALES}


def _blank_default_tabs(api: SheetsApi, others: list[Tab]) -> list[Tab]:
    """Untitled tabs (`Sheet1`) nobody typed into: removed so Invoices comes first."""
    candidates = [t for t in others if _DEFAULT_TAB.fullmatch(t.title)]
    if not candidates:
        return []
    grids = api.batch_get([quote(t.title) for t in candidates])
    return [t for t, cells in zip(candidates, grids, strict=True) if not cells]


class _Layout:
    def __init__(self, schema: Schema, locale: Locale, robot: str, taken: list[int]) -> None:
        self.schema, self.locale, self.robot = schema, locale, robot
        self.ids: dict[str, int] = {}
        used = list(taken)
        for key in (*MAIN_TABS, "lists"):
            self.ids[key] = free_sheet_id(used)
            used.append(self.ids[key])

    def requests(
        self, people: Sequence[tuple[str, str, str, bool]], settings: dict[str, str]
    ) -> list[JSON]:
        out: list[JSON] = []
        lists_title = self.schema.labels.lists_title[self.locale]
        out.append(self._add(lists_title, "lists", LIST_ROWS, len(LIST_KEYS), hidden=True))
        for index, key in enumerate(MAIN_TABS):
            tab = self.schema.tab(key)
            width = len(tab.columns) + (1 if key == "settings" else 0)  # + Description
            out.append(self._add(tab.title[self.locale], key, DATA_ROWS, width, index))
            out.append(self._put(key, 0, [[h for h in tab.headers(self.locale)]], header=True))
            out += self._widths(key)
            out += self._formats(key)
            out += self._status_colours(key)
            out += self._dropdowns(key, lists_title)
            if key in PROTECTED_TABS:
                out += self._protect(key)
        out.append(self._put("people", 1, self._people(people)))
        out.append(self._put("settings", 1, self._settings(settings)))
        out.append(self._put("settings", 0, [self._settings_header()], header=True))
        out.append(self._put("lists", 0, [list(LIST_KEYS)], header=True))
        out += self._lists(people)
        out += self._protect("lists")
        for key in ("invoices", "deals"):
            width = len(self.schema.tab(key).columns)
            basic = {"range": grid(self.ids[key], 0, DATA_ROWS, 0, width)}
            out.append({"setBasicFilter": {"filter": basic}})
        return out

    def _add(
        self,
        title: str,
        key: str,
        height: int,
        width: int,
        index: int = 99,
        *,
        hidden: bool = False,
    ) -> JSON:
        grid_props: JSON = {"rowCount": height, "columnCount": width}
        properties: JSON = {"sheetId": self.ids[key], "title": title, "gridProperties": grid_props}
        if hidden:
            properties["hidden"] = True
        else:
            grid_props["frozenRowCount"] = 1
            properties["index"] = index
        return {"addSheet": {"properties": properties}}

    def _put(self, key: str, row: int, values: list[list[Any]], *, header: bool = False) -> JSON:
        fields = HEADER_FIELDS if header else "userEnteredValue"
        data = (
            [{"values": [header_cell(v) for v in line]} for line in values]
            if header
            else rows(values)
        )
        return {
            "updateCells": {
                "start": {"sheetId": self.ids[key], "rowIndex": row, "columnIndex": 0},
                "rows": data,
                "fields": fields,
            }
        }

    def _widths(self, key: str) -> list[JSON]:
        return [
            {
                "updateDimensionProperties": {
                    "range": {
                        "sheetId": self.ids[key],
                        "dimension": "COLUMNS",
                        "startIndex": col,
                        "endIndex": col + 1,
                    },
                    "properties": {"pixelSize": column.width * _PIXELS_PER_CHARACTER},
                    "fields": "pixelSize",
                }
            }
            for col, column in enumerate(self.schema.tab(key).columns)
        ]

    def _formats(self, key: str) -> list[JSON]:
        """Money, dates and Paid % formatted for the locale, Notes wrapped: as in the workbook."""
        out = []
        for col, column in enumerate(self.schema.tab(key).columns):
            fmt: JSON = {}
            if (found := number_format(column.type, self.locale)) is not None:
                fmt["numberFormat"] = found
            if column.key in ("note", "comment", "details"):
                fmt["wrapStrategy"] = "WRAP"
                fmt["verticalAlignment"] = "TOP"
            if not fmt:
                continue
            fields = ",".join(f"userEnteredFormat.{name}" for name in fmt)
            out.append(
                {
                    "updateCells": {
                        "range": grid(self.ids[key], 1, DATA_ROWS, col, col + 1),
                        "rows": [{"values": [{"userEnteredFormat": fmt}]}] * (DATA_ROWS - 1),
                        "fields": fields,
                    }
                }
            )
        return out

    def _status_colours(self, key: str) -> list[JSON]:
        """One conditional format rule per status, on the Status column below the header.

        Added with the tab, so init makes them once; ticks never add rules. The whole column
        (no end row), so rows people add below the prepared ones are coloured too.
        """
        out: list[JSON] = []
        for col, column in enumerate(self.schema.tab(key).columns):
            if column.type != "status":
                continue
            target = grid(self.ids[key], 1, None, col, col + 1)
            for index, (status, colour) in enumerate(STATUS_FILLS.items()):
                label = self.schema.status_label(status, self.locale)
                out.append(status_rule(target, label, colour, index))
        return out

    def _dropdowns(self, key: str, lists_title: str) -> list[JSON]:
        """Warnings, not stops: an email typed instead of a name must still be accepted."""
        out = []
        for col, column in enumerate(self.schema.tab(key).columns):
            if not column.dropdown:
                continue
            if column.dropdown in LIST_KEYS:
                letter = column_letter(LIST_KEYS.index(column.dropdown))
                source = f"={quote(lists_title)}!${letter}$2:${letter}${LIST_ROWS}"
                condition = {"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": source}]}
            else:
                words = self.schema.choice_words(column.dropdown, self.locale)
                condition = {
                    "type": "ONE_OF_LIST",
                    "values": [{"userEnteredValue": w} for w in words],
                }
            rule = {
                "condition": condition,
                "inputMessage": _HINT[self.locale],
                "strict": False,
                "showCustomUi": True,
            }
            target = grid(self.ids[key], 1, DATA_ROWS, col, col + 1)
            out.append({"setDataValidation": {"range": target, "rule": rule}})
        return out

    def _protect(self, key: str) -> list[JSON]:
        """Invoices and Deals: the header row and each automation column, as column ranges.

        Not the whole tab: a whole-tab protection would stop people (editors not listed) from
        sorting, inserting and deleting rows. The Log and the Lists are the automation's alone.
        """
        if key not in self.schema.tabs or key == "log":
            return [protection({"sheetId": self.ids[key]}, TAB_LOCK, self.robot)]
        columns = self.schema.tab(key).columns
        width = len(columns)
        out = [protection(grid(self.ids[key], 0, 1, 0, width), HEADER_LOCK, self.robot)]
        out += [
            protection(grid(self.ids[key], 1, None, col, col + 1), COLUMN_LOCK, self.robot)
            for col, column in enumerate(columns)
            if column.owner != "people"
        ]
        return out

    def _people(self, people: Sequence[tuple[str, str, str, bool]]) -> list[list[Any]]:
        choices = self.schema.labels.choices
        out = []
        for name, email, role, active in people:
            key = self.schema.choice_key("roles", role)
            word = choices["roles"][key][self.locale][0] if key else role
            yes_no = choices["yes_no"]["yes" if active else "no"][self.locale][0]
            out.append([name, email, word, yes_no])
        return out

    def _settings(self, settings: dict[str, str]) -> list[list[Any]]:
        """Every key with its value (or default) and its description, in the book's language."""
        return [list(row) for row in settings_rows(self.schema, self.locale, settings)[1:]]

    def _settings_header(self) -> list[Any]:
        return list(settings_rows(self.schema, self.locale)[0])

    def _lists(self, people: Sequence[tuple[str, str, str, bool]]) -> list[JSON]:
        names: dict[str, list[str]] = {key: [] for key in LIST_KEYS}
        for name, _email, role, active in people:
            key = self.schema.choice_key("roles", role)
            if active and key and f"{key}s" in names:
                names[f"{key}s"].append(name)
        width = max((len(v) for v in names.values()), default=0)
        if not width:
            return []
        table = [
            [names[k][i] if i < len(names[k]) else None for k in LIST_KEYS] for i in range(width)
        ]
        return [self._put("lists", 1, table)]
