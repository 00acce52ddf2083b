"""The measurements, each run in a fresh process so its peak memory belongs to one size.

    python -m bench.workers prepare|engine|workbook|google N FOLDER

Each prints progress lines and, last, one line `RESULT {json}`. Peak memory is this
process's `ru_maxrss` (the double's child process and the Firestore emulator are separate
and reported apart).
"""

from __future__ import annotations

import contextlib
import functools
import gc
import json
import os
import pickle
import resource
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from functions.schema import load_schema

from .scenario import START, TICK, book_read

SCHEMA = load_schema()
ENGINE_REPEATS = 3
NAIVE_SECONDS = 20.0  # the naive script runs at most this long; the rest is extrapolated
QUOTA_PER_MINUTE = 60  # Sheets API: write requests per minute per user (documented default)
PROJECT = "sheetflow-test"
MONTH_LATER = 9_000  # at(MONTH_LATER): 2026-12-03, a tick in the month after the others


def rss_mib() -> float:
    """This process's peak resident set (VmHWM: unlike ru_maxrss, not inherited at fork)."""
    return peak_rss_mib()


def peak_rss_mib() -> float:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def say(event: str, **fields: Any) -> None:
    print("EVENT " + json.dumps({"event": event, **fields}), flush=True)


def at(k: int) -> Any:
    return START + k * TICK


# --- prepare -------------------------------------------------------------------------------


def prepare(n: int, folder: Path) -> dict[str, Any]:
    from .seed import prepare as build

    root = os.environ.get("BENCH_FIRESTORE_ROOT")
    return build(n, folder, f"{root}-n{n}" if root else None)


def reseed(n: int, folder: Path) -> dict[str, Any]:
    """The prepared state again, under BENCH_FIRESTORE_ROOT: a measurement of its own starts
    from the steady state, not from what an earlier one's ticks left."""
    from .seed import seed_firestore

    with (folder / "seed.pkl").open("rb") as source:
        seed = pickle.load(source)
    started = time.perf_counter()
    seed_firestore(f"{os.environ['BENCH_FIRESTORE_ROOT']}-n{n}", seed["snapshot"], seed["meta"])
    return {"firestore_seed_s": time.perf_counter() - started}


# --- profiling: `make profile` (bench/profile.py) sets BENCH_PROFILE to a folder -----------


@contextlib.contextmanager
def profiled(name: str, wanted: bool = True) -> Iterator[None]:
    """Profile the block with pyinstrument when BENCH_PROFILE names a folder; print the tree."""
    folder = os.environ.get("BENCH_PROFILE")
    if not (wanted and folder):
        yield
        return
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.001)
    profiler.start()
    try:
        yield
    finally:
        profiler.stop()
        tree = profiler.output_text(unicode=True, color=False)
        (Path(folder) / f"{name}.txt").write_text(tree)
        (Path(folder) / f"{name}.html").write_text(profiler.output_html())
        print(f"\n== {name} ==\n{tree}", file=sys.stderr, flush=True)


# --- engine: plan_tick on an in-memory read ------------------------------------------------


def engine(n: int, folder: Path) -> dict[str, Any]:
    from functions.record import freeze
    from functions.tick.planner import plan_tick

    baseline = rss_mib()
    with (folder / "seed.pkl").open("rb") as source:
        seed = pickle.load(source)
    rows = seed["rows"]
    rows.apply_edits(seed["edits"])  # 1 % of rows edited since the snapshot's tick
    read = book_read(SCHEMA, rows)
    snapshot = freeze(seed["snapshot"])  # as a state store loads it: compact, texts shared
    meta = seed["meta"]
    del seed, rows
    gc.collect()
    times = []
    plan = None
    for _ in range(ENGINE_REPEATS):
        plan = None
        gc.collect()
        started = time.perf_counter()
        plan = plan_tick(read, snapshot, meta, SCHEMA, at(3))
        times.append(time.perf_counter() - started)
    assert plan is not None
    with profiled("engine-plan_tick"):  # one more run, only when profiling
        plan_tick(read, snapshot, meta, SCHEMA, at(3))
    return {
        "seconds": statistics.median(times),
        "all_seconds": times,
        "writes": len(plan.changes.writes),
        "emails": len(plan.emails),
        "log": len(plan.changes.log),
        "locks": len(plan.changes.locks),
        "transitions": len(plan.transitions),
        "rss_mib": rss_mib(),
        "baseline_rss_mib": baseline,
    }


