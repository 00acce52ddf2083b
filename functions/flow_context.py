"""What every flow is given: the schema and locale, People, Settings and the time of the tick."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from functions.directory import Directory, Settings
from functions.model import LogEntry
from functions.schema import Locale, Schema
from functions.text.formats import log_value
from functions.text.messages import say
from functions.text.parsing import text


@dataclass(frozen=True)
class FlowContext:
    schema: Schema
    locale: Locale
    people: Directory
    settings: Settings
    now: datetime
    # One-off Notes for rows appended from the invoices folder, by record (invoice_folder).
    notices: Mapping[str, str] = field(default_factory=dict)
    date_cells: bool = False  # the book keeps dates as date cells (see typed_values)
    date_serials: bool = False  # the book keeps dates as serial numbers (Google)

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
        return LogEntry(
            time=stamp,
            flow=flow,
            record=record,
            event=event,
            flow_shown=self.schema.log_word("log_flows", flow, self.locale),
            event_shown=self.schema.log_word("log_events", event, self.locale),
            **fields,
        )

    def shown(self, tab: str, column: str, value: object) -> str:
        """A cell's value as the Log shows it in the book's locale (formats.log_value)."""
        column_type = self.schema.tab(tab).column(column).type
        return log_value(value, column_type, self.locale)

    def name_of(self, typed: object, role: str | None = None) -> str:
        """A person as written in People (typed text when nobody matches)."""
        wanted = text(typed).casefold()  # type: ignore[arg-type]
        for person in self.people.people:
            if (role is None or person.role == role) and wanted in (
                person.name.casefold(),
                person.email.casefold(),
            ):
                return person.name
        return text(typed)  # type: ignore[arg-type]

    def when(self, trigger: str) -> str:
        return self.schema.log_word("transitions", trigger, self.locale)

    def email_kind(self, template: str) -> str:
        return self.schema.log_word("emails", template, self.locale)
