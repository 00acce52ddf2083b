"""A real SMTP server (aiosmtpd) on loopback that records every message it accepts.

Shared by the crash, concurrency and secrets tests; the pattern is the one of
tests/integration/test_smtp.py, plus optional STARTTLS and AUTH for the secrets test.
"""

from __future__ import annotations

import email
import email.policy
import socket
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller


class RecordingHandler:
    """Keeps every envelope the server accepts."""

    def __init__(self) -> None:
        self.envelopes: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        parsed = []
        for envelope in self.envelopes:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            parsed.append(message)
        return parsed

    def message_ids(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages())


@dataclass
class Authenticator:
    """Accepts one user and password; remembers every attempt (to prove the login happened)."""

    user: str
    password: str
    attempts: list[tuple[str, bool]] = field(default_factory=list)

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> Any:
        from aiosmtpd.smtp import AuthResult, LoginPassword

        if not isinstance(auth_data, LoginPassword):
            return AuthResult(success=False, handled=False)
        login = auth_data.login.decode("utf-8")
        ok = login == self.user and auth_data.password.decode("utf-8") == self.password
        self.attempts.append((login, ok))
        return AuthResult(success=ok, handled=False)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def running_smtp_server(
    handler: RecordingHandler | None = None, **options: Any
) -> Iterator[tuple[RecordingHandler, int]]:
    """Start a server on a free loopback port; `options` go to aiosmtpd's SMTP class."""
    handler = handler or RecordingHandler()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield handler, port
    finally:
        controller.stop()
