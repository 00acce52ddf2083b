"""The invoices folder's cost per tick (part of `make bench`; alone: `python -m bench.folder`).

- Local: a folder of 10,000 files in 20 subfolders beside a workbook. The first scan hashes
  every file once; then, with every file already a row (its hash in `seen`), each tick's scan
  is one directory walk with a `stat` per file. Timed: `LocalFolder.scan` alone (median of
  5), and a whole idle tick (`Engine.tick` with the SQLite state holding the 10,000 files'
  cursor and seen keys). Also a scan that finds one new PDF among the 10,000.
- Google: the Drive folder on tests/google_double (its Drive part checked against
  drive.v3.json), 50 files already there and one more uploaded later: the service account's
  Drive requests per tick, by kind, from the first tick on.

Writes bench/FOLDER.md (the README's invoices-folder section quotes it).
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from functions.adapters.folders.drive import DriveFolder  # noqa: E402
from functions.adapters.folders.local import LocalFolder  # noqa: E402
from functions.adapters.sqlite.state import SqliteState  # noqa: E402
from functions.adapters.workbook.book import WorkbookBook, create_workbook  # noqa: E402
from functions.notify import EmailRenderer  # noqa: E402
from functions.schema import load_schema  # noqa: E402
from functions.tick.engine import Engine  # noqa: E402
from tests import invoice_pdfs  # noqa: E402
from tests.fakes import FakeMail  # noqa: E402
from tests.google_double import OWNER, SERVICE_ACCOUNT, GoogleDouble  # noqa: E402
from tests.google_double.people import new_google_book, no_sleep  # noqa: E402

FILES = 10_000
SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
]
SETTINGS = {"company": "Northwind", "time_zone": "Europe/Berlin", "sender": "flow@example.com"}


def local(work: Path) -> list[str]:
    book = work / "book.xlsx"
    create_workbook(
        book, SCHEMA, "en", people=PEOPLE, settings={**SETTINGS, "invoices_folder": "Invoices"}
    )
    rng = random.Random(14)
    old = time.time() - 3600
    for n in range(FILES):
        path = work / "Invoices" / f"sub{n % 20:02d}" / f"invoice {n:05d}.pdf"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"%PDF-1.4\n" + rng.randbytes(rng.randint(1000, 4000)))
        os.utime(path, (old, old))
    folder = LocalFolder(work)
    begun = time.perf_counter()
    first = folder.scan("Invoices", {}, set())
    first_seconds = time.perf_counter() - begun
    seen = {entry[2] for entry in first.cursor["files"].values()}
    times = []
    for _ in range(5):
        begun = time.perf_counter()
        again = folder.scan("Invoices", first.cursor, seen)
        times.append(time.perf_counter() - begun)
        assert again.files == [], "every file was seen"
    state = SqliteState(book.with_name("book.state.sqlite"))
    engine = Engine(
        WorkbookBook(book, SCHEMA), state, FakeMail(), EmailRenderer(), SCHEMA, folder=folder
    )
    meta: dict[str, object] = {}
    meta["folder"] = {
        "location": "Invoices",
        "cursor": first.cursor,
        "seen": {key: f"INV-{n:06d}" for n, key in enumerate(sorted(seen), 1)},
        "notices": {},
        "problem": None,
        "problem_kind": None,
    }
    state.commit_journal({}, meta)  # as if every file had become a row already
    engine.tick()  # the first tick reads the book and records its version
    ticks = []
    for _ in range(5):
        begun = time.perf_counter()
        outcome = engine.tick().outcome
        ticks.append(time.perf_counter() - begun)
        assert outcome == "idle", outcome
    new = work / "Invoices" / "sub03" / "new.pdf"
    new.write_bytes(invoice_pdfs.english_invoice())
    os.utime(new, (old, old))
    begun = time.perf_counter()
    one = folder.scan("Invoices", first.cursor, seen)
    one_seconds = time.perf_counter() - begun
    assert [f.name for f in one.files] == ["new.pdf"]
    meta_kib = len(str(state.load_meta())) / 1024
    return [
        f"- Local folder of {FILES:,} files (20 subfolders, 1–4 KB each):"
        f" first scan (hashes every file once) {first_seconds:.2f} s;"
        f" **scan per tick once every file is a row {statistics.median(times) * 1000:.0f} ms**"
        f" (median of 5: {', '.join(f'{t * 1000:.0f}' for t in times)} ms);"
        f" a whole idle workbook tick with this folder {statistics.median(ticks) * 1000:.0f} ms"
        f" (median of 5; the state's meta holds the folder's {meta_kib:,.0f} KiB cursor);"
        f" a scan finding one new PDF among them {one_seconds * 1000:.0f} ms.",
    ]


def google(work: Path) -> list[str]:
    double = GoogleDouble()
    root = double.drive.folder(
        "Invoices", owner=OWNER, shared_with=(SERVICE_ACCOUNT, "maria@example.com")
    )
    for n in range(50):
        double.drive.upload(
            f"old {n}.pdf", invoice_pdfs.scanned_invoice(), root, by="maria@example.com"
        )
    settings = {**SETTINGS, "invoices_folder": root}
    _sid, book = new_google_book(
        double, SCHEMA, "en", PEOPLE, settings, writers=["maria@example.com"]
    )
    state = SqliteState(work / "google.sqlite")
    folder = DriveFolder(
        double.client(SERVICE_ACCOUNT).http_client, SERVICE_ACCOUNT, sleep=no_sleep
    )
    engine = Engine(book, state, FakeMail(), EmailRenderer(), SCHEMA, folder=folder)
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    rows: list[tuple[str, str, list[str], int]] = []
    for label, upload in [
        ("1 (reads Settings, looks at the folder)", False),
        ("2", False),
        ("3", False),
        ("4", False),
        ("5", False),
        ("6", False),
        ("7: a manager uploads an invoice before it", True),
        ("8", False),
        ("9", False),
    ]:
        if upload:
            double.drive.upload(
                "new.pdf", invoice_pdfs.english_invoice(), root, by="maria@example.com"
            )
        now += timedelta(minutes=1)
        mark, before = double.mark(), folder.requests - folder.downloads
        outcome = engine.tick(now).outcome
        kinds = [k for k in double.kinds(mark, user=SERVICE_ACCOUNT) if k.startswith("drive.")]
        rows.append((label, outcome, kinds, folder.requests - folder.downloads - before))
    out = [
        "- Drive folder (the double's Drive; 50 files already there, one uploaded later);"
        " the service account's Drive requests per tick (`drive.files.get` is also the"
        " sheet's version check and each PDF's download):",
        "",
        "  | tick | outcome | Drive requests | of which looking at the folder |",
        "  |---|---|---|---|",
    ]
    for label, outcome, kinds, looking in rows:
        counted = Counter(k.removeprefix("drive.") for k in kinds)
        shown = ", ".join(f"{k} ×{n}" if n > 1 else k for k, n in counted.items())
        out.append(f"  | {label} | {outcome} | {len(kinds)}: {shown} | {looking} |")
    most = max(looking for _l, _o, _k, looking in rows)
    idle = [kinds for _l, outcome, kinds, _f in rows if outcome == "idle"]
    out.append("")
    out.append(
        f"  At most {most} Drive request per tick looks at the folder (the rest: the sheet's"
        " version, and one download per new PDF); idle ticks: "
        + "; ".join(f"{len(k)} ({', '.join(k)})" for k in idle[-2:])
        + "."
    )
    return out


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="sheetflow-folder-") as tmp:
        work = Path(tmp)
        lines = ["### Invoices folder", ""]
        lines += local(work / "local")
        lines += google(work)
    lines.append("")
    load = os.getloadavg()[0]
    lines.append(f"Measured on {datetime.now(UTC):%Y-%m-%d %H:%M UTC}, load average {load:.2f}.")
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "FOLDER.md").write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
