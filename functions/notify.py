"""Render an EmailIntent into a ready-to-send MIME message from `templates/<name>.j2`.

Names, subjects and addresses come from spreadsheet cells that anyone can type into, so every
header value is cleaned here: a name or subject never carries a line break into the headers,
and an address that could is refused.
"""

from __future__ import annotations

import email.policy
import hashlib
import re
import unicodedata
from datetime import datetime
from email.header import Header
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from pathlib import Path
from typing import Any

from jinja2 import (
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateNotFound,
    UndefinedError,
)

from functions.errors import ConfigError, MailError
from functions.model import EmailIntent, Recipient, RenderedEmail
from functions.schema import Locale, load_schema
from functions.text.catalog import DEFAULT_TEMPLATES_DIR
from functions.text.emails import default_currency, filters, helpers, translations

INVOICE_TEMPLATES: tuple[str, ...] = (
    "signer_request",
    "signer_replaced",
    "approval_void",
    "rework_to_manager",
    "accountants_approved",
    "supplier_in_payment",
    "manager_paid",
    "closed",
)
DEAL_TEMPLATES: tuple[str, ...] = ("deal_payment",)
TEMPLATE_NAMES: tuple[str, ...] = INVOICE_TEMPLATES + DEAL_TEMPLATES
# `_layout.txt` and `_layout.html` lay each email out for both its parts.
LAYOUTS: tuple[str, ...] = ("_layout.txt", "_layout.html")
MESSAGE_ID_DOMAIN = "sheetflow.invalid"
MAX_NAME_LENGTH = 100
# Subject and address headers are written pre-folded with `set_raw` and go out exactly as
# written: CPython's refolding of display names can drop the quotes around
# `"Smith, J. Bcc: x@y"`, which would smuggle in another recipient.
_OUTPUT_POLICY = email.policy.SMTP.clone(refold_source="none")

# Characters that could end a header line or confuse a mail client: C0/C1 controls and the
# Unicode line/paragraph separators. Bidi marks (RTL names) are format characters and are kept.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Zl", "Zp"})
# An addr-spec we accept: one @, no whitespace, no characters that delimit addresses in a header.
_ADDRESS = re.compile(r"[^@\s<>,;:\"()\[\]\\]+@[^@\s<>,;:\"()\[\]\\]+")


def template_names() -> list[str]:
    """Every template a flow may ask for (each has `TEMPLATE_SUFFIXES` files in every locale)."""
    return list(TEMPLATE_NAMES)


def message_id_for(key: str) -> str:
    """The same key always gives the same Message-ID, so a resent email is recognisably one."""
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]
    return f"<{digest}@{MESSAGE_ID_DOMAIN}>"


def clean_header_text(value: str) -> str:
    """One header-safe line: control characters and line breaks become spaces, runs collapse."""
    chars = (" " if unicodedata.category(ch) in _UNSAFE_CATEGORIES else ch for ch in value)
    return " ".join("".join(chars).split())


def checked_address(address: str) -> str:
    """An address to put in a header or an SMTP envelope; MailError if it is not one."""
    if "\r" in address or "\n" in address:
        raise MailError(f"email address {address!r} contains a line break")
    candidate = address.strip()
    if any(unicodedata.category(ch) in _UNSAFE_CATEGORIES for ch in candidate):
        raise MailError(f"email address {candidate!r} contains control characters")
    if not _ADDRESS.fullmatch(candidate):
        raise MailError(f"{candidate!r} is not a single email address like name@example.com")
    return candidate


def mailbox(name: str, address: str) -> str:
    """`Name <address>` ready for a header, on lines that Python's folder will not touch.

    ASCII names are quoted by `formataddr`; other names become RFC 2047 encoded words, so
    quotes, commas or `<` inside a name can never turn into another address.
    """
    display = clean_header_text(name)[:MAX_NAME_LENGTH]
    if _plain_ascii(display):
        return formataddr((display, checked_address(address)))
    return f"{_encoded(display, 'utf-8')} <{checked_address(address)}>"


def _plain_ascii(value: str) -> bool:
    """Text that can go in a header as it is: ASCII, short words, no lookalike encoded word."""
    return value.isascii() and "=?" not in value and all(len(w) <= 60 for w in value.split())


def _encoded(value: str, charset: str, header_name: str | None = None) -> str:
    return Header(value, charset, header_name=header_name).encode(linesep="\n")


