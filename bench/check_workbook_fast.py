"""Differential check: the workbook's fast write path gives the same book as openpyxl's.

(And the workbook's sheet reader returns the same rows as openpyxl's `iter_rows`.)

Each case applies one SheetChanges to two copies of the same book, one through
`workbook_fast` (the tick's path when the file is unchanged since its read) and one through
the full openpyxl load and save, then compares what a person and sheetflow would see: tab
order and visibility, every cell's value, type, lock and bold, the skipped-write messages, and
what `WorkbookBook.read()` returns. Run: `.venv/bin/python bench/check_workbook_fast.py`
(`make bench` runs it first, on small books, in a few seconds); `--libreoffice` also runs
every case on the same book as LibreOffice saved it (needs `soffice`, ~20 s more).
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import openpyxl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.check_workbook_scenario import scenario_cases  # noqa: E402
from functions.adapters.workbook import book as workbook_module  # noqa: E402
from functions.adapters.workbook import read as workbook_read  # noqa: E402
from functions.adapters.workbook.book import WorkbookBook, create_workbook  # noqa: E402
from functions.model import CellLock, CellWrite, LogEntry, QueueView, RowAppend, SheetChanges
from functions.schema import load_schema  # noqa: E402
from functions.tick.plan_invoices import QUEUE_COLUMNS  # noqa: E402

SCHEMA = load_schema()
PEOPLE = [
    ("Dana Director", "dana@example.com", "director", True),
    ("Axel Accountant", "axel@example.com", "accountant", True),
    ("Bea Accountant", "bea@example.com", "accountant", True),
    ("Mia Manager", "mia@example.com", "manager", True),
]


def _columns(ws: Any, tab: str) -> dict[str, int]:
    by_header = {str(c.value).strip(): c.column for c in ws[1] if c.value is not None}
    return {c.key: by_header[c.header["en"]] for c in SCHEMA.tab(tab).columns}


def _type(path: Path, tab: str, rows: dict[int, dict[str, Any]]) -> None:
    wb = openpyxl.load_workbook(path)
    ws = wb[SCHEMA.tab(tab).title["en"]]
    columns = _columns(ws, tab)
    for row, values in rows.items():
        for key, value in values.items():
            ws.cell(row, columns[key]).value = value
    wb.save(path)


def _base(folder: Path) -> Path:
    path = folder / "base.xlsx"
    create_workbook(path, SCHEMA, "en", people=PEOPLE, settings={"company": "N"})
    _type(
        path,
        "invoices",
        {
            2: {"id": "INV-000001", "manager": "Mia", "decision": "Rework", "status": "New"},
            3: {"id": "INV-000002", "manager": "Mia", "amount": 12.5},
            4: {"manager": "Mia"},  # no ID yet
            1005: {  # below the prepared rows: no formats, people's cells not unlocked yet
                "id": "INV-000005",
                "manager": "Mia",
                "invoice_date": "02.10.2026",
                "amount": "1 234,50",
            },
            1006: {"manager": "Max"},
        },
    )
    _type(path, "deals", {2: {"deal_id": "D-1", "amount": 200, "paid": 100, "paid_pct": "=F2/E2"}})
    WorkbookBook(path, SCHEMA).apply(  # a Log with rows, and queue tabs (openpyxl path)
        SheetChanges(
            log=[LogEntry("09:00", "invoice", "INV-000001", "created", to="New")],
            queues=[_queue("Axel Accountant", "INV-000001"), _queue("Bea Accountant")],
        ),
        None,
    )
    return path


def _resaved_by_libreoffice(folder: Path) -> Path:
    """The base book opened and saved by LibreOffice (headless), as people's files are."""
    source = _base(folder)
    out = folder / "libreoffice"
    subprocess.run(
        [
            shutil.which("soffice") or "soffice",
            "--headless",
            f"-env:UserInstallation=file://{folder}/profile",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(out),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=180,
    )
    path = folder / "resaved.xlsx"
    shutil.copy(out / source.name, path)
    return path


QUEUE_HEADERS = tuple(SCHEMA.tab("invoices").column(key).header["en"] for key in QUEUE_COLUMNS)


def _queue(name: str, *records: str) -> QueueView:
    """A queue tab as the planner makes it: dates as ISO text, amounts as numbers."""
    rows = tuple(
        (r, "Globex", f"A-{i}", f"2026-10-0{i}T00:00:00", 1234.5 + i, "EUR", "x.pdf", "New", None)
        for i, r in enumerate(records, start=1)
    )
    return QueueView(name, SCHEMA.queue_title(name, "en"), QUEUE_HEADERS, rows)


def _setting(key: str) -> str:
    return SCHEMA.labels.settings_keys[key]["en"]


CASES: dict[str, SheetChanges] = {
    "writes: ID first, compare-and-set, deleted record, text, numbers, blanks": SheetChanges(
        writes=[
            CellWrite("invoices", "INV-000003", 4, "status", "New", None),  # before its ID
            CellWrite("invoices", None, 4, "id", "INV-000003", None),
            CellWrite("invoices", "INV-000001", 2, "decision", None, "Approve"),  # conflict
            CellWrite("invoices", "INV-000001", 2, "status", "New", "New"),  # already holds it
            CellWrite("invoices", "INV-000001", 2, "note", '=HYPERLINK("x") & <b> "q"\x01', None),
            CellWrite("invoices", "INV-000002", 3, "amount", 13, 12.5),
            CellWrite("invoices", "INV-000002", 3, "comment", 1.25, None),
            CellWrite("invoices", "INV-000002", 9, "updated", True, None),  # moved row
            CellWrite("invoices", "INV-000099", 7, "status", "New", None),  # gone
            CellWrite("invoices", "INV-000001", 2, "decision", None, "Rework"),
            CellWrite("deals", "D-1", 2, "note", "seen", None),
        ]
    ),
    "rows below the prepared ones unlock people's cells": SheetChanges(
        writes=[
            CellWrite("invoices", "INV-000005", 1005, "status", "New", None),
            CellWrite("invoices", "INV-000005", 1005, "note", "fill in", None),
            CellWrite("invoices", None, 1006, "id", "INV-000006", None),
            CellWrite("invoices", "INV-000006", 1006, "status", "New", None),
        ]
    ),
    "locks and unlocks, styled and plain cells": SheetChanges(
        locks=[
            CellLock("invoices", "INV-000002", "accountant", True),
            CellLock("invoices", "INV-000001", "accountant", False),
            CellLock("invoices", "INV-000005", "accountant", True),
            CellLock("invoices", "INV-000001", "status", True),
            CellLock("invoices", "INV-000404", "accountant", True),
        ]
    ),
    "Log rows appended below the last row": SheetChanges(
        log=[
            LogEntry("10:00", "invoice", "INV-000001", "transition", "New", "Rework", "Dana"),
            LogEntry("10:01", "deal", "D-1", "payment", details="=1+1 & <tag>"),
        ]
    ),
    "queue tabs rewritten in place": SheetChanges(
        queues=[
            _queue("Axel Accountant", "INV-000001", "INV-000002"),
            _queue("Bea Accountant", "INV-000003"),
        ]
    ),
    "a whole tick: writes, a lock, Log, queues": SheetChanges(
        writes=[
            CellWrite("invoices", "INV-000002", 3, "status", "In payment", None),
            CellWrite("invoices", "INV-000005", 1005, "status", "In payment", None),
        ],
        locks=[
            CellLock("invoices", "INV-000002", "accountant", True),
            CellLock("invoices", "INV-000005", "accountant", True),
        ],
        log=[LogEntry("11:00", "invoice", "INV-000002", "transition", "A", "B", "Bea")],
        queues=[_queue("Axel Accountant"), _queue("Bea Accountant", "INV-000002")],
    ),
    "typed values: date cells and money formats, on prepared rows and below them": SheetChanges(
        writes=[
            CellWrite(
                "invoices", "INV-000005", 1005, "invoice_date", "2026-10-02T00:00:00", "02.10.2026"
            ),
            CellWrite("invoices", "INV-000005", 1005, "amount", 1234.5, "1 234,50"),
            CellWrite("invoices", "INV-000005", 1005, "paid_on", "2026-11-04T00:00:00", None),
            CellWrite("invoices", "INV-000002", 3, "invoice_date", "2026-10-03T00:00:00", None),
            CellWrite("invoices", "INV-000002", 3, "paid_on", "04.11.2026", None),  # not ISO: text
            CellWrite("invoices", "INV-000001", 2, "paid_on", "2026-11-04T10:00:00+01:00", None),
            CellWrite("invoices", "INV-000001", 2, "amount", 10**17 + 1, None),
            CellWrite("invoices", "INV-000001", 2, "comment", 0.1 + 0.2, None),
            CellWrite("deals", "D-1", 2, "paid", 150.25, 100),
        ]
    ),
    "queue tabs with dates and amounts": SheetChanges(
        queues=[
            _queue("Axel Accountant", "INV-000001", "INV-000002", "INV-000005"),
            _queue("Bea Accountant"),
        ]
    ),
    "the hidden Lists tab rewritten (People changed)": SheetChanges(
        lists={
            "directors": ["Dana Director", "Dora Director"],
            "accountants": [],
            "managers": ["Mia Manager", "Max Manager", "Mo Manager"],
        }
    ),
    "new rows appended below the last one, then written": SheetChanges(
        appends=[
            RowAppend("invoices", "INV-000007", {"supplier": "Globex", "amount": 12.5}),
            RowAppend("invoices", "INV-000001", {"supplier": "again"}),  # there already
            RowAppend("invoices", "INV-000008", {"invoice_file": "=not a formula", "x": 1}),
            RowAppend("deals", "D-2", {"deal": "Deal 2", "amount": 300}),
        ],
        writes=[
            CellWrite("invoices", "INV-000007", 0, "status", "New", None),
            CellWrite("invoices", "INV-000008", 0, "invoice_date", "2026-10-05T00:00:00", None),
        ],
    ),
    "a Settings value written (the invoices folder's status)": SheetChanges(
        writes=[CellWrite("settings", _setting("company"), 2, "value", "Northwind", "N")]
    ),
}


def _look(cell: Any) -> tuple[Any, ...]:
    """What a person sees of a cell besides its value: format, font, fill, alignment, lock."""
    font, fill, align, border = cell.font, cell.fill, cell.alignment, cell.border
    return (
        cell.number_format,
        (
            font.b,
            font.i,
            font.name,
            font.sz,
            (font.color.type, font.color.value) if font.color else None,
        ),
        (fill.fill_type, (fill.fgColor.type, fill.fgColor.value) if fill.fgColor else None),
        # None and the default mean the same to LibreOffice and Excel (it re-saves them so)
        (align.horizontal or "general", align.vertical or "bottom", bool(align.wrap_text)),
        (cell.protection.locked, cell.protection.hidden),
        tuple(getattr(border, side).style for side in ("left", "right", "top", "bottom")),
        cell.comment.text if cell.comment else None,
    )


def _snapshot(path: Path) -> dict[str, Any]:
    wb = openpyxl.load_workbook(path)
    seen: dict[str, Any] = {"tabs": [(ws.title, ws.sheet_state) for ws in wb.worksheets]}
    for ws in wb.worksheets:
        cells = {}
        for (row, col), cell in ws._cells.items():
            if cell.value is None and not cell.has_style:
                continue
            cells[(row, col)] = (
                cell.value,
                cell.data_type if cell.value is not None else None,
                *_look(cell),
            )
        seen[ws.title] = {
            "cells": cells,
            "protected": ws.protection.sheet,
            "freeze": ws.freeze_panes,
            "validations": sorted(
                (str(v.sqref), v.formula1) for v in ws.data_validations.dataValidation
            ),
            "conditional formats": sorted(
                (str(cf.sqref), tuple(tuple(r.formula or ()) for r in cf.rules))
                for cf in ws.conditional_formatting
            ),
            "columns": {  # by column: LibreOffice saves neighbours alike as one range
                column: (round(d.width, 1), d.protection.locked if d.protection else None)
                for d in ws.column_dimensions.values()
                for column in range(d.min or 1, (d.max or d.min or 1) + 1)
            },
        }
    read = WorkbookBook(path, SCHEMA).read()
    seen["read"] = {k: [r.values for r in t.rows] for k, t in read.tables.items()}
    return seen


def _reads_alike(path: Path) -> list[str]:
    """The reader's rows (`workbook_read.values_by_row`) are openpyxl's `iter_rows`, every tab."""
    problems = []
    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        for tab in book.worksheets:
            tab.reset_dimensions()
            ours = [tuple(r) for r in workbook_read.values_by_row(tab)]
            tab.reset_dimensions()
            theirs = [tuple(r) for r in tab.iter_rows(values_only=True)]
            if ours != theirs:
                problems.append(f"/{tab.title}: the fast reader differs from openpyxl's iter_rows")
    finally:
        book.close()  # a read-only book keeps its file open until closed
    return problems


def _diff(a: Any, b: Any, where: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a or key not in b:
                out.append(f"{where}/{key}: only in {'fast' if key in a else 'openpyxl'}")
            else:
                out += _diff(a[key], b[key], f"{where}/{key}")
        return out
    return [] if a == b else [f"{where}: fast {a!r} ≠ openpyxl {b!r}"]


def check(
    report: Callable[[str], None] = print, *, libreoffice: bool = False, scenario: bool = True
) -> bool:
    folder = Path(tempfile.mkdtemp(prefix="sheetflow-fastcheck-"))
    ok = True
    used: list[bool] = []
    original = workbook_module.fast_apply  # type: ignore[attr-defined]

    def watched(*args: Any) -> Any:
        result = original(*args)
        used.append(result is not None)
        return result

    workbook_module.fast_apply = watched  # type: ignore[attr-defined,assignment]
    try:
        base = _resaved_by_libreoffice(folder) if libreoffice else _base(folder)
        cases = [(name, base, changes) for name, changes in CASES.items()]
        if scenario:
            cases += scenario_cases(folder)
        for name, base, changes in cases:
            fast_path, slow_path = folder / "fast.xlsx", folder / "slow.xlsx"
            shutil.copy(base, fast_path)
            shutil.copy(base, slow_path)
            fast_book, slow_book = WorkbookBook(fast_path, SCHEMA), WorkbookBook(slow_path, SCHEMA)
            used.clear()
            fast_skipped = fast_book.apply(changes, fast_book.read().fingerprint)
            took_fast = used == [True]
            fingerprint = slow_book.read().fingerprint
            slow_book._seen = None  # no read kept: the openpyxl path
            slow_skipped = slow_book.apply(changes, fingerprint)
            problems = _diff(_snapshot(fast_path), _snapshot(slow_path))
            problems += _reads_alike(fast_path) + _reads_alike(slow_path)
            problems += _diff(fast_skipped, slow_skipped, "/skipped")
            if not took_fast:
                problems.append("the fast path declined these changes")
            ok = ok and not problems
            report(f"  {'same' if not problems else 'DIFFERENT'}: {name}")
            for line in problems[:20]:
                report(f"      {line}")
    finally:
        workbook_module.fast_apply = original  # type: ignore[attr-defined]
        shutil.rmtree(folder, ignore_errors=True)
    return ok


if __name__ == "__main__":
    ok = check()
    if "--libreoffice" in sys.argv:
        print("  the same cases on the book as LibreOffice saved it:")
        ok = check(libreoffice=True, scenario=False) and ok
    sys.exit(0 if ok else 1)
