"""The benchmark's own ticks as cases for bench/check_workbook_fast.py.

The bench scenario (bench/scenario.py) at a size with rows below the prepared ones: the busy
tick after people's edits (transitions, locks, typed dates, Log, queues). The first tick on
the seeded book writes nothing (the seed is the state that book's tick leaves); a tick after
a People edit rewrites the Lists tab, which the fast path leaves to openpyxl. The tick's
SheetChanges are captured from a real engine tick on a copy of the book, then applied to the
book as it was before that tick, by both paths.
"""

from __future__ import annotations

import os
import pickle
import shutil
from pathlib import Path
from typing import Any

from functions.adapters.workbook import book as workbook_module
from functions.model import SheetChanges

SIZE = 1_100  # invoices (and deals): a hundred rows below the 1,000 prepared ones


def scenario_cases(folder: Path) -> list[tuple[str, Path, SheetChanges]]:
    """(name, the book before the tick, what the tick wrote) for the first and a busy tick."""
    from functions.wiring.bootstrap import Config, build_engine

    from .scenario import START, TICK
    from .seed import prepare, type_into_workbook

    work = folder / "scenario"
    os.environ.pop("BENCH_FIRESTORE_ROOT", None)
    prepare(SIZE, work, None)
    with (work / "seed.pkl").open("rb") as source:
        edits = pickle.load(source)["edits"]
    book = work / "book.xlsx"
    captured: list[SheetChanges] = []
    original = workbook_module.WorkbookBook.apply

    def capture(self: Any, changes: SheetChanges, fingerprint: str | None) -> list[str]:
        captured.append(changes)
        return original(self, changes, fingerprint)

    cases = []
    workbook_module.WorkbookBook.apply = capture  # type: ignore[method-assign]
    try:
        engine = build_engine(Config(str(book)))
        engine.tick(START + TICK)  # the prepared book's first tick: nothing to write
        for k, name in ((3, "a busy tick"),):
            type_into_workbook(book, edits)
            before = folder / f"scenario-{k}.xlsx"
            shutil.copy(book, before)
            captured.clear()
            engine.tick(START + k * TICK)
            if len(captured) != 1:
                raise RuntimeError(f"the bench's {name} wrote {len(captured)} times, not once")
            cases.append((f"the bench scenario at {SIZE:,} rows: {name}", before, captured[0]))
    finally:
        workbook_module.WorkbookBook.apply = original  # type: ignore[method-assign]
    return cases
