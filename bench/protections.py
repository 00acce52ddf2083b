"""Protected ranges on a Google Sheet through 1,000 invoices' whole story (part of `make bench`;
alone: `python -m bench.protections`).

Each invoice awaiting a decision has its Decision and Comment protected for its signer; the
claim narrows the Decision to sheetflow and locks the Accountant; Closed removes them all. On
tests/google_double (which enforces protections as Google does) with a SQLite state, the
story is played for COUNT invoices and the protected ranges are counted after each step.
Writes bench/PROTECTIONS.md (the README's Controls section quotes it).
"""

from __future__ import annotations

import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

from functions.adapters.gsheets.cells import LOCK, column_letter  # noqa: E402
from functions.adapters.sqlite.state import SqliteState  # noqa: E402
from functions.notify import EmailRenderer  # noqa: E402
from functions.schema import load_schema  # noqa: E402
from functions.tick.engine import Engine  # noqa: E402
from tests.fakes import FakeMail  # noqa: E402
from tests.google_double import GoogleDouble  # noqa: E402
from tests.google_double.a1 import quote_title  # noqa: E402
from tests.google_double.people import SheetEditor, new_google_book  # noqa: E402

COUNT = 1000
SCHEMA = load_schema()
PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
]
STEPS: list[tuple[str, dict[str, Any]]] = [
    ("approved", {"decision": "Approve"}),
    ("claimed", {"accountant": "Irina K"}),
    ("paid", {"paid_on": "28.11.2026"}),
    ("closed", {"closing_docs": "https://files.example/waybill"}),
]


def _invoice(n: int) -> dict[str, Any]:
    return {
        "manager": "Maria Lopez",
        "supplier": f"Supplier {n}",
        "supplier_email": "billing@supplier.example",
        "invoice_no": f"N-{n}",
        "invoice_date": "20.11.2026",
        "amount": 100 + n,
        "invoice_file": f"https://files.example/N-{n}.pdf",
        "signer": "Dmitry Volkov",
    }


def _locks(double: GoogleDouble, sid: str) -> tuple[int, int]:
    """(sheetflow's per-cell lock protections, every protected range) in the spreadsheet."""
    ranges = [p for sheet in double.book(sid).ordered() for p in sheet.protected_ranges]
    ours = [p for p in ranges if str(p.get("description", "")).startswith(LOCK)]
    return len(ours), len(ranges)


def _type_everywhere(editor: SheetEditor, sid: str, values: dict[str, Any]) -> None:
    """The owner types the same cells into every invoice row, in one values:batchUpdate."""
    grid = editor.grid("invoices")
    columns = editor.columns("invoices", grid[0])
    title = quote_title(SCHEMA.tab("invoices").title["en"])
    data = [
        {"range": f"{title}!{column_letter(columns[key])}{row}", "values": [[value]]}
        for row in range(2, len(grid) + 1)
        for key, value in values.items()
    ]
    editor.client.http_client.values_batch_update(
        sid, {"valueInputOption": "USER_ENTERED", "data": data}
    )


def run(count: int = COUNT) -> list[tuple[str, int, int, float]]:
    double = GoogleDouble()
    writers = [email for _n, email, _r, _a in PEOPLE]
    sid, book = new_google_book(
        double, SCHEMA, "en", PEOPLE, {"sender": "f@x.example"}, writers=writers
    )
    editor = SheetEditor(double, sid, SCHEMA)
    folder = Path(tempfile.mkdtemp(prefix="bench-protections-"))
    engine = Engine(book, SqliteState(folder / "state.sqlite"), FakeMail(), EmailRenderer(), SCHEMA)
    now = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
    editor.append_rows("invoices", [_invoice(n) for n in range(count)])
    rows: list[tuple[str, int, int, float]] = []
    started = time.perf_counter()
    engine.tick(now)
    rows.append(("submitted", *_locks(double, sid), time.perf_counter() - started))
    for label, values in STEPS:
        _type_everywhere(editor, sid, values)
        now += timedelta(minutes=10)
        started = time.perf_counter()
        engine.tick(now)
        rows.append((label, *_locks(double, sid), time.perf_counter() - started))
    statuses = {r["status"] for r in editor.rows("invoices")}
    assert statuses == {"Closed"}, statuses
    return rows


def main() -> None:
    rows = run()
    lines = [
        f"# Protected ranges through {COUNT:,} invoices (`python -m bench.protections`)",
        "",
        f"Measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on tests/google_double.",
        "",
        "| after the tick where every invoice was … | sheetflow's lock ranges"
        " | all protected ranges | tick |",
        "|---|---|---|---|",
        *(
            f"| {label} | {ours:,} | {total:,} | {seconds:.1f} s |"
            for label, ours, total, seconds in rows
        ),
        "",
    ]
    (HERE / "PROTECTIONS.md").write_text("\n".join(lines), encoding="utf-8")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
