"""What every flow is given: the schema and locale, People, Settings and the time of the tick."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from .directory import Directory, Settings
from .messages import say
from .model import LogEntry
from .schema import Locale, Schema


@dataclass(frozen=True)
class FlowContext:
    schema: Schema
    locale: Locale
    people: Directory
    settings: Settings
    now: datetime
    date_cells: bool = False  # the book keeps dates as date cells (see typed_values)

    def label(self, status: str) -> str:
        return self.schema.status_label(status, self.locale)

    def header(self, column: str) -> str:
        return self.schema.tab("invoices").column(column).header[self.locale]

    def say(self, key: str, **fields: object) -> str:
        return say(self.locale, key, **fields)

    def role(self, role: str) -> str:
        return self.schema.labels.choices["roles"][role][self.locale][0]

    def word(self, list_name: str, choice: str) -> str:
        return self.schema.labels.choices[list_name][choice][self.locale][0]

    @property
    def local_now(self) -> datetime:
        return self.now.astimezone(self.settings.zone)

    def log(self, record: str, event: str, flow: str = "invoice", **fields: str) -> LogEntry:
        stamp = self.local_now.isoformat(sep=" ", timespec="seconds")
        return LogEntry(time=stamp, flow=flow, record=record, event=event, **fields)
