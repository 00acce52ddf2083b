"""What the crash-recovery tests share, on the workbook and on Google: where a tick dies."""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

from functions.model import RenderedEmail
from functions.ports import MailSender

# The engine's own checkpoints, then after each email of a tick (a story's tick sends up to
# four) and just before / after an SMTP hand-over.
CHECKPOINTS = ["read", "journal_saved", "sheet_applied", "before_commit", "committed"]
MAIL_POINTS = ["email 1", "email 2", "email 3", "email 4", "before send", "after send"]


class Crash(Exception):
    """The injected fault: the tick dies here."""


class Fault(Protocol):
    point: str

    def fire(self) -> None: ...


class FiresAtPoint:
    """The engine checkpoint every fault shares: fire at `point`, counting the tick's emails.

    A subclass says how it dies (`fire`): raising `Crash`, ending its process, or waiting to be
    killed; `email N` is reached when the tick has sent its N-th email.
    """

    point: str
    emails: int

    def fire(self) -> None:
        raise NotImplementedError

    def checkpoint(self, step: str) -> None:
        if step == "email_sent":
            self.emails += 1
            if self.point == f"email {self.emails}":
                self.fire()
        if step == self.point:
            self.fire()


def dies_at(point: str | None) -> Callable[[str], None]:
    """An engine checkpoint that raises `Crash` at `point` (and never when it is None)."""

    def checkpoint(step: str) -> None:
        if step == point:
            raise Crash(step)

    return checkpoint


class DyingSender:
    """Dies just before handing an email over, or just after the server accepted it."""

    def __init__(self, inner: MailSender, fault: Fault) -> None:
        self.inner, self.fault = inner, fault
        self.description = inner.description

    def send(self, email: RenderedEmail) -> None:
        if self.fault.point == "before send":
            self.fault.fire()
        self.inner.send(email)
        if self.fault.point == "after send":
            self.fault.fire()

    def was_sent(self, email: RenderedEmail) -> bool | None:
        return self.inner.was_sent(email)


def steps_reaching(point: str, emails_per_step: list[int]) -> list[int]:
    """The story's steps whose tick gets as far as `point` (every step sends an email)."""
    if point.startswith("email "):  # the steps whose tick sends at least that many emails
        nth = int(point.split()[1])
        return [i for i, n in enumerate(emails_per_step) if n >= nth]
    return list(range(len(emails_per_step)))
