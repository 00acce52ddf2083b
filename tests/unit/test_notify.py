"""Rendering intents into MIME messages: templates, escaping, header safety, Message-ID."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path
from typing import Any

import pytest

from functions.errors import ConfigError, MailError
from functions.model import EmailIntent, Recipient, RenderedEmail
from functions.notify import (
    INVOICE_TEMPLATES,
    TEMPLATE_NAMES,
    EmailRenderer,
    template_names,
)
from functions.text.catalog import DEFAULT_TEMPLATES_DIR, TEMPLATE_SUFFIXES

LOCALES = ("en", "ru")
SENT_AT = datetime(2024, 5, 1, 12, 30, tzinfo=UTC)
SENDER = "Acme Trading <robot@acme.example>"
DANA = Recipient("Dana Director", "dana@example.com")


def invoice(**changes: str) -> dict[str, str]:
    values = {
        "id": "INV-000042",
        "manager": "Mike Manager",
        "supplier": "Northwind Ltd",
        "supplier_email": "sales@northwind.example",
        "invoice_no": "NW-7781",
        "invoice_date": "2024-04-28",
        "amount": "1 234.50",
        "currency": "EUR",
        "invoice_file": "https://drive.example/invoices/nw-7781.pdf",
        "signer": "Dana Director",
        "decision": "Rework",
        "comment": "Wrong VAT rate",
        "accountant": "Alice Accountant",
        "paid_on": "2024-05-03",
        "closing_docs": "https://drive.example/closing/nw-7781.pdf",
        "status": "Awaiting decision",
    }
    values.update(changes)
    return values


def make_intent(
    template: str = "signer_request",
    *,
    key: str = "invoices:INV-000042:signer_request:r1:dana@example.com",
    to: tuple[Recipient, ...] = (DANA,),
    context: dict[str, Any] | None = None,
    **invoice_changes: str,
) -> EmailIntent:
    if context is None:
        context = {
            "company": "Acme Trading",
            "recipient_name": to[0].name,
            "invoice": invoice(**invoice_changes),
        }
    return EmailIntent(key=key, template=template, to=to, context=context, record="INV-000042")


def render(intent: EmailIntent, locale: str = "en", sender: str = SENDER) -> RenderedEmail:
    return EmailRenderer().render(intent, locale=locale, sender=sender, sent_at=SENT_AT)


def parse(rendered: RenderedEmail) -> EmailMessage:
    message = email.message_from_bytes(rendered.raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return text.get_content(), html.get_content()


def header_names(rendered: RenderedEmail) -> list[str]:
    head = rendered.raw.split(b"\r\n\r\n", 1)[0].decode("ascii")
    return [line.split(":", 1)[0] for line in head.split("\r\n") if not line[:1].isspace()]


@pytest.mark.parametrize("locale", LOCALES)
@pytest.mark.parametrize("template", INVOICE_TEMPLATES)
def test_every_template_renders_in_every_locale_with_invoice_number_and_amount(
    template: str, locale: str
) -> None:
    rendered = render(make_intent(template), locale)
    message = parse(rendered)
    text, html = parts(message)

    assert "NW-7781" in message["Subject"]
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@example.com"]
    assert message["To"].addresses[0].display_name == "Dana Director"
    amount = {"en": "€1,234.50", "ru": "1\u00a0234,50\u00a0€"}[locale]
    for body in (text, html):
        assert "NW-7781" in body
        assert amount in body
    assert message.get_content_type() == "multipart/alternative"
    assert [part.get_content_charset() for part in message.iter_parts()] == ["utf-8", "utf-8"]


def test_rendered_email_carries_what_the_message_says() -> None:
    rendered = render(make_intent(), "ru")
    message = parse(rendered)

    assert rendered.subject == message["Subject"]
    assert rendered.subject.startswith("Счёт № NW-7781")
    assert rendered.to == ("dana@example.com",)
    assert rendered.sender == SENDER
    assert message["From"].addresses[0].addr_spec == "robot@acme.example"
    assert message["Message-ID"] == rendered.message_id
    assert message["X-Sheetflow-Key"] == rendered.key
    assert message["Date"].datetime == SENT_AT


def test_long_subjects_come_back_exactly_as_rendered() -> None:
    rendered = render(make_intent("manager_paid", invoice_no="X" * 70))

    assert parse(rendered)["Subject"] == rendered.subject
    assert rendered.subject.startswith("Invoice " + "X" * 70)


def test_html_part_escapes_script_in_comment_and_supplier() -> None:
    script = "<script>alert(1)</script>"
    intent = make_intent("rework_to_manager", comment=script, supplier=f"Evil {script}")
    text, html = parts(parse(render(intent)))

    assert "<script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 2
    assert script in text


@pytest.mark.parametrize(
    "name",
    [
        "Dana\r\nBcc: evil@example.com",
        "Dana\nX-Injected: yes",
        "Dana\rSubject: free money",
        "Dana\u2028Bcc: evil@example.com\x00",
    ],
)
def test_line_breaks_in_a_recipient_name_never_add_a_header(name: str) -> None:
    rendered = render(make_intent(to=(Recipient(name, "dana@example.com"),)))
    message = parse(rendered)

    assert sorted(header_names(rendered)) == sorted(
        ["Subject", "From", "To", "Date", "Message-ID", "X-Sheetflow-Key"]
        + ["MIME-Version", "Content-Type"]
    )
    assert [a.addr_spec for a in message["To"].addresses] == ["dana@example.com"]
    assert message["Bcc"] is None


def test_line_breaks_in_the_subject_never_add_a_header() -> None:
    rendered = render(make_intent(supplier="Northwind\r\nBcc: evil@example.com\r\n"))
    message = parse(rendered)

    assert message["Bcc"] is None
    assert "Bcc" not in header_names(rendered)
    assert message["Subject"] == rendered.subject
    assert "Northwind Bcc: evil@example.com awaits" in rendered.subject


@pytest.mark.parametrize(
    "name",
    [
        'Smith, John "JJ" <jj@evil.example>',
        'Иван "Boss", 😀 Bcc: evil@x',
        "שלום, עולם <x@y>",
        "Accounts Payable, Very Long Department Name (North) Bcc: evil@example.com",
        "=?utf-8?q?spoofed?=",
    ],
)
def test_quotes_commas_emoji_and_rtl_in_a_name_stay_one_recipient(name: str) -> None:
    message = parse(render(make_intent(to=(Recipient(name, "dana@example.com"),))))

    addresses = message["To"].addresses
    assert [a.addr_spec for a in addresses] == ["dana@example.com"]
    assert addresses[0].display_name == name


@pytest.mark.parametrize(
    "address",
    [
        "dana@example.com\r\nBcc: evil@example.com",
        "dana@example.com\n",
        "dana.example.com",
        "dana@example@com",
        "dana@example.com, evil@example.com",
        "Dana <dana@example.com>",
        "",
    ],
)
def test_an_address_that_is_not_one_plain_address_is_refused(address: str) -> None:
    with pytest.raises(MailError, match="address|line break"):
        render(make_intent(to=(Recipient("Dana", address),)))


def test_a_sender_with_a_line_break_is_refused() -> None:
    with pytest.raises(MailError, match="line break"):
        render(make_intent(), sender="robot@acme.example\r\nBcc: evil@example.com")


def test_same_key_gives_the_same_message_id_and_another_key_a_different_one() -> None:
    first = render(make_intent(key="k1"))
    again = EmailRenderer().render(
        make_intent(key="k1", amount="9.99"), locale="ru", sender=SENDER, sent_at=datetime.now(UTC)
    )
    other = render(make_intent(key="k2"))

    assert first.message_id == again.message_id
    assert first.message_id != other.message_id
    assert first.message_id.startswith("<")
    assert first.message_id.endswith("@sheetflow.invalid>")


@pytest.mark.parametrize(
    ("locale", "phrases"),
    [
        ("en", ["passed to payment", "will be paid shortly", "confirm shipment"]),
        ("ru", ["передан в оплату", "будет оплачен в ближайшее время", "подтвердить отгрузку"]),
    ],
)
def test_supplier_email_says_passed_to_payment_paid_shortly_and_asks_to_confirm_shipment(
    locale: str, phrases: list[str]
) -> None:
    supplier = Recipient("Northwind Ltd", "sales@northwind.example")
    message = parse(render(make_intent("supplier_in_payment", to=(supplier,)), locale))
    text, html = parts(message)

    for phrase in phrases:
        assert phrase in text
        assert phrase in html
    for detail in ("NW-7781", {"en": "Apr 28, 2024", "ru": "28.04.2024"}[locale]):
        assert detail in text
    assert {"en": "€1,234.50", "ru": "1\u00a0234,50\u00a0€"}[locale] in text
    assert "Wrong VAT rate" not in text + html, "internal comments must not reach the supplier"


def test_an_unknown_locale_is_a_config_error_naming_the_missing_catalog() -> None:
    with pytest.raises(ConfigError, match="no email texts for the locale 'de'"):
        render(make_intent(), "de")


def test_a_value_missing_from_the_context_is_a_config_error() -> None:
    intent = make_intent(context={"company": "Acme", "recipient_name": "Dana", "invoice": {}})

    with pytest.raises(ConfigError, match="signer_request"):
        render(intent)


def test_the_renderer_reads_no_template_until_it_renders(tmp_path: Path) -> None:
    renderer = EmailRenderer(tmp_path / "not-there")

    with pytest.raises(ConfigError, match="not-there"):
        renderer.render(make_intent(), locale="en", sender=SENDER, sent_at=SENT_AT)


def _files() -> set[str]:
    return {p.name for p in DEFAULT_TEMPLATES_DIR.iterdir() if p.is_file()}


@pytest.mark.parametrize("template", TEMPLATE_NAMES)
def test_every_template_name_has_its_one_file_for_every_locale(template: str) -> None:
    for suffix in TEMPLATE_SUFFIXES:
        assert (DEFAULT_TEMPLATES_DIR / f"{template}{suffix}").is_file()


def test_every_template_file_belongs_to_a_template_name_or_is_a_shared_layout() -> None:
    expected = {f"{name}{suffix}" for name in TEMPLATE_NAMES for suffix in TEMPLATE_SUFFIXES}
    strays = {f for f in _files() - expected if not f.startswith("_") and f != "babel.cfg"}

    assert not strays
    assert not [p for p in DEFAULT_TEMPLATES_DIR.iterdir() if p.name in ("en", "ru")]


def test_template_names_lists_every_template_once() -> None:
    assert template_names() == list(TEMPLATE_NAMES)
    assert len(set(TEMPLATE_NAMES)) == 9


def test_a_bare_sender_address_is_shown_with_the_company_name() -> None:
    message = parse(render(make_intent(), sender="robot@acme.example"))

    [sender] = message["From"].addresses
    assert (sender.display_name, sender.addr_spec) == ("Acme Trading", "robot@acme.example")


def test_a_sender_with_its_own_name_keeps_it() -> None:
    message = parse(render(make_intent(), sender="Billing <robot@acme.example>"))

    assert message["From"].addresses[0].display_name == "Billing"


def test_reply_to_names_whoever_can_act_on_a_reply() -> None:
    mike = Recipient("Mike Manager", "mike@acme.example")
    intent = make_intent("supplier_in_payment", to=(Recipient("Northwind", "s@nw.example"),))
    with_reply = EmailIntent(**{**intent.__dict__, "reply_to": (mike,)})

    message = parse(render(with_reply))

    [reply_to] = message["Reply-To"].addresses
    assert (reply_to.display_name, reply_to.addr_spec) == ("Mike Manager", "mike@acme.example")
    assert "Reply-To" not in parse(render(intent))