# --- phases of a tick, for the workbook and Google ticks -------------------------------------


class Phases:
    """Wall time per step of Engine.tick (wrapping the engine's collaborators)."""

    def __init__(self, engine: Any) -> None:
        import functions.tick.assemble as assemble_module

        self.times: dict[str, float] = {}
        self.hwm: dict[str, float] = {}
        self.captured: dict[str, Any] = {}
        for name in ("read", "apply"):
            self._wrap(engine.book, name, name)
        self._wrap(engine.state, "load_snapshot", "state")
        self._wrap(engine.state, "save_journal", "state")
        self._wrap(engine.state, "commit_journal", "state")
        self._wrap(engine, "deliver", "deliver")
        renderer = engine.renderer
        self._wrap(renderer, "render", "render")
        original = assemble_module.plan_tick

        def plan_tick(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            plan = original(*args, **kwargs)
            self.times["plan"] = self.times.get("plan", 0.0) + time.perf_counter() - started
            self.hwm.setdefault("plan", peak_rss_mib())
            self.captured = {
                "writes": [(w.tab, w.row, w.column, w.value) for w in plan.changes.writes],
                "log": [e.as_row() for e in plan.changes.log],
                "emails": len(plan.emails),
            }
            return plan

        assemble_module.plan_tick = plan_tick  # type: ignore[assignment]

    def _wrap(self, owner: Any, name: str, key: str) -> None:
        function: Callable[..., Any] = getattr(owner, name)

        @functools.wraps(function)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                self.times[key] = self.times.get(key, 0.0) + time.perf_counter() - started
                self.hwm.setdefault(key, peak_rss_mib())  # the high-water mark after it

        setattr(owner, name, timed)

    def take(self) -> dict[str, float]:
        out = {k: round(v, 3) for k, v in self.times.items()}
        self.times = {}
        return out

    def take_hwm(self) -> dict[str, float]:
        out = {k: round(v) for k, v in self.hwm.items()}
        self.hwm = {}
        return out


def _tick(
    engine: Any,
    phases: Phases,
    k: int,
    label: str,
    flows: frozenset[str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    phases.captured = {}
    started = time.perf_counter()
    with profiled(f"busy-tick-{type(engine.book).__name__}", label == "busy"):
        report = engine.tick(at(k)) if flows is None else engine.tick(at(k), flows=flows)
    seconds = time.perf_counter() - started
    out = {
        "label": label,
        "seconds": seconds,
        "outcome": report.outcome,
        "message": report.message,
        "emails": len(report.emails),
        "transitions": len(report.transitions),
        "conflicts": len(report.conflicts),
        "phases": phases.take(),
        "hwm_mib": phases.take_hwm(),
        "writes": len(phases.captured.get("writes", [])),
        "log_rows": len(phases.captured.get("log", [])),
        **extra,
    }
    say("tick", **out)
    return out


def _report(engine: Any, phases: Phases, k: int, label: str) -> dict[str, Any]:
    """The monthly_report function's run (functions/entry/cloud.py `_report`) at at(k)."""
    from functions.months import previous_month

    phases.captured = {}
    now = at(k)
    started = time.perf_counter()
    zone = ZoneInfo(str(engine.state.load_meta().get("time_zone", "UTC")))
    tab = engine.monthly_report(previous_month(now, zone), now)
    out = {
        "label": label,
        "seconds": time.perf_counter() - started,
        "outcome": "done",
        "message": tab.title,
        "emails": 0,
        "transitions": 0,
        "conflicts": 0,
        "phases": phases.take(),
        "hwm_mib": phases.take_hwm(),
        "writes": 0,
        "log_rows": 1,
        "managers": len(tab.rows) - 1,
    }
    say("tick", **out)
    return out


# --- workbook: real .xlsx through bootstrap ------------------------------------------------


def workbook(n: int, folder: Path) -> dict[str, Any]:
    from functions.wiring.bootstrap import Config, build_engine

    from .seed import type_into_workbook

    with (folder / "seed.pkl").open("rb") as source:
        edits = pickle.load(source)["edits"]
    gc.collect()
    engine = build_engine(Config(str(folder / "book.xlsx")))
    phases = Phases(engine)
    ticks = [_tick(engine, phases, 1, "first (reads the prepared book)")]
    ticks.append(_tick(engine, phases, 2, "idle"))
    started = time.perf_counter()
    type_into_workbook(folder / "book.xlsx", edits)
    say("edited", seconds=time.perf_counter() - started)
    ticks.append(_tick(engine, phases, 3, "busy"))
    return {"ticks": ticks, "rss_mib": rss_mib(), "bytes": (folder / "book.xlsx").stat().st_size}


# --- Google: GoogleSheetBook over the double + FirestoreState over the emulator ------------


def google(n: int, folder: Path, function: str | None = None) -> dict[str, Any]:
    """Ticks of every flow in one process (as `sheetflow run` on a server), or, with
    `function`, of one Cloud Function as deploy.sh deploys it: its flow only, in an instance
    of its own — its first tick, the re-read after its own write and a busy tick."""
    from google.cloud import firestore

    from functions.adapters.firestore.state import FirestoreState
    from functions.adapters.gsheets.book import GoogleSheetBook
    from functions.notify import EmailRenderer
    from functions.tick.engine import Engine
    from tests.fakes import FakeMail

    from .google_remote import SA, DoubleProcess, remote_client

    started = time.perf_counter()
    double = DoubleProcess(folder / "seed.pkl")
    say("double_ready", seconds=time.perf_counter() - started, double_rss_mib=double.filled_rss)
    try:
        baseline = rss_mib()
        client = remote_client(double.conn)
        book = GoogleSheetBook(double.sid, client, SCHEMA, SA, sleep=lambda s: None)
        store = firestore.Client(project=PROJECT)
        root = os.environ.get("BENCH_FIRESTORE_ROOT", "bench/local")
        state = FirestoreState(store, root=f"{root}-n{n}")
        engine = Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA)
        phases = Phases(engine)

        from functions.entry.cloud import FLOWS

        flows = None if function in (None, "monthly_report") else FLOWS[function]

        def tick(k: int, label: str) -> dict[str, Any]:
            mark = double.mark()
            state.reads = state.writes = 0
            double.busy_seconds()
            if function == "monthly_report":
                out = _report(engine, phases, k, label)
            else:
                out = _tick(engine, phases, k, label, flows)
            kinds = double.kinds(mark)
            out.update(
                requests=len(kinds),
                kinds=kinds,
                firestore_reads=state.reads,
                firestore_writes=state.writes,
                double_seconds=double.busy_seconds(),
            )
            return out

        if function == "monthly_report":  # Scheduler's call on the 1st: last month's report
            ticks = [tick(1, "report, first of this instance (metadata + read + the Log)")]
            ticks.append(tick(2, "report again, warm instance (Scheduler's retry)"))
            return {"ticks": ticks, "rss_mib": rss_mib(), "baseline_rss_mib": baseline}
        ticks = [tick(1, "first of this instance (metadata + read)")]
        ticks.append(tick(2, "after its own write (re-read)"))  # the first tick wrote too
        double.ask("edit")
        ticks.append(tick(3, "busy"))
        if function is not None:
            # People edited (a new accountant): the invoice flow plans every invoice again
            ticks.append(tick(4, "after its own write (re-read)"))
            double.ask("people")
            ticks.append(tick(5, "People edited"))
            # a month later: this tick writes last month's report, reading the year's Log
            ticks.append(tick(MONTH_LATER, "first of a new month (writes the report)"))
            return {"ticks": ticks, "rss_mib": rss_mib(), "baseline_rss_mib": baseline}
        busy_plan = dict(phases.captured)  # the cells and Log rows the busy tick wrote
        ticks.append(tick(4, "after its own write (re-read)"))
        ticks.append(tick(5, "idle"))
        # no edit, but the last full read is 15 min old: read anyway (Drive's version may lag)
        ticks.append(tick(7, "periodic full read"))
        # A new function instance (cold: no tab metadata, no copies of Firestore documents)
        # meets another 1 % of edits.
        book = GoogleSheetBook(double.sid, client, SCHEMA, SA, sleep=lambda s: None)
        state = FirestoreState(store, root=f"{root}-n{n}")
        engine = Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA)
        phases = Phases(engine)
        double.ask("edit_cold")
        ticks.append(tick(8, "busy, cold instance"))
        engine_rss = rss_mib()  # the engine path's peak, before the naive script runs
        naive = _naive(double, remote_client(double.conn), busy_plan)
        return {
            "ticks": ticks,
            "rss_mib": engine_rss,
            "baseline_rss_mib": baseline,
            "double_fill_seconds": double.fill_seconds,
            "double_filled_rss_mib": double.filled_rss,
            "naive": naive,
        }
    finally:
        stopped = double.stop()
        say("double_stopped", **stopped)


def _naive(double: Any, client: Any, plan: dict[str, Any]) -> dict[str, Any]:
    """The tutorial way: read the tabs, then one update_cell per changed cell, one append_row
    per Log line — the same cells and Log rows the busy tick wrote, on the same double."""
    writes: list[tuple[str, int, str, Any]] = plan.get("writes", [])
    log: list[list[str]] = plan.get("log", [])
    mark = double.mark()
    started = time.perf_counter()
    sheet = client.open_by_key(double.sid)
    tabs = {key: sheet.worksheet(SCHEMA.tab(key).title["en"]) for key in ("invoices", "deals")}
    for ws in tabs.values():
        ws.get_all_values()
    log_ws = sheet.worksheet(SCHEMA.tab("log").title["en"])
    setup_requests = len(double.kinds(mark))
    keys = {key: [c.key for c in SCHEMA.tab(key).columns] for key in ("invoices", "deals")}
    total = len(writes) + len(log)
    done = 0
    work_started = time.perf_counter()
    for tab, row, column, value in writes:
        if time.perf_counter() - work_started > NAIVE_SECONDS:
            break
        tabs[tab].update_cell(row, keys[tab].index(column) + 1, "" if value is None else value)
        done += 1
    for values in log:
        if time.perf_counter() - work_started > NAIVE_SECONDS:
            break
        log_ws.append_row(values)
        done += 1
    work_seconds = time.perf_counter() - work_started
    measured = len(double.kinds(mark))
    per_request = work_seconds / done if done else 0.0
    seconds = (time.perf_counter() - started) + per_request * (total - done)
    return {
        "cells": len(writes),
        "log_rows": len(log),
        "requests": setup_requests + total,
        "requests_measured": measured,
        "done": done,
        "total": total,
        "capped": done < total,
        "seconds": seconds,
        "per_request_seconds": per_request,
        "quota_minutes": (setup_requests + total) / QUOTA_PER_MINUTE,
    }


WORKERS: dict[str, Callable[[int, Path], dict[str, Any]]] = {
    "prepare": prepare,
    "reseed": reseed,
    "engine": engine,
    "workbook": workbook,
    "google": google,
}


def main() -> None:
    kind, n, folder = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
    # google-NAME: one Cloud Function (a name in functions.entry.cloud.FLOWS), in its own process
    work = WORKERS.get(kind)
    if work is None and kind.startswith("google-"):
        work = functools.partial(google, function=kind.removeprefix("google-"))
    if work is None:
        raise SystemExit(f"unknown measurement: {kind}")
    result = work(n, folder)
    result["peak_rss_mib"] = rss_mib()
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
