"""The invoices folder is looked at once per tick, where Settings name it."""

from __future__ import annotations

from collections.abc import Container
from datetime import timedelta
from pathlib import Path
from typing import Any

from functions.adapters.sqlite.state import SqliteState
from functions.model import FolderScan
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.builders import NOW
from tests.fakes import FakeBook, FakeMail
from tests.unit.test_engine import PEOPLE


class CountingFolder:
    """An empty folder that remembers where it was looked at."""

    def __init__(self) -> None:
        self.scans: list[str] = []

    def scan(self, location: str, cursor: dict[str, Any], seen: Container[str]) -> FolderScan:
        self.scans.append(location)
        return FolderScan(location, cursor={"looks": len(self.scans)})


def test_each_tick_looks_at_the_folder_once_also_when_settings_name_another(
    tmp_path: Path,
) -> None:
    book = FakeBook(PEOPLE)
    book.tabs["settings"].append({"key": "Invoices folder", "value": "inbox"})
    folder = CountingFolder()
    state = SqliteState(tmp_path / "state.sqlite")
    engine = Engine(book, state, FakeMail(), EmailRenderer(), load_schema(), folder=folder)
    engine.tick(NOW)
    assert folder.scans == ["inbox"]
    setting = next(r for r in book.tabs["settings"] if r["key"] == "Invoices folder")
    setting["value"] = "new inbox"
    engine.tick(NOW + timedelta(minutes=1))
    assert folder.scans == ["inbox", "new inbox"]  # not the old folder first
    engine.tick(NOW + timedelta(minutes=2))
    assert folder.scans == ["inbox", "new inbox", "new inbox"]
