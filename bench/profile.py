"""Where a tick's time goes: `make profile` (pyinstrument), on the two timed targets' paths.

Prepares N invoices + N deals exactly as `make bench` does (default 10,000, the size of the
workbook target), then profiles `planner.plan_tick` (the engine) and a whole busy tick on the
workbook backend. Each call tree is printed and saved as text and HTML in the output folder
(default bench/profile/, ignored by git). Open the HTML in a browser to explore it.

    make profile                      # 10,000 + 10,000
    .venv/bin/python -m bench.profile --rows 100000 --out /tmp/profile
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000, help="invoices (and as many deals)")
    parser.add_argument("--out", type=Path, default=HERE / "profile", help="where trees go")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    os.environ["BENCH_PROFILE"] = str(args.out)
    os.environ.pop("BENCH_FIRESTORE_ROOT", None)  # the workbook path needs no Firestore

    from . import workers

    # The workers' EVENT lines are for bench.py; the call trees go to stderr.
    with (
        tempfile.TemporaryDirectory(prefix="sheetflow-profile-") as tmp,
        contextlib.redirect_stdout(io.StringIO()),
    ):
        folder = Path(tmp)
        workers.prepare(args.rows, folder)
        engine = workers.engine(args.rows, folder)
        workbook = workers.workbook(args.rows, folder)
    busy = next(t for t in workbook["ticks"] if t["label"] == "busy")
    print(f"\n{args.rows:,} + {args.rows:,} rows, 1 % edited")
    print(f"engine plan_tick: {engine['seconds']:.2f} s (median of the timed runs)")
    print(f"workbook busy tick: {busy['seconds']:.2f} s")
    print(f"call trees (text and HTML): {args.out}")


if __name__ == "__main__":
    main()
