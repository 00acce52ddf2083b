"""Loads `sheet_schema/*.yaml`: tabs, columns, statuses and words, per locale.

The YAML is the single source of truth for headers and labels; code refers to columns and
statuses only by their stable keys (`signer`, `awaiting_decision`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Sequence
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict

from functions.errors import SchemaError

Locale = Literal["en", "ru"]
LOCALES: tuple[Locale, ...] = ("en", "ru")
SCHEMA_DIR = Path(__file__).resolve().parent.parent / "sheet_schema"
TAB_FILES = ("invoices", "deals", "people", "settings", "log")

# Facts about the tabs every backend shares (the workbook and the Google Sheet alike).
MAIN_TABS = TAB_FILES  # the tabs `init` makes, in their order; queue tabs follow them
READ_TABS = ("invoices", "deals", "people", "settings")  # what a tick reads (not the Log)
OPTIONAL_TABS = frozenset({"deals"})  # a book made before the deal watcher has none
PROTECTED_TABS = frozenset({"invoices", "deals", "log"})  # automation cells locked
TAB_FLOWS = {"invoices": "invoice", "deals": "deal"}  # the flow that owns each tab's rows
DATA_ROWS = 1000  # rows `init` prepares (dropdowns, unlocked people's cells); below, writes do
LIST_KEYS = ("directors", "accountants", "managers")  # the columns of the hidden Lists tab
LIST_ROWS = 200  # rows of the Lists tab

ColumnType = Literal[
    "id", "text", "person", "email", "date", "money", "percent", "choice", "status", "datetime"
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Column(_Strict):
    key: str
    header: dict[Locale, str]
    type: ColumnType
    owner: Literal["people", "automation"] = "people"
    required: bool = False
    role: Literal["manager", "director", "accountant"] | None = None
    dropdown: str | None = None
    width: int = 14
    # A column added after books were made: a book without it still works (init adds it).
    optional: bool = False


class Tab(_Strict):
    key: str
    title: dict[Locale, str]
    id_column: str | None = None
    id_prefix: str | None = None
    columns: tuple[Column, ...]

    def column(self, key: str) -> Column:
        for column in self.columns:
            if column.key == key:
                return column
        raise KeyError(key)

    def headers(self, locale: Locale) -> list[str]:
        return [column.header[locale] for column in self.columns]

    @property
    def automation_keys(self) -> frozenset[str]:
        return frozenset(c.key for c in self.columns if c.owner == "automation")


class ReportColumn(_Strict):
    key: str
    format: Literal["text", "int", "money", "hours"]
    en: str
    ru: str

    def header(self, locale: Locale) -> str:
        return self.en if locale == "en" else self.ru


class Labels(_Strict):
    statuses: dict[str, dict[Locale, str]]
    choices: dict[str, dict[str, dict[Locale, tuple[str, ...]]]]
    settings_keys: dict[str, dict[Locale, str]]
    queue_title: dict[Locale, str]
    lists_title: dict[Locale, str]
    report_title: dict[Locale, str]
    report_total: dict[Locale, str]
    report_columns: tuple[ReportColumn, ...]
    # The Log in the book's language: events, flows, why a status changed, which email.
    log_events: dict[str, dict[Locale, str]]
    log_flows: dict[str, dict[Locale, str]]
    transitions: dict[str, dict[Locale, str]]
    emails: dict[str, dict[Locale, str]]
    settings_description: dict[Locale, str] = {"en": "Description", "ru": "Описание"}
    settings_defaults: dict[str, dict[Locale, str]] = {}
    settings_help: dict[str, dict[Locale, str]] = {}


class Schema(_Strict):
    tabs: dict[str, Tab]
    labels: Labels

    def tab(self, key: str) -> Tab:
        return self.tabs[key]

    def status_label(self, status: str, locale: Locale) -> str:
        return self.labels.statuses[status][locale]

    def labels_for(self, locale: Locale) -> dict[str, str]:
        return {key: names[locale] for key, names in self.labels.statuses.items()}

    def status_key(self, label: str) -> str | None:
        """Status key for a label in any locale (None when the text is not a status)."""
        wanted = label.strip().casefold()
        for key, names in self.labels.statuses.items():
            if any(name.casefold() == wanted for name in names.values()):
                return key
        return None

    def log_word(self, kind: str, key: str, locale: Locale) -> str:
        """An event, flow, transition or email name as the Log shows it (the key if unknown)."""
        words: dict[str, dict[Locale, str]] = getattr(self.labels, kind)
        return words[key][locale] if key in words else key

    def log_key(self, kind: str, shown: str) -> str:
        """The key of a Log word in any locale; Logs written before translation hold keys."""
        wanted = shown.strip().casefold()
        words: dict[str, dict[Locale, str]] = getattr(self.labels, kind)
        for key, names in words.items():
            if wanted == key or any(name.casefold() == wanted for name in names.values()):
                return key
        return shown

    def choice_key(self, list_name: str, text: str) -> str | None:
        """Key of a dropdown choice for a typed word (case and spaces ignored), else None."""
        wanted = text.strip().casefold()
        for key, words in self.labels.choices[list_name].items():
            if any(word.casefold() == wanted for names in words.values() for word in names):
                return key
        return None

    def choice_words(self, list_name: str, locale: Locale) -> list[str]:
        """The word `init` puts in a dropdown, one per choice."""
        return [words[locale][0] for words in self.labels.choices[list_name].values()]

    def queue_title(self, name: str, locale: Locale) -> str:
        # Sheet titles may hold at most 31 characters in xlsx and no []:*?/\ characters; a
        # line break or other control character makes Excel call the file damaged.
        kept = (" " if unicodedata.category(ch) in ("Cc", "Zl", "Zp") else ch for ch in name)
        clean = " ".join("".join(ch for ch in kept if ch not in "[]:*?/\\").split())
        return self.labels.queue_title[locale].format(name=clean)[:31].rstrip("'")


def column_positions(
    header: Sequence[object], tab: Tab, locale: Locale, title: str
) -> dict[str, int]:
    """Column key → 0-based position, found by header text (case and spaces ignored), so
    people may reorder columns and add their own; a missing one is a SchemaError naming it."""
    seen: dict[str, int] = {}
    for index, value in enumerate(header):
        if value is not None:
            seen.setdefault(str(value).strip().casefold(), index)
    positions = {}
    for column in tab.columns:
        name = column.header[locale]
        found = seen.get(name.strip().casefold())
        if found is None and column.optional:
            continue
        if found is None:
            raise SchemaError(
                f'tab "{title}" has no column "{name}" (was it renamed?)', tab=title, column=name
            )
        positions[column.key] = found
    return positions


def find_title(titles: Iterable[str], wanted: str) -> str | None:
    """The tab titled `wanted`, or failing that one titled so but for case and surrounding
    spaces (people rename tabs; a workbook's and a Google Sheet's tabs are found alike)."""
    titles = list(titles)
    if wanted in titles:
        return wanted
    folded = wanted.strip().casefold()
    return next((t for t in titles if t.strip().casefold() == folded), None)


def book_locale(titles: Iterable[str], schema: Schema) -> Locale | None:
    """The locale whose Invoices tab the book holds (None: not a sheetflow book)."""
    titles = list(titles)
    names = schema.tab("invoices").title
    return next((loc for loc in LOCALES if find_title(titles, names[loc]) is not None), None)


def invoices_titles(schema: Schema) -> str:
    """The Invoices tab's titles, for the error that says none was found."""
    names = schema.tab("invoices").title
    return " or ".join(f'"{names[locale]}"' for locale in LOCALES)


def unique_title(title: str, taken: Iterable[str], limit: int | None = 31) -> str:
    """Long names cut to 31 characters may clash: number the later ones, as a person would
    (an .xlsx tab title holds at most 31 characters; `limit=None` for a filter view's)."""
    used = {t.casefold() for t in taken}
    candidate, number = title, 1
    while candidate.casefold() in used:
        number += 1
        suffix = f" ({number})"
        candidate = (title if limit is None else title[: limit - len(suffix)]) + suffix
    return candidate


@cache
def load_schema(directory: Path = SCHEMA_DIR) -> Schema:
    """Read and validate every schema file once per process."""
    tabs = {}
    for name in TAB_FILES:
        data = yaml.safe_load((directory / f"{name}.yaml").read_text(encoding="utf-8"))
        tab = Tab.model_validate(data)
        tabs[tab.key] = tab
    labels = Labels.model_validate(
        yaml.safe_load((directory / "labels.yaml").read_text(encoding="utf-8"))
    )
    return Schema(tabs=tabs, labels=labels)
