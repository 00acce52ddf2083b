"""The tick journal as JSON: a plan saved before it is applied, so a crash can finish it."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from functions.model import (
    CellLock,
    CellWrite,
    LogEntry,
    QueueView,
    ReportTab,
    RowAppend,
    SheetChanges,
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
