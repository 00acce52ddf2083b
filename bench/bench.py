"""sheetflow benchmark: `make bench` (= `.venv/bin/python bench/bench.py`).

One run, on this machine, for 1,000 / 10,000 / 100,000 invoices plus as many deals, with 1 %
of each tab edited between ticks (see bench/scenario.py for the data and the edits):

- engine time: `planner.plan_tick` on an in-memory BookRead with the previous tick's snapshot;
- a whole tick on the workbook backend (a real .xlsx through `bootstrap.build_engine`);
- a whole tick on the Google backend (`GoogleSheetBook` over tests/google_double, run in a
  child process, and `FirestoreState` over the real Firestore emulator), with its Sheets/Drive
  requests, cells written and Firestore reads/writes, for a busy and an idle tick;
- the tutorial way with gspread (one `update_cell` per changed cell, one `append_row` per Log
  line) on the same edits against the same double;
- peak memory (VmHWM) of each measurement, each size in fresh processes.

Targets are checked and printed PASS/FAIL; the table also goes to bench/RESULTS.md (a run
with --sizes or --only writes bench/results-partial.md instead, and leaves the README alone).
Options: --sizes 1000,10000 (default all three), --no-check (skip the fast-path check),
--only workbook,engine (measure only these; the others read "not measured").
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
SIZES = (1_000, 10_000, 100_000)
# Seconds a worker may take before it is stopped (the result then says "n/a (> X s)").
TIMEOUT = {"prepare": 600, "engine": 300, "workbook": 420, "google": 1200, "functions": 900}
FUNCTIONS = ("invoice_flow", "deal_watch", "monthly_report")  # bench.workers: google-<function>
TARGETS = {
    "busy_requests": 4,
    "idle_requests": 1,
    "engine_seconds_100k": 2.0,
    "rss_mib_100k": 400,
    "busy_firestore_reads_warm_10k": 20,
    "busy_firestore_reads_cold_10k": 60,
    "workbook_seconds_10k": 5.0,
    "idle_firestore_writes": 2,
}


def options() -> tuple[tuple[int, ...], tuple[str, ...]]:
    """--sizes and --only: the sizes and the measurements (beside the preparation) to run."""
    sizes, kinds = SIZES, ("engine", "workbook", "google", "functions")
    for arg in sys.argv[1:]:
        if arg.startswith("--sizes="):
            sizes = tuple(int(s) for s in arg.split("=", 1)[1].split(","))
        if arg.startswith("--only="):
            kinds = tuple(k for k in arg.split("=", 1)[1].split(",") if k in kinds)
    return sizes, kinds


def main() -> int:
    sizes, kinds = options()
    started = time.monotonic()
    machine = machine_info()
    out = Output()
    out.line("# sheetflow benchmark", md=False)
    out.line(md=False)
    for key, value in machine.items():
        out.line(f"- {key}: {value}", md=False)
    out.line(md=False)
    if "--no-check" not in sys.argv:
        out.line(
            "Workbook fast write path ≡ openpyxl path (bench/check_workbook_fast.py):", md=False
        )
        check = run([sys.executable, str(HERE / "check_workbook_fast.py")], 300)
        for line in check["stdout"].splitlines():
            out.line(line, md=False)
        out.line(md=False)
        same = check["code"] == 0
        machine["workbook fast path check"] = (
            "the fast write path gave the same workbooks as the openpyxl path in every case"
            if same
            else "DIFFERENCES between the fast write path and the openpyxl path (see the output)"
        )
    results: dict[int, dict[str, Any]] = {}
    emulator = start_emulator(out) if {"google", "functions"} & set(kinds) else None
    work = Path(tempfile.mkdtemp(prefix="sheetflow-bench-"))
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT)
    # As deploy.sh sets it for the Cloud Functions: glibc's default of 8 malloc arenas per
    # core lets the Firestore client's threads hold ~50 MB more at 100,000 rows.
    env["MALLOC_ARENA_MAX"] = "2"
    if emulator is not None:
        env["FIRESTORE_EMULATOR_HOST"] = emulator.host
        env["BENCH_FIRESTORE_ROOT"] = f"bench/run-{int(time.time())}"
    try:
        for n in sizes:
            folder = work / str(n)
            results[n] = {}
            for kind in ("prepare", "engine", "workbook", "google", "functions"):
                if kind != "prepare" and kind not in kinds:
                    results[n][kind] = {"error": "not measured (--only)", "skipped": True}
                    continue
                if kind in ("google", "functions") and emulator is None:
                    results[n][kind] = {"error": "no Firestore emulator"}
                    continue
                begun = time.monotonic()
                if kind == "functions":
                    results[n][kind] = {name: function(name, n, folder, env) for name in FUNCTIONS}
                else:
                    results[n][kind] = worker(kind, n, folder, env)
                spent = time.monotonic() - begun
                status = results[n][kind].get("error") or "ok"
                print(f"  [{n:>7,} rows] {kind:<8} {spent:6.1f} s  {status}", flush=True)
            shutil.rmtree(folder, ignore_errors=True)
    finally:
        if emulator is not None:
            emulator.stop()
        shutil.rmtree(work, ignore_errors=True)
    machine["run time"] = f"{time.monotonic() - started:.0f} s"
    machine["load average at the end"] = load_average()
    report(out, machine, results)
    (HERE / "results.json").write_text(json.dumps(results, indent=1, default=str))
    return 0


# --- running the workers ---------------------------------------------------------------------


def run(command: list[str], timeout: float, env: dict[str, str] | None = None) -> dict[str, Any]:
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, env=env, cwd=ROOT
        )
        return {"stdout": done.stdout, "stderr": done.stderr, "code": done.returncode}
    except subprocess.TimeoutExpired as exc:
        stdout = exc.stdout.decode() if isinstance(exc.stdout, bytes) else exc.stdout or ""
        return {"stdout": stdout, "stderr": "", "code": None, "timeout": timeout}


def function(name: str, n: int, folder: Path, env: dict[str, str]) -> dict[str, Any]:
    """One Cloud Function in an instance of its own, on a state seeded afresh for it."""
    own = {**env, "BENCH_FIRESTORE_ROOT": f"{env['BENCH_FIRESTORE_ROOT']}-{name}"}
    seeded = worker("reseed", n, folder, own, TIMEOUT["prepare"])
    if "error" in seeded:
        return seeded
    return worker(f"google-{name}", n, folder, own, TIMEOUT["functions"])


def worker(
    kind: str, n: int, folder: Path, env: dict[str, str], timeout: float | None = None
) -> dict[str, Any]:
    command = [sys.executable, "-m", "bench.workers", kind, str(n), str(folder)]
    done = run(command, timeout or TIMEOUT[kind], env)
    events = []
    result: dict[str, Any] | None = None
    for line in done["stdout"].splitlines():
        if line.startswith("EVENT "):
            events.append(json.loads(line[6:]))
        elif line.startswith("RESULT "):
            result = json.loads(line[7:])
    if result is None:
        error = (
            f"n/a (> {done['timeout']:.0f} s)"
            if done.get("timeout")
            else "failed: " + (done["stderr"].strip().splitlines() or ["?"])[-1][:300]
        )
        return {"error": error, "events": events, "stderr": done["stderr"][-3000:]}
    result["events"] = events
    return result


def start_emulator(out: Output) -> Any:
    sys.path.insert(0, str(ROOT))
    try:
        from tests.firestore_emulator import EmulatorUnavailable, FirestoreEmulator
    except ImportError as exc:  # pragma: no cover
        out.line(f"Firestore emulator helpers unavailable: {exc}", md=False)
        return None
    try:
        emulator = FirestoreEmulator()
    except EmulatorUnavailable as exc:
        out.line(f"Firestore emulator unavailable, Google ticks skipped: {exc}", md=False)
        return None
    started = f"Firestore emulator started in {emulator.start_seconds:.1f} s on {emulator.host}."
    out.line(started, md=False)
    out.line(md=False)
    return emulator


# --- the machine -----------------------------------------------------------------------------


def machine_info() -> dict[str, str]:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    ram = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                ram = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": f"{cpu}, {os.cpu_count()} cores, {ram} RAM, {platform.system()}",
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "load average at the start": load_average(),
        "note": "other processes may be running on this machine during the run; times are"
        " wall-clock, single runs (engine: median of 3)",
    }


def load_average() -> str:
    try:
        one, five, fifteen = os.getloadavg()
        return f"{one:.2f} / {five:.2f} / {fifteen:.2f} (1 / 5 / 15 min)"
    except OSError:
        return "unknown"


# --- the report ------------------------------------------------------------------------------


class Output:
    """Prints each line and keeps the report's lines for RESULTS.md."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def line(self, text: str = "", *, md: bool = True) -> None:
        print(text, flush=True)
        if md:
            self.lines.append(text)


