"""A tab's protected ranges, kept column-wise: a big sheet holds one per locked cell.

100,000 invoices leave ~180,000 one-cell lock protections. As a Python object each (its id,
its range as a dict or tuple of ints, its description text) they took ~65 MiB of a Cloud
Function's 512; here each is an id and a range in arrays of machine integers, and a lock's
description is kept as its parts: the record (the same string object as the ID cell read from
the sheet) and the tab, column and editors, shared by every lock alike. `Protection`s are made
again on demand, exactly as received.
"""

from __future__ import annotations

from array import array
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any, overload

from functions.adapters.gsheets.cells import lock_description, lock_editors, parse_lock
from functions.record import share

JSON = dict[str, Any]
# A GridRange's fields (Sheets API v4); a field left out of a range is stored as _ABSENT.
SPAN_FIELDS = ("sheetId", "startRowIndex", "endRowIndex", "startColumnIndex", "endColumnIndex")
_ABSENT = -(2**62)


@dataclass(frozen=True, slots=True)
class Protection:
    """One protected range as Google gave it."""

    id: int
    description: str
    span: tuple[tuple[str, ...], tuple[Any, ...]]  # the GridRange: its fields, its values
    editors: tuple[str, ...] = ()

    @property
    def range(self) -> JSON:
        return dict(zip(*self.span, strict=True))


@dataclass(frozen=True, slots=True)
class LockKey:
    """What a lock protection's description names: shared by every lock of a tab's column."""

    tab: str
    column: str
    granted: tuple[str, ...]  # the people the lock was made for (its description says)


_SHARED: dict[Any, Any] = {}


def shared(value: Any) -> Any:
    """One copy of each editors list, range shape and lock key (most locks repeat them)."""
    if len(_SHARED) > 100_000:
        _SHARED.clear()
    return _SHARED.setdefault(value, value)


class Protections(Sequence[Protection]):
    """The protected ranges of one tab, in the order Google lists them."""

    __slots__ = ("_ids", "_spans", "_shapes", "_editors", "_records", "_texts", "_odd")

    def __init__(self, found: Iterable[Protection] = ()) -> None:
        self._ids = array("q")
        self._spans = array("q")  # len(SPAN_FIELDS) per protection
        self._shapes: list[tuple[str, ...]] = []  # which fields its range has, in its order
        self._editors: list[tuple[str, ...]] = []
        self._records: list[str | None] = []  # a lock's record; None: see _texts
        self._texts: list[str | LockKey] = []  # a lock's key, else the description itself
        self._odd: dict[int, Protection] = {}  # a range not made of GridRange's integers
        for protection in found:
            self.append(protection)

    def append(self, protection: Protection) -> None:
        fields, values = protection.span
        spans = dict(zip(fields, values, strict=True))
        if set(fields) - set(SPAN_FIELDS) or not all(type(v) is int for v in values):
            self._odd[len(self)] = protection  # kept as it came (Google sends none such)
            spans = {}
        self._ids.append(protection.id)
        self._spans.extend(spans.get(name, _ABSENT) for name in SPAN_FIELDS)
        self._shapes.append(shared(tuple(fields)))
        self._editors.append(shared(tuple(protection.editors)))
        key = parse_lock(protection.description)
        if key is not None:
            lock = LockKey(key[0], key[2], lock_editors(protection.description))
            if lock_description(key[0], key[1], key[2], lock.granted) == protection.description:
                self._records.append(share(key[1]))
                self._texts.append(shared(lock))
                return
        self._records.append(None)
        self._texts.append(protection.description)

    def __len__(self) -> int:
        return len(self._ids)

    @overload
    def __getitem__(self, index: int) -> Protection: ...

    @overload
    def __getitem__(self, index: slice) -> Sequence[Protection]: ...

    def __getitem__(self, index: int | slice) -> Protection | Sequence[Protection]:
        if isinstance(index, slice):
            return [self[i] for i in range(len(self))[index]]
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index %= len(self)
        if index in self._odd:
            return self._odd[index]
        shape = self._shapes[index]
        start = index * len(SPAN_FIELDS)
        spans = dict(zip(SPAN_FIELDS, self._spans[start : start + len(SPAN_FIELDS)], strict=True))
        values = tuple(spans[name] for name in shape)
        editors = self._editors[index]
        return Protection(self._ids[index], self.description(index), (shape, values), editors)

    def __iter__(self) -> Iterator[Protection]:
        return (self[i] for i in range(len(self)))

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Protections | tuple | list):
            return len(self) == len(other) and all(a == b for a, b in zip(self, other, strict=True))
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(self._ids))

    def __repr__(self) -> str:
        return f"Protections({list(self)!r})"

    def description(self, index: int) -> str:
        text = self._texts[index]
        record = self._records[index]
        if isinstance(text, LockKey) and record is not None:
            return lock_description(text.tab, record, text.column, text.granted)
        return str(text)

    def locks(self) -> Iterator[tuple[int, str, str, str]]:
        """(position, tab, record, column) of each lock protection, without making one."""
        for index, (record, text) in enumerate(zip(self._records, self._texts, strict=True)):
            if record is not None and isinstance(text, LockKey):
                yield index, text.tab, record, text.column
            elif isinstance(text, str) and (key := parse_lock(text)) is not None:
                yield index, *key  # ours, written some other way (kept as it came)
