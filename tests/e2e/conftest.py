"""The book most end-to-end stories start from: made by `sheetflow init`, People filled in."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.cli import init_with_people


@pytest.fixture
def book(tmp_path: Path) -> Path:
    path = tmp_path / "books" / "sheetflow.xlsx"
    path.parent.mkdir()
    return init_with_people(path)