def tick(result: dict[str, Any], label: str) -> dict[str, Any] | None:
    if "ticks" in result:
        return next((t for t in result["ticks"] if t["label"] == label), None)
    return next(
        (e for e in result.get("events", []) if e.get("event") == "tick" and e["label"] == label),
        None,
    )


def seconds(value: float | None) -> str:
    if value is None:
        return "n/a"
    return f"{value:.2f} s" if value < 10 else f"{value:.0f} s"


def mib(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f} MiB"


def google_ticks(result: dict[str, Any], label: str) -> list[dict[str, Any]]:
    return [t for t in result.get("ticks", []) if t["label"] == label]


def sheets_io(t: dict[str, Any]) -> float:
    """The busy tick's time in Sheets requests: its read and its write (on the double)."""
    return float(t["phases"].get("read", 0.0) + t["phases"].get("apply", 0.0))


def table_row(n: int, r: dict[str, Any]) -> list[str]:
    engine, wb, g = r.get("engine", {}), r.get("workbook", {}), r.get("google", {})
    wb_busy, wb_idle = tick(wb, "busy"), tick(wb, "idle")
    busy = (google_ticks(g, "busy") or [None])[0]
    idles = google_ticks(g, "idle")
    idle = idles[-1] if idles else None
    naive = g.get("naive")
    row = [f"{n:,} + {n:,}"]
    row.append(seconds(engine["seconds"]) if "seconds" in engine else engine.get("error", "n/a"))
    if wb_busy is None:
        row.append(wb.get("error", "n/a"))
    else:
        row.append(f"{seconds(wb_busy['seconds'])} / {seconds(wb_idle and wb_idle['seconds'])}")
    if busy is None or idle is None:
        row += [g.get("error", "n/a")] + ["n/a"] * 6
    else:
        row.append(
            f"{seconds(busy['seconds'])} (double {seconds(busy['double_seconds'])})"
            f" / {seconds(idle['seconds'])}"
        )
        row.append(f"{busy['requests']} / {idle['requests']}")
        row.append(f"{busy['writes']:,} cells + {busy['log_rows']:,} Log rows")
        if naive:
            extrapolated = "\\*" if naive["capped"] else ""
            row.append(
                f"{naive['requests']:,} requests; {seconds(naive['seconds'])}{extrapolated}"
                f" on the double; ≥ {naive['quota_minutes']:,.0f} min at 60 writes/min"
            )
            row.append(
                f"{naive['requests'] / max(busy['requests'], 1):,.0f}× requests;"
                f" {naive['seconds'] / max(sheets_io(busy), 1e-9):,.0f}× Sheets time"
            )
        else:
            row += ["n/a", "n/a"]
        cold = google_ticks(g, "busy, cold instance")
        counts = f"{busy['firestore_reads']:,} / {busy['firestore_writes']:,}"
        if cold:
            c = cold[0]
            counts += f" (cold instance: {c['firestore_reads']:,} / {c['firestore_writes']:,})"
        row.append(counts)
        row.append(f"{idle['firestore_reads']} / {idle['firestore_writes']}")
    functions = r.get("functions", {})
    each = ", ".join(mib(functions.get(name, {}).get("rss_mib")) for name in FUNCTIONS)
    row.append(
        f"{mib(engine.get('rss_mib'))} / {mib(g.get('rss_mib'))}"
        f" (double {mib(stopped_rss(g))}) / {each} / {mib(wb.get('rss_mib'))}"
    )
    return row


