"""SmtpSender against a real SMTP server (aiosmtpd) listening on 127.0.0.1."""

from __future__ import annotations

import email
import email.policy
import socket
from collections.abc import Iterator
from datetime import UTC, datetime
from email.message import EmailMessage
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from functions.adapters.mail.factory import sender_from_url
from functions.adapters.mail.smtp import PASSWORD_ENV, SmtpSender
from functions.errors import ConfigError, MailError
from functions.model import EmailIntent, Recipient, RenderedEmail
from functions.notify import EmailRenderer

REFUSED = "nobody@example.com"


class RecordingHandler:
    """Keeps every envelope the server accepts; refuses mail to REFUSED."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address == REFUSED:
            return "550 5.1.1 no such user"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def smtp_server() -> Iterator[tuple[RecordingHandler, int]]:
    handler = RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()


def rendered(*to: Recipient) -> RenderedEmail:
    invoice = dict.fromkeys(
        (
            "id manager supplier supplier_email invoice_date currency invoice_file signer "
            "decision comment accountant paid_on closing_docs status"
        ).split(),
        "x",
    )
    invoice.update(invoice_no="NW-7781", amount="1 234.50", supplier="Northwind Ltd")
    intent = EmailIntent(
        key="invoices:INV-000042:signer_request:r1:dana@example.com",
        template="signer_request",
        to=to or (Recipient("Дана Директор", "dana@example.com"),),
        context={"company": "Acme", "recipient_name": "Dana", "invoice": invoice},
        record="INV-000042",
    )
    return EmailRenderer().render(
        intent,
        locale="ru",
        sender="Acme Robot <robot@acme.example>",
        sent_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    )


def test_an_email_reaches_a_real_smtp_server_intact(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server
    mail = rendered()

    SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5).send(mail)

    [envelope] = handler.envelopes
    assert envelope.mail_from == "robot@acme.example"
    assert envelope.rcpt_tos == ["dana@example.com"]
    message = email.message_from_bytes(envelope.content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    assert message["Subject"] == mail.subject
    assert "NW-7781" in message["Subject"]
    assert message["To"].addresses[0].display_name == "Дана Директор"
    assert message["Message-ID"] == mail.message_id
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    assert "1\u00a0234,50\u00a0X" in text.get_content()  # Babel: ru groups with a no-break space
    assert "<td>NW-7781</td>" in html.get_content()


def test_a_closed_port_gives_a_readable_mail_error() -> None:
    port = free_port()
    sender = SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5)

    with pytest.raises(MailError) as caught:
        sender.send(rendered())

    message = str(caught.value)
    assert message.startswith("could not send email 'Счёт № NW-7781")
    assert f"to dana@example.com: nothing is listening at 127.0.0.1:{port}" in message
    assert isinstance(caught.value.__cause__, ConnectionRefusedError)


def test_a_server_refusing_every_recipient_gives_a_mail_error(
    smtp_server: tuple[RecordingHandler, int],
) -> None:
    handler, port = smtp_server

    with pytest.raises(MailError, match="refused every recipient .nobody@example.com."):
        SmtpSender(f"smtp://127.0.0.1:{port}", timeout=5).send(
            rendered(Recipient("Nobody", REFUSED))
        )
    assert handler.envelopes == []


def test_cannot_tell_whether_an_interrupted_send_arrived() -> None:
    assert SmtpSender("smtp://127.0.0.1:2525").was_sent(rendered()) is None


@pytest.mark.parametrize(
    ("url", "port"),
    [("smtp://mail.local", 25), ("smtp+starttls://me@mail.local", 587), ("smtps://me@h", 465)],
)
def test_each_scheme_has_its_usual_port(url: str, port: int) -> None:
    sender = SmtpSender(url, environ={PASSWORD_ENV: "s3cret"})

    assert sender.target.port == port


def test_the_password_comes_from_the_environment_and_is_never_shown() -> None:
    sender = SmtpSender(
        "smtps://me%40acme.example@mail.acme.example", environ={PASSWORD_ENV: "s3cret"}
    )

    assert sender.target.user == "me@acme.example"
    assert sender.description == "SMTP server smtps://me@acme.example@mail.acme.example:465"
    assert "s3cret" not in sender.description


def test_a_password_in_the_url_is_refused_without_repeating_it() -> None:
    with pytest.raises(ConfigError, match=PASSWORD_ENV) as caught:
        SmtpSender("smtps://me:hunter2@mail.acme.example")

    assert "hunter2" not in str(caught.value)


def test_a_user_without_a_password_in_the_environment_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match=f"{PASSWORD_ENV} is not set"):
        SmtpSender("smtp+starttls://me@mail.acme.example", environ={})


def test_logging_in_over_plain_smtp_is_refused() -> None:
    with pytest.raises(ConfigError, match="unencrypted"):
        SmtpSender("smtp://me@mail.acme.example", environ={PASSWORD_ENV: "s3cret"})


@pytest.mark.parametrize("url", ["smtp://", "smtp://host:notaport", "smtp:host"])
def test_a_malformed_smtp_url_is_a_config_error(url: str) -> None:
    with pytest.raises(ConfigError, match="SMTP URL"):
        SmtpSender(url)


def test_sender_from_url_builds_an_smtp_sender_for_smtp_urls() -> None:
    sender = sender_from_url("smtp://127.0.0.1:2525")

    assert isinstance(sender, SmtpSender)
    assert sender.description == "SMTP server smtp://127.0.0.1:2525"
