"""Deliver emails through an SMTP server given as a URL.

    smtp://HOST:PORT                 plain, for a local relay (no login)
    smtp+starttls://USER@HOST:587    STARTTLS, then login
    smtps://USER@HOST:465            implicit TLS, then login

The password comes only from the SHEETFLOW_SMTP_PASSWORD environment variable: a URL ends up in
shell history, logs and Settings, so one carrying a password is refused, and the password never
appears in a description or an error message.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import parseaddr
from urllib.parse import unquote, urlsplit

from functions.errors import ConfigError, MailError
from functions.model import RenderedEmail

PASSWORD_ENV = "SHEETFLOW_SMTP_PASSWORD"
SCHEMES = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}
DEFAULT_TIMEOUT = 30.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SmtpTarget:
    """Where and how to connect; holds no secret, so it is safe to show."""

    scheme: str
    host: str
    port: int
    user: str | None

    def __str__(self) -> str:
        user = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{user}{self.host}:{self.port}"


def parse_smtp_url(url: str) -> SmtpTarget:
    """Check an smtp/smtp+starttls/smtps URL; ConfigError (without the URL's secrets) if bad."""
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise ConfigError(
            f"unknown SMTP URL scheme {scheme!r}: use smtp://, smtp+starttls:// or smtps://"
        )
    if parts.password is not None:
        raise ConfigError(f"do not put the SMTP password in the URL: set {PASSWORD_ENV} instead")
    try:
        port = parts.port or SCHEMES[scheme]
    except ValueError as exc:
        raise ConfigError(f"the SMTP URL has an invalid port (scheme {scheme}://)") from exc
    if not parts.hostname:
        raise ConfigError(f"the SMTP URL has no host: use {scheme}://HOST:PORT")
    user = unquote(parts.username) if parts.username else None
    if user and scheme == "smtp":
        raise ConfigError(
            "refusing to send an SMTP password unencrypted: "
            "use smtp+starttls://USER@HOST:587 or smtps://USER@HOST:465"
        )
    return SmtpTarget(scheme, parts.hostname, port, user)


class SmtpSender:
    """One connection per email: a tick sends few emails, and a fresh connection cannot be stale."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        environ: Mapping[str, str] | None = None,
    ) -> None:
        self.target = parse_smtp_url(url)
        self.timeout = timeout
        env = os.environ if environ is None else environ
        self._password = env.get(PASSWORD_ENV) or None
        if self.target.user and not self._password:
            raise ConfigError(f"the SMTP URL names a user but {PASSWORD_ENV} is not set")
        self.description = f"SMTP server {self.target}"

    def send(self, email: RenderedEmail) -> None:
        envelope_from = parseaddr(email.sender)[1] or email.sender
        handed_over = False
        try:
            with self._connect() as smtp:
                if self.target.scheme == "smtp+starttls":
                    smtp.starttls(context=ssl.create_default_context())
                if self.target.user and self._password:
                    smtp.login(self.target.user, self._password)
                handed_over = True
                refused = smtp.sendmail(envelope_from, list(email.to), email.raw)
        except (smtplib.SMTPException, OSError) as exc:
            # A refusal is a clear "not sent"; a connection lost mid-message may have been sent.
            refused_outright = isinstance(
                exc, smtplib.SMTPResponseException | smtplib.SMTPRecipientsRefused
            )
            raise MailError(
                f"could not send email {email.subject!r} to {', '.join(email.to)}: "
                f"{self._reason(exc)}",
                maybe_sent=handed_over and not refused_outright,
            ) from exc
        if refused:
            # Some recipients were accepted: raising would make the retry send them a copy.
            log.warning("%s refused %s for email %s", self.target, sorted(refused), email.key)

    def was_sent(self, email: RenderedEmail) -> bool | None:
        return None

    def _connect(self) -> smtplib.SMTP:
        host, port = self.target.host, self.target.port
        if self.target.scheme == "smtps":
            context = ssl.create_default_context()
            return smtplib.SMTP_SSL(host, port, timeout=self.timeout, context=context)
        return smtplib.SMTP(host, port, timeout=self.timeout)

    def _reason(self, exc: BaseException) -> str:
        if isinstance(exc, smtplib.SMTPResponseException):
            error = exc.smtp_error
            detail = error.decode("utf-8", "replace") if isinstance(error, bytes) else error
            reason = f"the server answered {exc.smtp_code} {detail}"
        elif isinstance(exc, smtplib.SMTPRecipientsRefused):
            reason = f"the server refused every recipient ({', '.join(sorted(exc.recipients))})"
        elif isinstance(exc, ConnectionRefusedError):
            reason = f"nothing is listening at {self.target.host}:{self.target.port}"
        elif isinstance(exc, TimeoutError):
            reason = f"no answer from {self.target.host}:{self.target.port} in {self.timeout:g} s"
        else:
            reason = str(exc) or type(exc).__name__
        if self._password:
            reason = reason.replace(self._password, "***")
        return f"{reason} ({self.target})"
