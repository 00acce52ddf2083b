"""The benchmark's data: N invoices and N deals in a steady state, and 1 % of rows edited.

Every value is what a person types (text, numbers), so the same rows go into an in-memory
BookRead, a real .xlsx workbook and the Google double. Deterministic: no clock, fixed seeds.

Invoices cycle through the stages a long-running sheet holds (i % 10):
    0      New (no signer chosen yet)
    1, 2   Awaiting decision
    3      Awaiting accountant (approved)
    4      In payment (claimed: the Accountant cell is locked)
    5      Awaiting closing docs (paid)
    6..9   Closed
Deals: a third unpaid, a third partly paid, a third fully paid.

The edits between ticks (1 % of each tab, a seeded random sample) are what people do:
each invoice row picked takes its next workflow step (choose a signer, approve, claim, pay,
attach closing docs: each one a transition with emails), and a closed invoice gets a
Comment typed (no transition); each deal picked receives a payment (Paid and Paid %
change: one alert email) when its index is even, or moves to another Stage otherwise.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from typing import Any

from functions.directory import settings_rows as book_settings_rows
from functions.model import BookRead, SheetRow, TableRead
from functions.record import compact
from functions.schema import Schema

PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", True),
    ("Tom Baker", "tom@example.com", "manager", True),
    ("Anna Berg", "anna@example.com", "manager", True),
    ("Dmitry Volkov", "dmitry@example.com", "director", True),
    ("Elena Sokolova", "elena@example.com", "director", True),
    ("Irina K", "irina@example.com", "accountant", True),
    ("Sergey Popov", "sergey@example.com", "accountant", True),
]
SETTINGS = {
    "company": "Northwind",
    "time_zone": "Europe/Berlin",
    "currency": "EUR",
    "sender": "flow@example.com",
}
MANAGERS = [p[0] for p in PEOPLE if p[2] == "manager"]
DIRECTORS = [p[0] for p in PEOPLE if p[2] == "director"]
ACCOUNTANTS = [p[0] for p in PEOPLE if p[2] == "accountant"]
SUPPLIERS = ["Acme Steel", "Globex", "Initech", "Umbrella Parts", "Stark Logistics"]
STAGES = ["Lead", "Proposal", "Contract", "Delivery", "Done"]
# The first tick (seeding) and the measured ticks, five minutes apart.
START = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
TICK = timedelta(minutes=5)
EDIT_SHARE = 0.01


def invoice_row(i: int) -> dict[str, Any]:
    """Invoice number i (1-based) as people typed it."""
    stage = i % 10
    supplier = SUPPLIERS[i % len(SUPPLIERS)]
    row: dict[str, Any] = {
        "id": f"INV-{i:06d}",
        "manager": MANAGERS[i % len(MANAGERS)],
        "supplier": supplier,
        "supplier_email": f"billing{i % 97}@{supplier.split()[0].lower()}.example",
        "invoice_no": f"A-{i}",
        "invoice_date": f"{1 + i % 28:02d}.10.2026",
        "amount": round(100 + (i * 37.5) % 9000, 2),
        "currency": "EUR",
        "invoice_file": f"https://files.example/invoices/A-{i}.pdf",
    }
    if stage >= 1:
        row["signer"] = DIRECTORS[i % len(DIRECTORS)]
    if stage >= 3:
        row["decision"] = "Approve"
    if stage >= 4:
        row["accountant"] = ACCOUNTANTS[i % len(ACCOUNTANTS)]
    if stage >= 5:
        row["paid_on"] = "2026-11-03"
    if stage >= 6:
        row["closing_docs"] = f"https://files.example/closing/A-{i}.pdf"
    return row


def deal_row(i: int) -> dict[str, Any]:
    amount = 1000 + (i * 13) % 50_000
    kind = i % 3
    paid = 0 if kind == 0 else (amount // 2 if kind == 1 else amount)
    return {
        "deal_id": f"D-{i:06d}",
        "deal": f"Deal {i}",
        "manager": MANAGERS[i % len(MANAGERS)],
        "stage": STAGES[i % len(STAGES)],
        "amount": amount,
        "paid": paid,
        "paid_pct": round(paid * 100 / amount, 2),
        "order_no": f"O-{i}",
        "invoice_no": f"A-{i}",
    }


def invoice_edit(i: int) -> dict[str, Any]:
    """The next step people take on invoice i (see the module docstring)."""
    stage = i % 10
    if stage == 0:
        return {"signer": DIRECTORS[i % len(DIRECTORS)]}
    if stage in (1, 2):
        return {"decision": "Approve"}
    if stage == 3:
        return {"accountant": ACCOUNTANTS[i % len(ACCOUNTANTS)]}
    if stage == 4:
        return {"paid_on": "2026-11-04"}
    if stage == 5:
        return {"closing_docs": f"https://files.example/closing/A-{i}.pdf"}
    return {"comment": "checked by the auditor"}


def deal_edit(i: int, deal: dict[str, Any]) -> dict[str, Any]:
    if i % 2 == 0:  # a payment arrives: a tenth of the amount, capped at the amount
        paid = min(deal["amount"], (deal["paid"] or 0) + deal["amount"] // 10)
        if paid == deal["paid"]:  # fully paid already: a refund of a tenth
            paid = deal["paid"] - deal["amount"] // 10
        return {"paid": paid, "paid_pct": round(paid * 100 / deal["amount"], 2)}
    return {"stage": STAGES[(STAGES.index(deal["stage"]) + 1) % len(STAGES)]}


def picked(n: int, seed: int) -> list[int]:
    """The 1-based row indexes edited in one round (1 %, at least one)."""
    count = max(1, round(n * EDIT_SHARE))
    return sorted(random.Random(seed).sample(range(1, n + 1), count))


class Rows:
    """Invoices and deals as dicts by column key, in sheet order (index i-1 is row i+1)."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.invoices = [invoice_row(i) for i in range(1, n + 1)]
        self.deals = [deal_row(i) for i in range(1, n + 1)]

    def edits(self, seed: int) -> dict[str, dict[int, dict[str, Any]]]:
        """One round of people's edits: tab → 1-based index → {column: value}."""
        return {
            "invoices": {i: invoice_edit(i) for i in picked(self.n, seed)},
            "deals": {i: deal_edit(i, self.deals[i - 1]) for i in picked(self.n, seed + 1)},
        }

    def apply_edits(self, edits: dict[str, dict[int, dict[str, Any]]]) -> None:
        for tab, by_index in edits.items():
            rows = self.invoices if tab == "invoices" else self.deals
            for i, values in by_index.items():
                rows[i - 1].update(values)

    def apply_writes(self, writes: list[Any]) -> None:
        """What the tick wrote (CellWrites: rows are sheet rows, 2 = the first data row)."""
        for w in writes:
            rows = self.invoices if w.tab == "invoices" else self.deals
            rows[w.row - 2][w.column] = w.value


