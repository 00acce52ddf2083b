"""The soak's short version: 20 ticks of random edits on 200 invoices, invariants after each.

The long run is `make soak` (tests/soak.py: 1,000 ticks on 2,000 rows).
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.soak import Soak, SoakFailure, run_soak

ROOT = Path(__file__).resolve().parents[2]


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


def test_make_soak_plays_a_thousand_ticks_on_two_thousand_rows_outside_make_test() -> None:
    """`make soak` is the long run; `make test` (what CI runs) does not include it."""
    soak = subprocess.run(["make", "-n", "soak"], cwd=ROOT, capture_output=True, text=True)
    assert soak.returncode == 0, soak.stderr
    assert re.search(r"-m tests\.soak --ticks 1000 --rows 2000\b", soak.stdout), soak.stdout
    test = subprocess.run(["make", "-n", "test"], cwd=ROOT, capture_output=True, text=True)
    assert test.returncode == 0, test.stderr
    assert "tests.soak" not in test.stdout


def test_the_soak_command_prints_the_counts(tmp_path: Path) -> None:
    command = ["-m", "tests.soak", "--ticks", "3", "--rows", "20", "--dir", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    printed = dict(
        (name.strip(), value.strip())
        for name, value in (line.split(":", 1) for line in result.stdout.splitlines())
    )
    assert printed["ticks"] == "3"
    for name in ("edits", "transitions", "emails", "conflicts", "problems", "tick_p95_s"):
        assert name in printed, result.stdout
    assert int(printed["transitions"]) >= 15  # the first tick submits most of the 20 rows
    assert int(printed["emails"]) >= 15
