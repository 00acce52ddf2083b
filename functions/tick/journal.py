"""The tick journal: a plan saved before it is applied, so a crash can finish it.

The engine works on a `Journal`; the state store keeps its JSON (`to_json`, `from_json`),
whose shape older journals share.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from functions.model import (
    JSON,
    CellLock,
    CellWrite,
    LogEntry,
    QueueView,
    ReportTab,
    RowAppend,
    SheetChanges,
    StatusChange,
)


@dataclass
class Journal:
    """What a tick is about to do, kept until it is committed."""

    changes: SheetChanges
    snapshot: dict[str, dict[str, JSON | None]]  # the rows to commit (None deletes)
    meta: JSON  # the state's meta after this tick
    transitions: list[StatusChange] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)
    locale: str = "en"  # the book's language, for the Notes and Log lines a replay writes
    applied: bool = False  # the sheet holds the changes; what is left is the commit
    reread: bool = False  # rows yet to plan: the next tick must read the book again
    refusals: dict[str, int] = field(default_factory=dict)  # refusal signature → count

    def to_json(self) -> JSON:
        data: JSON = {
            "changes": encode_changes(self.changes),
            "snapshot": self.snapshot,
            "meta": self.meta,
            "transitions": self.transitions,
            "conflicts": self.conflicts,
            "locale": self.locale,
            "applied": self.applied,
            "reread": self.reread,
        }
        if self.refusals:
            data["refusals"] = self.refusals
        return data

    @classmethod
    def from_json(cls, data: JSON) -> Journal:
        return cls(
            decode_changes(data["changes"]),
            data["snapshot"],
            data["meta"],
            [(str(r), str(a), str(b)) for r, a, b in data.get("transitions") or ()],
            [str(c) for c in data.get("conflicts") or ()],
            str(data.get("locale") or "en"),
            bool(data.get("applied")),
            bool(data.get("reread")),
            dict(data.get("refusals") or {}),
        )


def encode_changes(changes: SheetChanges) -> dict[str, Any]:
    return {
        "writes": [asdict(w) for w in changes.writes],
        "locks": [asdict(lock) for lock in changes.locks],
        "log": [asdict(entry) for entry in changes.log],
        "queues": None if changes.queues is None else [asdict(q) for q in changes.queues],
        "lists": changes.lists,
        "reports": None if changes.reports is None else [asdict(r) for r in changes.reports],
        "appends": [asdict(a) for a in changes.appends],
    }


def decode_changes(data: dict[str, Any]) -> SheetChanges:
    queues = data.get("queues")
    return SheetChanges(
        writes=[CellWrite(**w) for w in data["writes"]],
        locks=[CellLock(**{**lock, "editors": tuple(lock["editors"])}) for lock in data["locks"]],
        log=[LogEntry(**entry) for entry in data["log"]],
        queues=None
        if queues is None
        else [
            QueueView(
                q["accountant"],
                q["title"],
                tuple(q["headers"]),
                tuple(tuple(row) for row in q["rows"]),
            )
            for q in queues
        ],
        lists=data.get("lists"),
        reports=None
        if data.get("reports") is None
        else [
            ReportTab(
                r["title"],
                tuple(r["headers"]),
                tuple(r["formats"]),
                tuple(tuple(row) for row in r["rows"]),
                r["chart_column"],
            )
            for r in data["reports"]
        ],
        appends=[RowAppend(**a) for a in data.get("appends", ())],  # none in older journals
    )