class EmailRenderer:
    """Turns intents into RenderedEmail; templates and catalogs are read when first used."""

    def __init__(self, templates_dir: Path = DEFAULT_TEMPLATES_DIR) -> None:
        self.templates_dir = templates_dir
        self._envs: dict[tuple[str, bool], Environment] = {}

    def render(
        self, intent: EmailIntent, *, locale: str, sender: str, sent_at: datetime
    ) -> RenderedEmail:
        if not intent.to:
            raise MailError(f"email {intent.key!r} has no recipients", record=intent.record)
        subject = clean_header_text(self._render(intent, locale, "subject"))
        text = self._render(intent, locale, "_layout.txt")
        html = self._render(intent, locale, "_layout.html")
        message_id = message_id_for(intent.key)

        message = EmailMessage(policy=email.policy.SMTP)
        charset = "us-ascii" if _plain_ascii(subject) else "utf-8"
        message.set_raw("Subject", _encoded(subject, charset, "Subject"))
        message.set_raw("From", _sender_header(sender, str(intent.context.get("company") or "")))
        message.set_raw("To", _address_list(intent.to))
        if intent.cc:
            message.set_raw("Cc", _address_list(intent.cc))
        if intent.reply_to:
            message.set_raw("Reply-To", _address_list(intent.reply_to))
        message["Date"] = format_datetime(sent_at)
        message["Message-ID"] = message_id
        message["X-Sheetflow-Key"] = clean_header_text(intent.key)
        message.set_content(text, subtype="plain", charset="utf-8")
        message.add_alternative(html, subtype="html", charset="utf-8")

        return RenderedEmail(
            key=intent.key,
            message_id=message_id,
            sender=sender,
            to=tuple(checked_address(r.email) for r in (*intent.to, *intent.cc)),
            subject=subject,
            raw=message.as_bytes(policy=_OUTPUT_POLICY),
        )

    def _render(self, intent: EmailIntent, locale: str, part: str) -> str:
        name = f"{intent.template}.j2"
        html = part.endswith(".html")
        env = self._env(locale, html, intent.record)
        context: dict[str, Any] = {
            "currency": default_currency(locale),
            **intent.context,
            "lang": locale,
            "words": _decision_words(locale),
            "layout": part if part in LAYOUTS else "_layout.txt",
        }
        context.update(helpers(html=html, locale=locale))
        try:
            template = env.get_template(name)
            if part == "subject":
                return "".join(template.blocks["subject"](template.new_context(context)))
            return template.render(context)
        except TemplateNotFound as exc:
            raise ConfigError(
                f"no email template {exc.name!r} in {self.templates_dir}", record=intent.record
            ) from exc
        except (UndefinedError, KeyError) as exc:
            raise ConfigError(
                f"email template {name!r} needs a value the email does not have: {exc}",
                record=intent.record,
            ) from exc

    def _env(self, locale: str, html: bool, record: str) -> Environment:
        """One environment per locale (gettext is installed environment-wide) and per part:
        the same template escapes everything in the HTML part and nothing in the plain one."""
        if (locale, html) not in self._envs:
            env = Environment(
                loader=FileSystemLoader(str(self.templates_dir), encoding="utf-8"),
                undefined=StrictUndefined,
                autoescape=html,
                trim_blocks=True,
                lstrip_blocks=True,
                keep_trailing_newline=True,
                extensions=["jinja2.ext.i18n"],
            )
            env.install_gettext_translations(  # type: ignore[attr-defined]
                translations(self.templates_dir, locale, record), newstyle=True
            )
            env.filters.update(filters(locale))
            self._envs[(locale, html)] = env
        return self._envs[(locale, html)]


def _decision_words(locale: str) -> dict[str, str]:
    """The Decision dropdown's words, as the signer must type them."""
    decisions = load_schema().labels.choices["decisions"]
    lang: Locale = "ru" if locale == "ru" else "en"
    return {key: words[lang][0] for key, words in decisions.items()}


def _sender_header(sender: str, company: str = "") -> str:
    """The From header: `Name <a@b>`; a bare address is shown with the company's name."""
    if "\r" in sender or "\n" in sender:
        raise MailError(f"sender {sender!r} contains a line break")
    if "<" not in sender:
        address = checked_address(sender)
        return mailbox(company, address) if clean_header_text(company) else address
    name, _, rest = sender.rpartition("<")
    rest = rest.strip()
    if not rest.endswith(">"):
        raise MailError(f"sender {sender!r} is not like 'Name <name@example.com>'")
    return mailbox(name.strip().strip('"'), rest[:-1])


def _address_list(recipients: tuple[Recipient, ...]) -> str:
    return ",\n ".join(mailbox(r.name, r.email) for r in recipients)
