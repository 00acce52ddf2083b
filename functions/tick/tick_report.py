"""What one tick did, told to the person or the scheduler that ran it."""

from __future__ import annotations

from dataclasses import dataclass, field

from functions.model import StatusChange


@dataclass
class TickReport:
    """What one tick did, for the CLI summary and the Cloud Function's JSON response."""

    outcome: str = "done"  # done | idle | skipped | busy | retry
    message: str = ""
    transitions: list[StatusChange] = field(default_factory=list)
    emails: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    set_aside: list[str] = field(default_factory=list)  # writes refused for good (ERROR)
    locale: str = "en"  # the book's language, which the messages above are written in
