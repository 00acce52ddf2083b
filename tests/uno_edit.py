"""Edit a workbook through real LibreOffice Calc (Python-UNO), the way a person would.

Run by Debian's python3 (`/usr/bin/python3`, which has the `uno` module), not the venv:
    python3 tests/uno_edit.py BOOK.xlsx OUT.json
It starts a headless soffice on a private pipe, opens BOOK, makes every edit listed in
ACTIONS on the Invoices tab, saves BOOK as .xlsx and writes {action: "done" | "refused: …"}.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import uno  # type: ignore[import-not-found]
from com.sun.star.beans import PropertyValue  # type: ignore[import-not-found]

SORT_DESCENDING = False


def prop(name: str, value: Any) -> Any:
    item = PropertyValue()
    item.Name, item.Value = name, value
    return item


def connect(pipe: str) -> Any:
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext(
        "com.sun.star.bridge.UnoUrlResolver", local
    )
    deadline = time.monotonic() + 90
    while True:
        try:
            ctx = resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
            return ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        except Exception:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def columns(sheet: Any) -> dict[str, int]:
    found = {}
    for col in range(40):
        text = sheet.getCellByPosition(col, 0).getString().strip()
        if text:
            found[text] = col
    return found


def row_of(sheet: Any, record: str) -> int:
    for row in range(1, 200):
        if sheet.getCellByPosition(0, row).getString() == record:
            return row
    raise LookupError(record)


def last_row(sheet: Any) -> int:
    cursor = sheet.createCursor()
    cursor.gotoEndOfUsedArea(False)
    return int(cursor.getRangeAddress().EndRow)


def protected(sheet: Any, action: str) -> None:
    """Sorting, pasting and typing into a locked cell are refused by LibreOffice's UI on a
    protected sheet but not by its API, so the check is made here as the UI makes it.
    Inserting and deleting rows need no such help: the API itself refuses them."""
    if sheet.isProtected():
        raise PermissionError(f"the sheet is protected: LibreOffice refuses to {action}")


def sort_by_amount(sheet: Any, col: dict[str, int]) -> None:
    protected(sheet, "sort")
    end = last_row(sheet)
    area = sheet.getCellRangeByPosition(0, 0, max(col.values()), end)
    field = uno.createUnoStruct("com.sun.star.table.TableSortField")
    field.Field, field.IsAscending = col["Amount"], SORT_DESCENDING
    area.sort(
        (
            prop("ContainsHeader", True),
            prop("SortFields", uno.Any("[]com.sun.star.table.TableSortField", (field,))),
        )
    )


def insert_row(sheet: Any, at: int) -> None:
    sheet.getRows().insertByIndex(at, 1)


def delete_row(sheet: Any, at: int) -> None:
    sheet.getRows().removeByIndex(at, 1)


def paste_row(sheet: Any, source: int, target: int, width: int) -> None:
    """Copy a whole row and paste it below the data, as a person does with Ctrl+C / Ctrl+V."""
    protected(sheet, "paste")
    src = sheet.getCellRangeByPosition(0, source, width, source).getRangeAddress()
    dst = sheet.getCellByPosition(0, target).getCellAddress()
    sheet.copyRange(dst, src)


def type_into(sheet: Any, row: int, col: int, value: str) -> None:
    """As typed in the cell: LibreOffice reads `750` as a number, like its input line does."""
    cell = sheet.getCellByPosition(col, row)
    if sheet.isProtected() and cell.getPropertyValue("CellProtection").IsLocked:
        raise PermissionError("the cell is protected: LibreOffice refuses the edit")
    cell.setFormula(value)


def edit(doc: Any, plan: dict[str, Any]) -> dict[str, str]:
    """Every edit of the plan in turn; each one that LibreOffice refuses is said, not fatal."""
    sheet = doc.getSheets().getByName(plan["sheet"])
    col = columns(sheet)
    width = max(col.values())
    outcome: dict[str, str] = {}

    def attempt(name: str, action: Any) -> None:
        try:
            action()
            outcome[name] = "done"
        except Exception as exc:  # what LibreOffice refused, said as it would say it
            outcome[name] = f"refused: {exc}"

    attempt("sort", lambda: sort_by_amount(sheet, col))
    attempt("insert", lambda: insert_row(sheet, 2))
    attempt("delete", lambda: delete_row(sheet, 2))
    source = row_of(sheet, plan["copy"])
    attempt("paste", lambda: paste_row(sheet, source, last_row(sheet) + 1, width))
    new_row = last_row(sheet) + 1
    for header, value in plan["new_row"].items():
        attempt(f"type {header}", lambda h=header, v=value: type_into(sheet, new_row, col[h], v))
    for header, (record, value) in plan["guarded"].items():
        attempt(
            f"type {header}",
            lambda h=header, r=record, v=value: type_into(sheet, row_of(sheet, r), col[h], v),
        )
    return outcome


def main(book: Path, out: Path, plan_json: str) -> None:
    plan = json.loads(plan_json)
    profile = Path(tempfile.mkdtemp(prefix="lo-uno-"))
    pipe = f"sheetflow-{uuid.uuid4().hex}"
    office = subprocess.Popen(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            "--nodefault",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        desktop = connect(pipe)
        doc = desktop.loadComponentFromURL(
            book.resolve().as_uri(), "_blank", 0, (prop("Hidden", True),)
        )
        outcome = edit(doc, plan)
        doc.storeToURL(book.resolve().as_uri(), (prop("FilterName", "Calc MS Excel 2007 XML"),))
        doc.close(True)
        out.write_text(json.dumps(outcome, ensure_ascii=False), encoding="utf-8")
        try:
            desktop.terminate()
        except Exception:  # the bridge goes down with the office: expected
            pass
        office.wait(60)
    finally:
        if office.poll() is None:
            os.killpg(office.pid, 9)
        shutil.rmtree(profile, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3])
