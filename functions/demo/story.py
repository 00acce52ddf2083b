"""`sheetflow demo`: the invoice story played by scripted people on a new local workbook."""

from __future__ import annotations

import os
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.demo.invoice import invoice_pdf
from functions.schema import load_schema
from functions.text import formats
from functions.tick.engine import Engine
from functions.wiring.bootstrap import Config, build_engine
from functions.wiring.console import print_report, print_report_tab

ZONE = ZoneInfo("Europe/Berlin")
PEOPLE = [
    ("Maria Lopez", "maria.lopez@northwind.example", "manager", True),
    ("Dmitry Volkov", "dmitry.volkov@northwind.example", "director", True),
    ("Elena Sokolova", "elena.sokolova@northwind.example", "director", True),
    ("Irina Kuznetsova", "irina.k@northwind.example", "accountant", True),
    ("Sergey Popov", "sergey.popov@northwind.example", "accountant", True),
]
DEALS = [
    {
        "deal_id": "D-1001",
        "deal": "Steel beams for Acme",
        "manager": "Maria Lopez",
        "stage": "Contract signed",
        "amount": 20000,
        "paid": 0,
        "paid_pct": 0,
        "order_no": "ORD-5521",
        "invoice_no": "S-3301",
    },
    {
        "deal_id": "D-1002",
        "deal": "Paper stock for Baltic",
        "manager": "Maria Lopez",
        "stage": "Shipped",
        "amount": 10000,
        "paid": 5000,
        "paid_pct": 0.5,
        "order_no": "ORD-5530",
        "invoice_no": "S-3307",
    },
]
SETTINGS = {
    "company": "Northwind Trading",
    "locale": "en",
    "time_zone": "Europe/Berlin",
    "currency": "EUR",
    "sender": "sheetflow@northwind.example",
    "deal_alerts_to": "dmitry.volkov@northwind.example",
    "invoices_folder": "Invoices",
}
FOLDER_FILE = "Invoices/Maria Lopez/Acme A-1017.pdf"  # her subfolder: Manager = Maria Lopez


def _invoice(
    supplier: str, email: str, number: str, amount: object, signer: str
) -> dict[str, object]:
    return {
        "manager": "Maria Lopez",
        "supplier": supplier,
        "supplier_email": email,
        "invoice_no": number,
        "invoice_date": "20.11.2026",
        "amount": amount,
        "currency": "EUR",
        "invoice_file": f"https://files.northwind.example/invoices/{number}.pdf",
        "signer": signer,
    }


# Each step: what happens, then the cells people change.
Edit = tuple[str, str, dict[str, object]]  # tab, record ID or "new", cells


def _story() -> list[tuple[str, list[Edit]]]:
    today = datetime.now(ZONE).strftime("%d.%m.%Y")
    v2 = "https://files.northwind.example/invoices/BP-88-v2.pdf"
    return [
        (
            "Maria checks what was read from Acme's PDF, adds its supplier email and a signer,"
            " and types two more invoices (the last one without a supplier email)",
            [
                (
                    "invoices",
                    "INV-000001",
                    {"supplier_email": "billing@acme.example", "signer": "Dmitry Volkov"},
                ),
                (
                    "invoices",
                    "new",
                    _invoice(
                        "Baltic Paper", "accounts@baltic.example", "BP-88", 5600, "Elena Sokolova"
                    ),
                ),
                ("invoices", "new", _invoice("Crown Tools", "", "CT-3", "980.00", "Dmitry Volkov")),
            ],
        ),
        (
            "Dmitry approves INV-000001; Elena picks Rework for INV-000002 but forgets the comment",
            [
                ("invoices", "INV-000001", {"decision": "Approve"}),
                ("invoices", "INV-000002", {"decision": "Rework"}),
            ],
        ),
        (
            "Elena adds her comment; Maria fills in the missing supplier email of INV-000003",
            [
                (
                    "invoices",
                    "INV-000002",
                    {"comment": "Wrong VAT rate, please ask for a corrected invoice"},
                ),
                ("invoices", "INV-000003", {"supplier_email": "sales@crown.example"}),
            ],
        ),
        (
            "Maria uploads the supplier's corrected scan for INV-000002",
            [("invoices", "INV-000002", {"invoice_file": v2})],
        ),
        ("Elena approves INV-000002", [("invoices", "INV-000002", {"decision": "Approve"})]),
        (
            "Irina takes INV-000001 first",
            [("invoices", "INV-000001", {"accountant": "Irina Kuznetsova"})],
        ),
        (
            "Sergey, a minute late, overwrites the Accountant cell of INV-000001 with his name",
            [("invoices", "INV-000001", {"accountant": "Sergey Popov"})],
        ),
        (
            "Irina pays INV-000001 and writes the payment date",
            [("invoices", "INV-000001", {"paid_on": today})],
        ),
        (
            "Maria attaches the closing documents of INV-000001",
            [
                (
                    "invoices",
                    "INV-000001",
                    {"closing_docs": "https://files.northwind.example/closing/A-1017.pdf"},
                )
            ],
        ),
        (
            "Acme pays 30 % of deal D-1001 (the CRM export updates Paid and Paid %)",
            [("deals", "D-1001", {"paid": 6000, "paid_pct": 0.3})],
        ),
        (
            "Acme pays the rest of D-1001",
            [("deals", "D-1001", {"paid": 20000, "paid_pct": 1.0})],
        ),
        (
            "Baltic Paper gets 1 000 back on D-1002 (a refund)",
            [("deals", "D-1002", {"paid": 4000, "paid_pct": 0.4})],
        ),
    ]