HEADERS = [
    "invoices + deals",
    "engine: plan_tick",
    "workbook tick: busy / idle",
    "Google tick: busy / idle",
    "requests busy / idle",
    "written per busy tick",
    "naive gspread, same edits",
    "naive ÷ sheetflow",
    "Firestore reads / writes, busy",
    "Firestore reads / writes, idle",
    "peak RSS: engine / Google, every flow in one process / each Cloud Function"
    " (invoice_flow, deal_watch, monthly_report) / workbook",
]


def target_checks(results: dict[int, dict[str, Any]]) -> list[tuple[str, bool | None, str]]:
    checks: list[tuple[str, bool | None, str]] = []

    def add(name: str, ok: bool | None, value: str) -> None:
        checks.append((name, ok, value))

    for n, r in results.items():
        g = r.get("google", {})
        busy = google_ticks(g, "busy")
        idles = google_ticks(g, "idle")
        label = f"{n:,} + {n:,}"
        if busy:
            requests = busy[0]["requests"]
            add(f"requests per busy tick ≤ 4 at {label}", requests <= 4, str(requests))
        else:
            add(f"requests per busy tick ≤ 4 at {label}", None, g.get("error", "n/a"))
        if idles:
            values = [t["requests"] for t in idles]
            add(
                f"requests per idle tick ≤ 1 at {label}",
                max(values) <= 1,
                " and ".join(map(str, values)),
            )
            writes = [t["firestore_writes"] for t in idles]
            add(
                f"Firestore writes per idle tick ≤ 2 at {label}",
                max(writes) <= 2,
                " and ".join(map(str, writes)),
            )
    if 10_000 in results:
        g = results[10_000].get("google", {})
        for label, kind in (("busy", "warm"), ("busy, cold instance", "cold")):
            limit = TARGETS[f"busy_firestore_reads_{kind}_10k"]
            found = google_ticks(g, label)
            add(
                f"Firestore reads per busy tick ≤ {limit} on a {kind} instance at 10,000 + 10,000",
                None if not found else found[0]["firestore_reads"] <= limit,
                f"{found[0]['firestore_reads']:,}" if found else g.get("error", "n/a"),
            )
        busy_tick = tick(results[10_000].get("workbook", {}), "busy")
        value = busy_tick["seconds"] if busy_tick else None
        add(
            "workbook tick ≤ 5 s at 10,000 + 10,000",
            None if value is None else value <= 5.0,
            seconds(value),
        )
    if 100_000 in results:
        r = results[100_000]
        value = r.get("engine", {}).get("seconds")
        add(
            "engine time ≤ 2 s at 100,000 + 100,000",
            None if value is None else value <= 2.0,
            seconds(value),
        )
        functions = r.get("functions", {})
        peaks = [functions.get(name, {}).get("rss_mib") for name in FUNCTIONS]
        limit = TARGETS["rss_mib_100k"]
        add(
            f"peak memory of each Cloud Function ≤ {limit} MiB at 100,000 + 100,000 (one flow"
            " per function, as deploy.sh deploys them; the double's process measured apart)",
            None if None in peaks else max(p for p in peaks if p is not None) <= limit,
            ", ".join(f"{name} {mib(peak)}" for name, peak in zip(FUNCTIONS, peaks, strict=True)),
        )
    return checks


