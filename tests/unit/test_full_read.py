"""A Drive version that says "nothing changed" may lag: a full read comes at least every 5 min."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from functions.tick.freshness import FULL_READ
from tests.builders import NOW, invoice
from tests.fakes import FakeBook, FakeMail

PEOPLE = [("Maria Lopez", "maria@example.com", "manager", "Yes")]


class LaggingBook(FakeBook):
    """A book whose version never moves, as a lagging Drive version would answer."""

    version_may_lag = True

    def version(self) -> str:
        self.version_checks += 1
        return "v1"


def test_a_book_whose_version_lags_is_read_again_after_five_minutes(tmp_path: Path) -> None:
    book = LaggingBook(PEOPLE)
    engine = Engine(
        book, SqliteState(tmp_path / "s.sqlite"), FakeMail(), EmailRenderer(), load_schema()
    )
    engine.tick(NOW)
    reads = book.reads
    book.tabs["invoices"].append(invoice(id=None))  # typed, but the version did not move
    for minutes in range(1, int(FULL_READ // 60) + 1):
        assert engine.tick(NOW + timedelta(minutes=minutes)).outcome == "idle"
    assert book.reads == reads  # within five minutes the version alone decides
    report = engine.tick(NOW + timedelta(seconds=FULL_READ + 61))
    assert book.reads == reads + 1
    assert report.outcome == "done"  # the new row was seen after all
    assert book.tabs["invoices"][0]["id"] == "INV-000001"


class CountingState(SqliteState):
    snapshots = 0

    def load_snapshot(self, remember=None, tabs=None):  # type: ignore[no-untyped-def]
        self.snapshots += 1
        return super().load_snapshot(remember)


def test_a_periodic_full_read_that_finds_nothing_new_loads_no_snapshot(tmp_path: Path) -> None:
    book = LaggingBook(PEOPLE)
    book.tabs["invoices"].append(invoice(id=None))
    state = CountingState(tmp_path / "s.sqlite")
    engine = Engine(book, state, FakeMail(), EmailRenderer(), load_schema())
    engine.tick(NOW)
    engine.tick(NOW + timedelta(seconds=FULL_READ + 1))  # reads its own write: new values
    reads, snapshots, applies = book.reads, state.snapshots, book.applies
    later = NOW + timedelta(seconds=3 * FULL_READ)
    assert engine.tick(later).outcome == "idle"
    assert book.reads == reads + 1  # the tabs were read again ...
    assert (state.snapshots, book.applies) == (snapshots, applies)  # ... and matched
    assert engine.tick(later + timedelta(minutes=1)).outcome == "idle"
    assert book.reads == reads + 1  # and the next minute trusts the version again


def test_a_book_whose_version_never_lags_is_not_read_again_while_nothing_changed(
    tmp_path: Path,
) -> None:
    book = FakeBook(PEOPLE)  # like a workbook: its version is its size and modification time
    book.version = lambda: "v1"  # type: ignore[method-assign]
    state = SqliteState(tmp_path / "s.sqlite")
    engine = Engine(book, state, FakeMail(), EmailRenderer(), load_schema())
    engine.tick(NOW)
    reads = book.reads
    assert engine.tick(NOW + timedelta(minutes=30)).outcome == "idle"
    assert book.reads == reads  # no periodic full read: 30 minutes later, nothing read