def people_rows() -> list[dict[str, Any]]:
    return [
        {"name": n, "email": e, "role": r, "active": "Yes" if a else "No"} for n, e, r, a in PEOPLE
    ]


def settings_rows(schema: Schema) -> list[dict[str, Any]]:
    """Settings as `init` writes them (every key, defaults filled in, Locale too): a seed
    whose Settings differed from the book's would make the first tick re-evaluate every row."""
    rows = book_settings_rows(schema, "en", SETTINGS)[1:]
    return [{"key": key, "value": value} for key, value, *_ in rows]


def table(schema: Schema, tab: str, rows: list[dict[str, Any]]) -> TableRead:
    columns = tuple(c.key for c in schema.tab(tab).columns)
    return TableRead(
        tab,
        schema.tab(tab).title["en"],
        columns,
        # Compact rows with shared texts, as the adapters' read() returns them.
        tuple(SheetRow(n, compact(columns, map(r.get, columns))) for n, r in enumerate(rows, 2)),
    )


def book_read(schema: Schema, rows: Rows) -> BookRead:
    """What an adapter's read() would return for these rows (English locale)."""
    return BookRead(
        "en",
        {
            "invoices": table(schema, "invoices", rows.invoices),
            "deals": table(schema, "deals", rows.deals),
            "people": table(schema, "people", people_rows()),
            "settings": table(schema, "settings", settings_rows(schema)),
        },
        "bench",
    )