def report(out: Output, machine: dict[str, str], results: dict[int, dict[str, Any]]) -> None:
    out.line("## Performance")
    out.line()
    out.line(
        f"Measured by `make bench` on {machine['date']}: {machine['machine']},"
        f" {machine['python']}; one run, wall-clock; other processes may have been running"
        f" (load average {machine['load average at the start']} at the start)."
        " Sizes are invoices + as many deals; 1 % of each tab is edited between ticks."
    )
    out.line()
    out.line("| " + " | ".join(HEADERS) + " |")
    out.line("|" + "---|" * len(HEADERS))
    for n, r in results.items():
        out.line("| " + " | ".join(table_row(n, r)) + " |")
    out.line()
    out.line(
        "\\* measured on the first requests (20 s), the rest extrapolated at the same rate."
        " Times on the double follow the double's cost model (it copies the whole spreadsheet"
        " on every write request), not Google's latency; the quota figure is the floor on"
        " Google (60 write requests per minute per user). “Sheets time” is the busy tick's"
        " read + write on the same double."
    )
    out.line()
    out.line("**Targets** (checked by the benchmark, not by a timed test):")
    out.line()
    for name, ok, value in target_checks(results):
        verdict = "n/a " if ok is None else ("PASS" if ok else "FAIL")
        out.line(f"- {verdict}  {name}: {value}")
    out.line()
    summary = len(out.lines)  # what the README's Performance section shows
    out.line("<details><summary>How it was measured, and each tick step by step</summary>")
    out.line()
    notes(out)
    details(out, results)
    out.line("### Machine")
    out.line()
    for key, value in machine.items():
        out.line(f"- {key}: {value}")
    out.line()
    out.line("</details>")
    # A partial run (--sizes, --only) never replaces the full run's results the README shows.
    skipped = [r for per in results.values() for r in per.values() if r.get("skipped")]
    full = tuple(results) == SIZES and not skipped
    written = HERE / ("RESULTS.md" if full else "results-partial.md")
    written.write_text("\n".join(out.lines) + "\n")
    print(f"\nwritten: {written}")
    if full:
        update_readme(out.lines[1:summary], machine)


