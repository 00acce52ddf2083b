"""Diff a tab against the last snapshot, by record ID (never by row number)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from functions.model import BookRead, Cell, Remember, SheetRow, Stored, stored
from functions.record import Record, projection
from functions.text.parsing import text

FieldChanges = dict[str, tuple[Stored, Stored]]


@dataclass(frozen=True)
class TableDiff:
    """What changed in one tab since the snapshot.

    `rows` maps each ID to the row that carries it; when an ID appears on several rows, the
    row most like the snapshot keeps it and the others are listed in `copies`.
    """

    rows: dict[str, SheetRow]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: dict[str, FieldChanges]
    unidentified: tuple[SheetRow, ...]
    copies: dict[str, tuple[SheetRow, ...]] = field(default_factory=dict)

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.removed or self.changed or self.unidentified or self.copies)


def row_values(row: SheetRow, columns: Iterable[str]) -> dict[str, Stored]:
    return {key: stored(row.get(key)) for key in columns}


def _likeness(values: Mapping[str, Stored], row: SheetRow) -> int:
    return sum(stored(row.get(key)) == value for key, value in values.items())


def diff_table(
    snapshot: Mapping[str, Mapping[str, Stored]],
    rows: Sequence[SheetRow],
    id_column: str,
    columns: Sequence[str],
) -> TableDiff:
    """Compare current rows with the snapshot's values (ID → column → value)."""
    by_id: dict[str, list[SheetRow]] = {}
    unidentified: list[SheetRow] = []
    for row in rows:
        value = row.values.get(id_column)
        record = value.strip() if type(value) is str else text(value)  # text(), minus a call
        if record:
            by_id.setdefault(record, []).append(row)
        else:
            unidentified.append(row)

    chosen: dict[str, SheetRow] = {}
    copies: dict[str, tuple[SheetRow, ...]] = {}
    for record, found in by_id.items():
        if len(found) > 1:
            before = snapshot.get(record, {})
            # Stable max: on a tie the first row in sheet order keeps the ID.
            keeper = max(found, key=lambda r: _likeness(before, r))
            copies[record] = tuple(r for r in found if r is not keeper)
            chosen[record] = keeper
        else:
            chosen[record] = found[0]

    changed: dict[str, FieldChanges] = {}
    # Hot path (every row, every tick): compare the raw cells with the snapshot as tuples.
    # Snapshot values are always stored() values, so raw equality implies equality after
    # stored(); anything else (or a column missing on one side) is compared cell by cell.
    pick = projection(columns) if columns else None
    for record, row in chosen.items():
        known = snapshot.get(record)
        if known is None:
            continue
        cells = row.values
        if pick is not None:
            seen = pick(cells)
            if seen is not None and seen == pick(known):
                continue
        if [stored(cells.get(k)) for k in columns] == [known.get(k) for k in columns]:
            continue
        changed[record] = {
            key: (known.get(key), now)
            for key in columns
            if (now := stored(cells.get(key))) != known.get(key)
        }
    return TableDiff(
        rows=chosen,
        added=tuple(r for r in chosen if r not in snapshot),
        removed=tuple(r for r in snapshot if r not in chosen),
        changed=changed,
        unidentified=tuple(unidentified),
        copies=copies,
    )


def sharing_read_values(read: BookRead, id_columns: Mapping[str, str]) -> Remember:
    """Snapshot rows whose values equal the row just read keep that row's values, not a copy.

    Most rows are unchanged between ticks: at 100,000 + 100,000 rows this saves ~45 MB,
    which is what lets a tick fit a 512 MiB Cloud Function. Equal values compare equal in the
    diff, so nothing downstream can tell.
    """
    tables = {}
    for tab, id_column in id_columns.items():
        if tab in read.tables:
            table = read.table(tab)
            by_id: dict[str, Mapping[str, Cell]] = {}
            for row in table.rows:
                by_id.setdefault(text(row.values.get(id_column)), row.values)
            tables[tab] = (projection(table.columns), by_id)

    def remember(tab: str, record: str, entry: Mapping[str, Any]) -> Mapping[str, Any]:
        found = tables.get(tab)
        before = entry.get("values")
        if found is None or before is None or type(entry) is not Record:
            return entry
        pick, by_id = found
        now = by_id.get(record)
        if now is None or now is before:
            return entry
        seen = pick(now)
        if seen is None or seen != pick(before):
            return entry
        return entry.replacing("values", now)

    return remember
