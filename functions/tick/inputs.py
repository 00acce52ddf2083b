"""Everything one tick plans from, gathered by the engine before the plan is made."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from functions.model import BookRead, Cell, CrmPull, FolderScan, Snapshot
from functions.tick.freshness import Freshness


@dataclass(frozen=True)
class ReportDue:
    """A monthly report the tick writes: its month and the Log rows the book holds."""

    month: str
    log: Iterable[Sequence[Cell]]  # streamed: iterate once, as the plan counts it


@dataclass
class TickInputs:
    """What the book, the state, the folder and the CRM said at the start of one tick.

    A new input (a bank statement, say) is one more field here, gathered by the engine and
    planned by `assemble.plan_whole_tick`.
    """

    read: BookRead
    meta: dict[str, Any]  # the state's meta as the last tick committed it
    now: datetime
    flows: frozenset[str]
    freshness: Freshness
    digest: str  # of what was read (freshness.read_digest)
    snapshot: Snapshot = field(default_factory=dict)  # the flows' own rows, as last seen
    folder: FolderScan | None = None  # the invoices folder's new files
    crm: CrmPull | None = None  # what Bitrix24 brought, when it feeds Deals
    report: ReportDue | None = None  # the monthly report, when due
    folder_news: bool = False  # the folder has files or a problem came or went

    def take_snapshot(self) -> Snapshot:
        """The snapshot, no longer held here: at 100,000 rows it is the tick's biggest object,
        and the plan lets it go once the rows are planned."""
        snapshot, self.snapshot = self.snapshot, {}
        return snapshot