def play(directory: Path, console: Console, bitrix24: bool = False) -> None:
    directory.mkdir(parents=True, exist_ok=True)
    book = directory / "sheetflow.xlsx"
    leftovers = (book, book.with_name("sheetflow.state.sqlite"), directory / "outbox")
    for leftover in (*leftovers, directory / "Invoices"):
        if leftover.is_dir():
            shutil.rmtree(leftover)
        else:
            leftover.unlink(missing_ok=True)
    schema = load_schema()
    create_workbook(book, schema, "en", people=PEOPLE, settings=SETTINGS, force=True)
    console.rule("[bold]sheetflow demo[/bold]")
    console.print(f"Created {book} with People and Settings for {SETTINGS['company']}.")
    engine = build_engine(Config(str(book)))
    edit = WorkbookEditor(book, schema)
    for deal in DEALS:  # the pipeline already in the CRM: the first tick records it silently
        edit.add_row("deals", deal)
    console.print(f"The Deals tab starts with {len(DEALS)} deals from the CRM.")
    clock = datetime.now(ZONE).replace(hour=9, minute=0, second=0, microsecond=0)
    dropped = directory / FOLDER_FILE
    dropped.parent.mkdir(parents=True, exist_ok=True)
    dropped.write_bytes(invoice_pdf())
    a_minute_ago = time.time() - 60  # a copy still in progress (a fresh file) waits a tick
    os.utime(dropped, (a_minute_ago, a_minute_ago))
    console.print()
    console.print(
        f"[bold]0. Maria drops Acme's invoice into the invoices folder ({FOLDER_FILE})[/bold]"
    )
    print_report(engine.tick(clock), console)
    for step, (what, edits) in enumerate(_story(), start=1):
        console.print()
        console.print(f"[bold]{step}. {what}[/bold]")
        for tab, record, values in edits:
            if record == "new":
                edit.add_row(tab, values)
            else:
                edit.set(tab, record, values)
        clock += timedelta(minutes=37)
        print_report(engine.tick(clock), console)
    _summary(edit, book, console)
    title = _report(engine, clock, console)
    if bitrix24:
        from functions.demo.bitrix24.play import play_bitrix24

        play_bitrix24(engine, clock, console)
    console.print(
        f"Open [bold]{book}[/bold] in LibreOffice or Excel: tabs Invoices, Deals, Log,"
        f" Queue — … and “{title}” (with its chart). The emails are in "
        f"[bold]{book.parent / 'outbox'}[/bold]."
    )


def _report(engine: Engine, clock: datetime, console: Console) -> str:
    tab = engine.monthly_report(clock.strftime("%Y-%m"), clock)
    console.print()
    print_report_tab(tab, console, engine.locale)
    return tab.title


def _summary(edit: WorkbookEditor, book: Path, console: Console) -> None:
    console.print()
    console.rule("[bold]where things stand[/bold]")
    table = Table("ID", "Supplier", "Amount", "Status", "Accountant", "Note", header_style="bold")
    for row in edit.rows("invoices"):
        amount = row.get("amount")
        keys = ("id", "supplier", "amount", "status", "accountant", "note")
        cells = {k: str(row.get(k) or "") for k in keys}
        if isinstance(amount, int | float) and not isinstance(amount, bool):
            cells["amount"] = formats.amount(amount, "en")  # the demo book is English
        table.add_row(*(escape(cells[k]) for k in keys))
    console.print(table)
    outbox = sorted((book.parent / "outbox").glob("*.eml"))
    console.print(f"{len(outbox)} emails were sent.")
