"""Lock protections, reconciled with a tick's locks and with where the records are now.

A lock is a one-cell protected range named after its record (`cells.lock_description`), so it
follows the record when people sort: each tick moves it to the record's row, narrows or widens
who may edit it, and removes it once the lock is lifted or the record's row is gone.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from functions.adapters.gsheets.answers import Tab
from functions.adapters.gsheets.cells import (
    JSON,
    grid,
    lock_description,
    lock_editors,
    protection,
    same_range,
)
from functions.adapters.gsheets.grid import TabGrid
from functions.adapters.gsheets.protections import Protection, Protections
from functions.model import CellLock


def lock_requests(
    locks: Sequence[CellLock], tabs: Sequence[Tab], grids: Mapping[str, TabGrid], robot: str
) -> Iterator[tuple[int, list[JSON]]]:
    """Per lock key, its index in `locks` (-1: a lock no change names, tidied) and the
    requests that reconcile its protections.

    A big sheet holds a lock per locked cell (180,000 at 100,000 invoices): they are
    indexed by column, then by record (the strings the protections already hold), and
    only the ones a key names are made into `Protection`s.
    """
    wanted: dict[tuple[str, str, str], CellLock] = {}
    by_column: dict[tuple[str, str], set[str]] = {}
    positions: dict[tuple[str, str, str], int] = {}  # a lock key's index in `locks`
    for index, lock in enumerate(locks):
        wanted[(lock.tab, lock.record, lock.column)] = lock
        positions[(lock.tab, lock.record, lock.column)] = index
        by_column.setdefault((lock.tab, lock.column), set()).add(lock.record)
    # (tab, column) → record → where: which tab's protections (high bits) and the position
    # there, one int; the rare repeats of a lock apart
    existing: dict[tuple[str, str], dict[str, int]] = {}
    repeated: dict[tuple[str, str, str], list[int]] = {}
    for at, tab in enumerate(tabs):
        for position, key_tab, record, column in _lock_protections(tab):
            if key_tab not in grids:
                continue
            records = existing.setdefault((key_tab, column), {})
            where = at << 32 | position
            if record in records:
                repeated.setdefault((key_tab, record, column), []).append(where)
            else:
                records[record] = where
    for tab_column in sorted(set(by_column) | set(existing)):
        records = existing.get(tab_column, {})
        for record in sorted(by_column.get(tab_column, set()) | set(records)):
            key = (tab_column[0], record, tab_column[1])
            places = [records[record]] if record in records else []
            found = [
                tabs[where >> 32].protections[where & 0xFFFFFFFF]
                for where in places + repeated.get(key, [])
            ]
            index = positions.get(key, -1)  # -1: tidying a lock no change names
            yield index, _lock(key, wanted.get(key), found, grids, robot)


def _lock_protections(tab: Tab) -> Iterator[tuple[int, str, str, str]]:
    """(position, tab, record, column) of each lock protection of this tab."""
    found = tab.protections  # a Protections when parsed; a tab added here has none
    yield from (found if isinstance(found, Protections) else Protections(found)).locks()


def _lock(
    key: tuple[str, str, str],
    lock: CellLock | None,
    found: list[Protection],
    grids: Mapping[str, TabGrid],
    robot: str,
) -> list[JSON]:
    """The requests that make the protections found for one lock key what it should be."""
    out: list[JSON] = []
    tab = grids.get(key[0])
    row = tab.row_of(key[1], None) if tab is not None else None
    if tab is None or row is None or (lock is not None and not lock.locked):
        for old in found:  # unlocked, or the record's row is gone
            out.append({"deleteProtectedRange": {"protectedRangeId": old.id}})
        return out
    col = tab.columns[key[2]]
    target = grid(tab.tab.sheet_id, row - 1, row, col, col + 1)
    editors = [robot, *(lock.editors if lock else ())]
    for extra in found[1:]:
        out.append({"deleteProtectedRange": {"protectedRangeId": extra.id}})
    if not found:
        description = lock_description(*key, lock.editors if lock else ())
        out.append(protection(target, description, *editors))
        return out
    current = found[0]
    # Exactly the people it was made for: a decision protected for its signer narrows to
    # sheetflow alone once the invoice is claimed (the description records who they are).
    granted = lock_editors(current.description)
    if lock is not None and tuple(lock.editors) != granted:
        out.append(
            {
                "updateProtectedRange": {
                    "protectedRange": {
                        "protectedRangeId": current.id,
                        "range": target,
                        "description": lock_description(*key, lock.editors),
                        "editors": {"users": editors, "domainUsersCanEdit": False},
                    },
                    "fields": "range,description,editors",
                }
            }
        )
    elif not same_range(current.range, target):
        out.append(
            {
                "updateProtectedRange": {
                    "protectedRange": {
                        "protectedRangeId": current.id,
                        "range": target,
                        "editors": {
                            "users": sorted({*current.editors, *editors}),
                            "domainUsersCanEdit": False,
                        },
                    },
                    "fields": "range,editors",
                }
            }
        )
    return out
