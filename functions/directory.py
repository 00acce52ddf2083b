"""People and Settings as the flows see them: who may act in which role, and the settings."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from functions.model import Recipient, TableRead
from functions.schema import Locale, Schema
from functions.text.formats import default_currency, known_currency
from functions.text.messages import problem_text, say
from functions.text.parsing import parse_email, text

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


def read_directory(table: TableRead, schema: Schema, locale: str = "en") -> Directory:
    """People; a row that names no one is skipped and said (in the book's language)."""
    people: list[Person] = []
    problems: list[str] = []
    lang: Locale = "ru" if locale == "ru" else "en"
    email_label = schema.tab("people").column("email").header[lang]
    for row in table.rows:
        name = text(row.get("name"))
        email, email_problem = parse_email(row.get("email"), email_label, lang)
        role = schema.choice_key("roles", text(row.get("role")))
        active_word = text(row.get("active"))
        active = active_word == "" or schema.choice_key("yes_no", active_word) == "yes"
        if not name or email_problem or role is None:
            why = (
                problem_text(email_problem, lang)
                if email_problem
                else (
                    say(lang, "people_no_name")
                    if not name
                    else say(lang, "people_bad_role", value=text(row.get("role")))
                )
            )
            problems.append(say(lang, "people_row", row=row.number, why=why))
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
    """What `init` writes in Settings: every key, its value (given, else the default), an
    empty Note and what it means, in the book's language; a header row first."""
    labels, given = schema.labels, dict(given or {})
    header = [c.header[locale] for c in schema.tab("settings").columns]
    rows = [[*header, labels.settings_description[locale]]]
    for key in [*labels.settings_keys, *(k for k in given if k not in labels.settings_keys)]:
        default = labels.settings_defaults.get(key, {}).get(locale, "")
        rows.append(
            [
                labels.settings_keys.get(key, {}).get(locale, key),
                given.get(key, default),
                *[""] * (len(header) - 2),  # the Note, empty until sheetflow has to say something
                labels.settings_help.get(key, {}).get(locale, ""),
            ]
        )
    return rows


def read_settings(table: TableRead, schema: Schema, locale: str) -> tuple[Settings, list[str]]:
    """Settings from Key | Value rows; keys in either locale (problems as `settings_problems`)."""
    settings, problems = settings_problems(table, schema, locale)
    return settings, list(problems.values())


def settings_problems(
    table: TableRead, schema: Schema, locale: str
) -> tuple[Settings, dict[str, str]]:
    """Settings, and per key what is wrong with it in plain words (the book's language).

    An empty or invalid Sender, Currency, Time zone or Reply to is said with what is used
    instead: nothing is silently made up, and a bad value never stops the tick.
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
    problems: dict[str, str] = {}
    label = schema.labels.settings_keys

    def problem(key: str, message: str, **fields: object) -> None:
        problems[key] = say(lang, message, setting=label[key][lang], **fields)

    if "sender" not in values:
        problem("sender", "settings_no_sender", used=FALLBACK_SENDER)
    elif not _sender_address(values["sender"]):
        problem(
            "sender", "settings_bad_sender", value=_shown(values["sender"]), used=FALLBACK_SENDER
        )
        values["sender"] = FALLBACK_SENDER
    if "currency" not in values:
        values["currency"] = default_currency(lang)
        problem("currency", "settings_no_currency", used=values["currency"])
    elif not known_currency(values["currency"]):
        typed, values["currency"] = values["currency"], default_currency(lang)
        problem("currency", "settings_bad_currency", value=_shown(typed), used=values["currency"])
    if "time_zone" not in values:
        problem("time_zone", "settings_no_time_zone")
    try:
        ZoneInfo(values.get("time_zone", "UTC"))
    except (ZoneInfoNotFoundError, ValueError):
        problem("time_zone", "settings_unknown_time_zone", value=_shown(values["time_zone"]))
        values["time_zone"] = "UTC"
    if "reply_to" in values and parse_email(values["reply_to"], "")[1]:
        problem("reply_to", "settings_bad_reply_to", value=_shown(values.pop("reply_to")))
    return Settings(**values), problems


def _shown(typed: str) -> str:
    """A typed value quoted in a sentence: one line, not too long."""
    return " ".join(typed.split())[:60]


def _sender_address(sender: str) -> str | None:
    """The address of `a@b` or `Name <a@b>`, None when there is none to send from."""
    address = sender.rpartition("<")[2].removesuffix(">") if "<" in sender else sender
    found, problem = parse_email(address.strip(), "")
    return None if problem or "\n" in sender or "\r" in sender else str(found)
