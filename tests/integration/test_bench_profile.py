"""`make profile`: pyinstrument call trees of the engine and a busy workbook tick."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_make_profile_saves_and_prints_where_a_busy_tick_spends_its_time(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bench.profile", "--rows", "200", "--out", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    engine = (tmp_path / "engine-plan_tick.txt").read_text()
    tick = (tmp_path / "busy-tick-WorkbookBook.txt").read_text()
    # A 200-row plan lasts a few milliseconds: a sampling profiler reliably catches plan_tick
    # itself, not which of its callees a handful of samples happened to land in.
    assert "plan_tick" in engine, engine
    # The whole tick: the read, the plan, the save and the emails all show in the tree.
    for step in ("WorkbookBook.read", "plan_tick", "WorkbookBook.apply", "Engine.deliver"):
        assert step in tick, (step, tick)
    assert (tmp_path / "busy-tick-WorkbookBook.html").read_text().lstrip().startswith("<")
    assert "== busy-tick-WorkbookBook ==" in result.stderr
    assert "workbook busy tick:" in result.stdout
    assert "EVENT" not in result.stdout  # the workers' bench lines are not the user's output


def test_make_profile_runs_the_profiler_outside_make_test() -> None:
    dry = subprocess.run(["make", "-n", "profile"], cwd=ROOT, capture_output=True, text=True)
    assert dry.returncode == 0, dry.stderr
    assert "-m bench.profile --rows 10000" in dry.stdout
