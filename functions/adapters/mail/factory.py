"""Pick the mail sender a `--mail` flag or setting names."""

from __future__ import annotations

import re
from pathlib import Path

from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.mail.smtp import SCHEMES, SmtpSender
from functions.errors import ConfigError
from functions.ports import MailSender

USAGE = (
    "use outbox:FOLDER, smtp://HOST:PORT, "
    "smtp+starttls://USER@HOST:587, smtps://USER@HOST:465 or gmail:SENDER@DOMAIN"
)
# `name:` at the start, but not a Windows drive letter like `C:`.
_SCHEME = re.compile(r"^([A-Za-z][A-Za-z0-9+.-]+):")


def sender_from_url(spec: str) -> MailSender:
    """`outbox:DIR`, an SMTP URL or `gmail:ADDRESS`; else ConfigError.

    A bare word is refused rather than taken as a folder: a typo such as `--mail smpt.example`
    would otherwise quietly create a folder and "send" every email into it.
    """
    text = spec.strip()
    if not text:
        raise ConfigError(f"no mail sender given: {USAGE}")
    match = _SCHEME.match(text)
    scheme = match.group(1).lower() if match else None
    if scheme == "outbox":
        folder = text[len("outbox:") :].strip()
        if not folder:
            raise ConfigError(f"outbox: needs a folder, like outbox:./outbox ({USAGE})")
        return _outbox(Path(folder))
    if scheme in SCHEMES:
        return SmtpSender(text)
    if scheme == "gmail":
        # Imported here: the Google client libraries are slow to import and local runs skip them.
        from functions.adapters.mail.gmail import gmail_sender_from_credentials

        return gmail_sender_from_credentials(text[len("gmail:") :])
    if scheme is not None:
        # The spec may hold credentials: name only its scheme.
        raise ConfigError(f"unknown mail sender {scheme + ':'!r}: {USAGE}")
    raise ConfigError(f"--mail {text[:60]!r} is not a mail sender: {USAGE}")


def _outbox(folder: Path) -> OutboxSender:
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"the mail outbox {folder} is a file, not a folder")
    return OutboxSender(folder)
