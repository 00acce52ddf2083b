"""Compact read-only rows: how 100,000 + 100,000 rows fit a 512 MiB Cloud Function.

A tick holds every row twice (as read, and as the snapshot remembers it). As plain dicts
that is ~650 bytes of hash table per row before any value; a `Record` is a tuple of values
plus a column index shared by every row of the same shape (~200 bytes for 18 columns).
`share` keeps one copy of the many repeated strings (statuses, names, currencies, dates)
instead of one per cell, as a JSON decoder or a spreadsheet reader would.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from operator import itemgetter
from typing import Any

# One index per distinct column tuple, shared by every Record of that shape (a handful).
_SHAPES: dict[tuple[str, ...], dict[str, int]] = {}
# Strings longer than this are rarely repeated (file links, comments): not worth a lookup.
_INTERN_UP_TO = 64


def shape(keys: tuple[str, ...]) -> dict[str, int]:
    """The shared key → position index for rows with exactly these keys, in this order."""
    found = _SHAPES.get(keys)
    if found is None:
        found = _SHAPES.setdefault(keys, {key: i for i, key in enumerate(keys)})
    return found


class Record(Mapping[str, Any]):
    """A read-only mapping of column keys to values, stored as one tuple."""

    __slots__ = ("_index", "_cells")

    def __init__(self, index: dict[str, int], cells: tuple[Any, ...]) -> None:
        self._index = index
        self._cells = cells

    @classmethod
    def of(cls, items: Mapping[str, Any]) -> Record:
        if isinstance(items, Record):
            return items
        return cls(shape(tuple(items)), tuple(items.values()))

    def __getitem__(self, key: str) -> Any:
        return self._cells[self._index[key]]

    def get(self, key: str, default: Any = None) -> Any:
        at = self._index.get(key)
        return default if at is None else self._cells[at]

    def __contains__(self, key: object) -> bool:
        return key in self._index

    def __iter__(self) -> Iterator[str]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._cells)

    def __repr__(self) -> str:
        return f"Record({dict(self)!r})"

    def __reduce__(self) -> tuple[Any, ...]:  # pickles as its items; the index is re-shared
        return (_rebuild, (tuple(self._index), self._cells))

    def replacing(self, key: str, value: Any) -> Record:
        """This record with `key` (which it has) holding `value` instead."""
        at = self._index[key]
        return Record(self._index, (*self._cells[:at], value, *self._cells[at + 1 :]))


def projection(columns: Sequence[str]) -> Callable[[Mapping[str, Any]], tuple[Any, ...] | None]:
    """A function giving a row's values in `columns` order, at C speed for Records.

    None when the row lacks one of the columns. Rows read from a sheet and rows loaded from
    the snapshot have different key orders; the index positions are worked out once per shape.
    """
    by_key = itemgetter(*columns)
    by_shape: dict[int, Callable[[tuple[Any, ...]], Any] | None] = {}
    single = len(columns) == 1

    def project(row: Mapping[str, Any]) -> tuple[Any, ...] | None:
        if type(row) is Record:
            index = row._index
            pick = by_shape.get(id(index), _UNSEEN)  # shapes live as long as the process
            if pick is _UNSEEN:
                known = all(c in index for c in columns)
                pick = itemgetter(*(index[c] for c in columns)) if known else None
                by_shape[id(index)] = pick
            if pick is None:
                return None
            found = pick(row._cells)
        else:
            try:
                found = by_key(row)
            except KeyError:
                return None
        return (found,) if single else found

    return project


_UNSEEN: Any = object()


def _rebuild(keys: tuple[str, ...], cells: tuple[Any, ...]) -> Record:
    return Record(shape(keys), cells)


def as_json(value: Any) -> Any:
    """`json.dumps(..., default=as_json)`: a Record is written as the object it stands for."""
    if isinstance(value, Record):
        return dict(value)
    raise TypeError(f"{type(value).__name__} is not JSON serializable")


def same_entry(a: object, b: object) -> bool:
    """Whether two snapshot entries hold the same, as the state would store them."""
    return _canonical(a) == _canonical(b)


def _canonical(entry: object) -> str:
    return json.dumps(entry, sort_keys=True, default=as_json)


def share(value: Any) -> Any:
    """One copy of each short text in the process (`sys.intern`, freed when unused).

    Rows as read and rows as remembered then hold the same string objects, which also lets
    the diff's tuple comparison succeed on identity instead of comparing text.
    """
    if type(value) is str and len(value) <= _INTERN_UP_TO:
        return sys.intern(value)
    return value


def compact(keys: tuple[str, ...], values: Iterable[Any]) -> Record:
    """A row of these keys and values, its texts shared."""
    return Record(shape(keys), tuple(map(share, values)))


def freeze(value: Any) -> Any:
    """A decoded JSON object as nested Records (lists stay lists), its texts shared."""
    if type(value) is dict:
        return Record(shape(tuple(value)), tuple(freeze(v) for v in value.values()))
    if type(value) is list:
        return [freeze(v) for v in value]
    return share(value)
