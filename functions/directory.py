"""People and Settings as the flows see them: who may act in which role, and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .model import Recipient, TableRead
from .parsing import parse_email, text
from .schema import Schema


@dataclass(frozen=True)
class Person:
    name: str
    email: str
    role: str
    active: bool

    @property
    def recipient(self) -> Recipient:
        return Recipient(self.name, self.email)


@dataclass(frozen=True)
class Directory:
    """The People tab: look a person up by Name or Email (case and spaces ignored)."""

    people: tuple[Person, ...]
    problems: tuple[str, ...] = ()

    def find(self, typed: object, role: str) -> Person | None:
        """The active person with `role` whose name or email is `typed`."""
        wanted = text(typed).casefold()  # type: ignore[arg-type]
        if not wanted:
            return None
        for person in self.people:
            if (
                person.active
                and person.role == role
                and wanted
                in (
                    person.name.casefold(),
                    person.email.casefold(),
                )
            ):
                return person
        return None

    def active(self, role: str) -> list[Person]:
        return [p for p in self.people if p.active and p.role == role]


def read_directory(table: TableRead, schema: Schema) -> Directory:
    people: list[Person] = []
    problems: list[str] = []
    for row in table.rows:
        name = text(row.get("name"))
        email, email_problem = parse_email(row.get("email"), "Email")
        role = schema.choice_key("roles", text(row.get("role")))
        active_word = text(row.get("active"))
        active = active_word == "" or schema.choice_key("yes_no", active_word) == "yes"
        if not name or email_problem or role is None:
            why = email_problem or (
                "Name is empty"
                if not name
                else f"Role “{text(row.get('role'))}” is not manager, director or accountant"
            )
            problems.append(f"People row {row.number}: {why}")
            continue
        people.append(Person(name=name, email=str(email), role=role, active=active))
    return Directory(tuple(people), tuple(problems))


@dataclass(frozen=True)
class Settings:
    company: str = "Our company"
    locale: str = "en"
    time_zone: str = "UTC"
    currency: str = "EUR"
    sender: str = "sheetflow@localhost"
    deal_alerts_to: str = ""
    reply_to: str = ""  # where suppliers' replies go (default: the invoice's manager)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def read_settings(table: TableRead, schema: Schema, locale: str) -> tuple[Settings, list[str]]:
    """Settings from Key | Value rows; keys in either locale; unknown time zones are reported."""
    by_label = {
        label.casefold(): key
        for key, labels in schema.labels.settings_keys.items()
        for label in labels.values()
    }
    values: dict[str, str] = {"locale": locale}
    for row in table.rows:
        key = by_label.get(text(row.get("key")).casefold())
        if key and text(row.get("value")):
            values[key] = text(row.get("value"))
    problems: list[str] = []
    try:
        ZoneInfo(values.get("time_zone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(f"Settings: time zone “{values['time_zone']}” is unknown; using UTC")
        values["time_zone"] = "UTC"
    return Settings(**values), problems