README_START, README_END = "<!-- bench: written by make bench -->", "<!-- /bench -->"


def update_readme(lines: list[str], machine: dict[str, str]) -> None:
    """Replace the README's Performance section body (between its markers) with this run."""
    path = ROOT / "README.md"
    text = path.read_text()
    if README_START not in text or README_END not in text:
        print(f"README.md has no {README_START} … {README_END} markers: left as it was")
        return
    before, rest = text.split(README_START, 1)
    _, after = rest.split(README_END, 1)
    body = [
        *lines,
        f"Machine: {machine['machine']}, {machine['python']}. Each tick step by step and how it"
        " was measured: [bench/RESULTS.md](bench/RESULTS.md). Rerun with `make bench`"
        " (about 16 minutes; it starts its own Firestore emulator).",
    ]
    path.write_text(before + README_START + "\n" + "\n".join(body) + "\n" + README_END + after)
    print(f"updated: {path} (Performance)")


def notes(out: Output) -> None:
    out.line("### How it was measured")
    out.line()
    for line in (
        "Steady state: N invoices (10 % New, 20 % Awaiting decision, 10 % each Awaiting"
        " accountant, In payment, Awaiting closing docs, 40 % Closed) and N deals, after a first"
        " tick (its statuses, notes, locks, Log rows and queues are in the book, its snapshot"
        " in the state). Then 1 % of each tab is edited: each invoice picked takes its next"
        " step (signer, Approve, claim, paid, closing docs) or, when closed, gets a Comment;"
        " each deal picked gets a payment (half) or a new Stage (half). See bench/scenario.py.",
        "Engine: `plan_tick` on an in-memory BookRead with the previous tick's snapshot"
        " (median of 3, a fresh process per size).",
        "Workbook: a real .xlsx made by `create_workbook` (dropdowns, protection, Lists) holding"
        " the rows, locks, queues and the first tick's Log (≈ 6.5 Log rows per invoice), SQLite"
        " state beside it, outbox mail; ticks through `bootstrap.build_engine(Config(path))`."
        " Busy = the tick after people's edits; idle = nothing saved since the last tick.",
        "Google: `GoogleSheetBook` over tests/google_double (run in a child process, so the"
        " engine process's memory is its own; the double's time is shown in brackets),"
        " `FirestoreState` over the Firestore emulator, in-memory mail. Busy = after the"
        " edits; idle = nothing changed (the tick after its own write re-reads once: 2"
        " requests). Requests are the service account's, counted by the double; Firestore"
        " reads/writes are `FirestoreState.reads/writes`. “Every flow in one process” is"
        " `sheetflow run --book gsheet:…` on a server; each Cloud Function (deploy.sh deploys"
        " one per flow) is measured in an instance of its own: its first tick, the re-read"
        " after its own write, a busy tick and, after a new accountant is added to People,"
        " the tick that plans every invoice again, ticking its own flow only.",
        "Naive: gspread `open_by_key`, `worksheet`, `get_all_values` per tab, then"
        " `update_cell` per cell the busy tick wrote and `append_row` per Log row it added"
        " (no locks, queues or emails), on the same double.",
        "Peak RSS: VmHWM of each measuring process (fresh per size and backend).",
    ):
        out.line(f"- {line}")
    out.line()


