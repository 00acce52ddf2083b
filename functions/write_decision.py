"""Whether each write of a `SheetChanges` may be put, decided once for every backend.

A write is compare-and-set: it goes to the row that holds its record now (people sort and
delete rows between the read and the write) and only while the cell still holds the value the
plan read, so a person's newer edit is never overwritten. The openpyxl writer, the fast
workbook path and the Google writer ask this module and only render its answer; what they
differ in (how a cell is read, how a value is written) stays with them.

It sits beside `model.py`, whose `SheetChanges` it judges, and not in `tick/`: the adapters
import it, and the tick package holds the engine that drives the adapters.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from functions.model import Cell, CellLock, CellWrite, RowAppend, SheetChanges, stored
from functions.schema import DATA_ROWS, PROTECTED_TABS, Locale, Schema
from functions.text.messages import say
from functions.text.parsing import text


class WriteTarget(Protocol):
    """One tab as a backend sees it at write time."""

    def row_of(self, record: str, hint: int | None) -> int | None:
        """The row holding this ID now (`RowsById` finds it), None when no row does."""

    def current(self, row: int, column: str) -> Cell:
        """The cell's value now. A backend may open the cell here: add an optional column the
        book lacks, or give up on a cell it cannot compare (a formula on the fast path)."""


@dataclass(frozen=True)
class WriteDecision:
    """Where a write goes and whether it is put; `note` says why not, for the tick's report."""

    row: int | None  # None: no row holds the record any more
    put: bool
    note: str | None = None


def in_write_order(writes: Iterable[CellWrite], schema: Schema) -> list[tuple[int, CellWrite]]:
    """The writes with their positions in the plan, those that assign an ID first: a write
    for a new ID then finds its row."""

    def assigns_id(write: CellWrite) -> bool:
        return write.record is None and write.column == schema.tab(write.tab).id_column

    return sorted(enumerate(writes), key=lambda pair: not assigns_id(pair[1]))


class RowWriter(Protocol):
    """A workbook writer's three row operations, which `put_rows` calls in their order."""

    def append(self, append: RowAppend) -> None: ...

    def write(self, write: CellWrite) -> str | None:
        """Put one write as `decide_write` says; the note when it was not put."""

    def lock(self, lock: CellLock) -> None: ...


def put_rows(changes: SheetChanges, writer: RowWriter, schema: Schema) -> list[str]:
    """Appends first (a write in the same plan may name the new ID), then the writes in write
    order, then the locks; the notes of the writes that were not put."""
    for append in changes.appends:
        writer.append(append)
    ordered = in_write_order(changes.writes, schema)
    skipped = [note for _index, write in ordered if (note := writer.write(write))]
    for lock in changes.locks:
        writer.lock(lock)
    return skipped


def decide_write(
    write: CellWrite, target: WriteTarget, schema: Schema, locale: Locale
) -> WriteDecision:
    """Put the value only where the record still is and the cell still holds what was read;
    a cell that already holds the value needs no write and no note."""
    header = schema.tab(write.tab).column(write.column).header[locale]
    label = f"{write.record or say(locale, 'write_row_label', row=write.row)} {header}"
    row = write.row if write.record is None else target.row_of(write.record, write.row)
    if row is None:
        return WriteDecision(None, put=False, note=say(locale, "write_row_gone", label=label))
    current = stored(target.current(row, write.column))
    if current == stored(write.value):
        return WriteDecision(row, put=False)
    if current != write.expected:
        return WriteDecision(
            row, put=False, note=say(locale, "write_kept_persons_value", label=label)
        )
    return WriteDecision(row, put=True)


def unlocks_people_cells(tab: str, row: int) -> bool:
    """A row below the ones `init` prepared gets its people's cells unlocked when written."""
    return row > DATA_ROWS and tab in PROTECTED_TABS


class RowsById:
    """Rows found by ID: the planned row while it still holds the ID, else the first row that
    does (a duplicated ID is the person's to resolve; the tick flags it)."""

    def __init__(
        self, id_at: Callable[[int], Cell], ids: Callable[[], Iterable[tuple[int, Cell]]]
    ) -> None:
        self._id_at = id_at  # the ID cell of one row
        self._ids = ids  # (row, ID cell) of every row, top to bottom
        self._rows: dict[str, int] | None = None

    def row_of(self, record: str, hint: int | None) -> int | None:
        # Row 1 is the header; an appended row's writes carry no row (0).
        if hint is not None and hint > 1 and text(self._id_at(hint)) == record:
            return hint
        if self._rows is None:
            self._rows = {}
            for row, value in self._ids():
                if row > 1 and (found := text(value)):
                    self._rows.setdefault(found, row)
        return self._rows.get(record)

    def forget(self) -> None:
        """An ID cell was written: look again next time."""
        self._rows = None
