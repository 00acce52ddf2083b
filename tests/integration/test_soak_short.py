"""The soak's short version: 20 ticks of random edits on 200 invoices, invariants after each.

The long run is `make soak` (tests/soak.py: 1,000 ticks on 2,000 rows).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.soak import Soak, SoakFailure, run_soak


def test_twenty_ticks_of_random_edits_keep_every_invariant(tmp_path: Path) -> None:
    counts = run_soak(ticks=20, rows=200, seed=7, folder=tmp_path)

    assert counts["ticks"] == 20
    assert counts["edits"] >= 20
    assert counts["transitions"] >= 200  # the first tick alone submits most of the 200 rows
    assert counts["emails"] >= 180
    assert counts["conflicts"] >= 1  # overwritten locked and automation cells were restored
    assert counts["problems"] >= 1


def test_the_soak_notices_a_typed_value_that_vanished(tmp_path: Path) -> None:
    """The invariants can fail: a value the model says was typed but is not in the sheet."""
    soak = Soak(tmp_path, rows=5, seed=1)
    soak.tick()
    soak.check()
    number = next(iter(soak.typed))
    soak.typed[number]["comment"] = "typed, then lost"

    with pytest.raises(SoakFailure, match="Comment: typed 'typed, then lost', now None"):
        soak.check()


def test_the_soak_notices_an_email_written_twice(tmp_path: Path) -> None:
    soak = Soak(tmp_path, rows=3, seed=1)
    soak.tick()
    soak.check()
    first = sorted((tmp_path / "outbox").glob("*.eml"))[0]
    (tmp_path / "outbox" / ("copy-" + first.name)).write_bytes(first.read_bytes())

    with pytest.raises(SoakFailure, match="written twice"):
        soak.check()
