"""Deliver emails as `.eml` files in a folder: the local default, nothing leaves the machine.

A file's name comes from the email's Date (so a folder listing reads in time order) and its
key (so the same email is never written twice): `20240501-120000-invoices-inv-000001-...eml`.
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from functions.adapters.files import write_atomically
from functions.errors import MailError
from functions.model import RenderedEmail

_SLUG_LENGTH = 60
_NO_DATE = "00000000-000000"


def key_slug(key: str) -> str:
    """A readable, file-name-safe slug of the key plus a hash, so different keys never collide."""
    readable = re.sub(r"[^a-z0-9]+", "-", key.casefold()).strip("-")[:_SLUG_LENGTH].strip("-")
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:12]
    return f"{readable}-{digest}" if readable else digest


def date_stamp(raw: bytes) -> str:
    """The email's own Date header as `YYYYMMDD-HHMMSS` (zeros if it has none)."""
    headers = BytesHeaderParser(policy=default_policy).parsebytes(raw)
    try:
        sent: datetime | None = headers["Date"].datetime if headers["Date"] else None
    except (AttributeError, TypeError, ValueError):
        sent = None
    return sent.strftime("%Y%m%d-%H%M%S") if sent else _NO_DATE


class OutboxSender:
    """Writes each email to `folder/<date>-<key slug>.eml`, atomically, at most once."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.description = f"outbox folder {self.folder}"

    def path_for(self, email: RenderedEmail) -> Path:
        return self.folder / f"{date_stamp(email.raw)}-{key_slug(email.key)}.eml"

    def existing(self, email: RenderedEmail) -> Path | None:
        """The file already holding this key, whatever Date it was written with."""
        if not self.folder.is_dir():
            return None
        matches = sorted(self.folder.glob(f"*-{key_slug(email.key)}.eml"))
        return matches[0] if matches else None

    def send(self, email: RenderedEmail) -> None:
        if self.existing(email) is not None:
            return
        target = self.path_for(email)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_atomically(target, email.raw)
        except OSError as exc:
            raise MailError(
                f"could not write email {email.subject!r} to {target}: {exc.strerror or exc}"
            ) from exc

    def was_sent(self, email: RenderedEmail) -> bool | None:
        return self.existing(email) is not None
