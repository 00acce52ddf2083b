"""What one tick means to do: the sheet's changes, the emails, the state to commit."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from functions.model import EmailIntent, PlannedEntry, SheetChanges
from functions.schema import Locale
from functions.tick.journal import Transition


@dataclass
class TickPlan:
    changes: SheetChanges = field(default_factory=SheetChanges)
    emails: list[EmailIntent] = field(default_factory=list)
    snapshot: dict[str, dict[str, PlannedEntry | None]] = field(default_factory=dict)
    meta: dict[str, Any] = field(default_factory=dict)
    transitions: list[Transition] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    locale: Locale = "en"
    sender: str = ""
    # Rows appended, or values brought in from the CRM or the folder, are planned by the next
    # tick: it must read them even though the book holds only this tick's save.
    reread: bool = False

    def is_empty(self) -> bool:
        return self.changes.is_empty() and not self.emails and not any(self.snapshot.values())