def stopped_rss(g: dict[str, Any]) -> float | None:
    for event in g.get("events", []):
        if event.get("event") == "double_stopped":
            return float(event["rss_peak_mib"])
    return None


def details(out: Output, results: dict[int, dict[str, Any]]) -> None:
    out.line("### Details")
    out.line()
    for n, r in results.items():
        prep = r.get("prepare", {})
        size = prep.get("workbook_bytes", 0) / 1e6
        out.line(
            f"- {n:,} + {n:,}: the book holds {prep.get('log_rows', 0):,} Log rows,"
            f" {prep.get('locks', 0):,} locked Accountant cells and"
            f" {prep.get('queue_rows', 0):,} queue rows; the .xlsx is {size:.1f} MB"
        )
        engine = r.get("engine", {})
        if "all_seconds" in engine:
            out.line(
                f"  - engine: {', '.join(seconds(s) for s in engine['all_seconds'])};"
                f" busy plan: {engine['writes']:,} cell writes, {engine['emails']:,} emails,"
                f" {engine['log']:,} Log rows, {engine['transitions']:,} transitions"
            )
        functions = r.get("functions", {})
        measured = [("workbook", r.get("workbook", {})), ("google", r.get("google", {}))]
        measured += [(f"Cloud Function {name}", functions.get(name, {})) for name in FUNCTIONS]
        for kind, res in measured:
            ticks = res.get("ticks") or [
                e for e in res.get("events", []) if e.get("event") == "tick"
            ]
            for t in ticks:
                extra = ""
                if "requests" in t:
                    kinds = ", ".join(k.split(".")[-1] for k in t["kinds"])
                    extra = (
                        f"; {t['requests']} request(s) ({kinds}); Firestore"
                        f" {t['firestore_reads']:,} reads / {t['firestore_writes']:,} writes;"
                        f" the double {seconds(t['double_seconds'])}"
                    )
                phases = ", ".join(f"{k} {seconds(v)}" for k, v in t["phases"].items())
                out.line(
                    f"  - {kind} tick “{t['label']}”: {seconds(t['seconds'])} ({t['outcome']},"
                    f" {t['emails']:,} emails; {phases}){extra}; peak RSS after each step"
                    f" {t.get('hwm_mib', {})}"
                )
            if res.get("error"):
                out.line(f"  - {kind}: {res['error']}")
        naive = r.get("google", {}).get("naive")
        if naive:
            out.line(
                f"  - naive: {naive['cells']:,} update_cell + {naive['log_rows']:,} append_row;"
                f" {naive['requests_measured']:,} requests made in the run,"
                f" {naive['per_request_seconds']:.3f} s per request on the double"
            )
    out.line()


if __name__ == "__main__":
    sys.exit(main())
