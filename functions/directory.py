"""People and Settings as the flows see them: who may act in which role, and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from .formats import default_currency
from .messages import say
from .model import Recipient, TableRead
from .parsing import parse_email, text
from .schema import Locale, Schema

# Used when Settings has no Sender (and said so): outbox files need a From; mail servers refuse it.
FALLBACK_SENDER = "sheetflow@localhost"


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
    sender: str = FALLBACK_SENDER
    bitrix24_paid: str = ""  # Bitrix24 deal fields named in Settings (the import reads them)
    bitrix24_paid_pct: str = ""
    bitrix24_order_no: str = ""
    bitrix24_invoice_no: str = ""
    bitrix24_status: str = ""  # written by the import, never read back as a setting
    deal_alerts_to: str = ""
    invoices_folder: str = ""
    invoices_folder_note: str = ""  # written by sheetflow when the folder cannot be read
    reply_to: str = ""  # where suppliers' replies go (default: the invoice's manager)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


def settings_rows(
    schema: Schema, locale: Locale, given: Mapping[str, str] | None = None
) -> list[list[str]]:
    """What `init` writes in Settings: every key, its value (given, else the default) and
    what it means, in the book's language; a header row first."""
    labels, given = schema.labels, dict(given or {})
    header = [c.header[locale] for c in schema.tab("settings").columns]
    rows = [[*header, labels.settings_description[locale]]]
    for key in [*labels.settings_keys, *(k for k in given if k not in labels.settings_keys)]:
        default = labels.settings_defaults.get(key, {}).get(locale, "")
        rows.append(
            [
                labels.settings_keys.get(key, {}).get(locale, key),
                given.get(key, default),
                labels.settings_help.get(key, {}).get(locale, ""),
            ]
        )
    return rows


def read_settings(table: TableRead, schema: Schema, locale: str) -> tuple[Settings, list[str]]:
    """Settings from Key | Value rows; keys in either locale.

    An empty Sender, Currency or Time zone is said in plain words with what is used instead:
    nothing is silently made up.
    """
    lang: Locale = "ru" if locale == "ru" else "en"
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
    label = schema.labels.settings_keys
    if "sender" not in values:
        problems.append(
            say(lang, "settings_no_sender", setting=label["sender"][lang], used=FALLBACK_SENDER)
        )
    if "currency" not in values:
        values["currency"] = default_currency(lang)
        problems.append(
            say(
                lang,
                "settings_no_currency",
                setting=label["currency"][lang],
                used=values["currency"],
            )
        )
    if "time_zone" not in values:
        problems.append(say(lang, "settings_no_time_zone", setting=label["time_zone"][lang]))
    try:
        ZoneInfo(values.get("time_zone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        problems.append(
            say(
                lang,
                "settings_unknown_time_zone",
                setting=label["time_zone"][lang],
                value=values["time_zone"],
            )
        )
        values["time_zone"] = "UTC"
    return Settings(**values), problems
