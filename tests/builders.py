"""Test data builders: people, settings, invoice rows and a flow context."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from functions.directory import Directory, Person, Settings
from functions.flow_context import FlowContext
from functions.invoice_flow import RowOutcome, plan_invoice
from functions.model import SheetRow
from functions.schema import load_schema

NOW = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)
MANAGER = Person("Maria Lopez", "maria@example.com", "manager", True)
DIRECTOR = Person("Dmitry Volkov", "dmitry@example.com", "director", True)
DIRECTOR_2 = Person("Elena Sokolova", "elena@example.com", "director", True)
ACCOUNTANT = Person("Irina K", "irina@example.com", "accountant", True)
ACCOUNTANT_2 = Person("Sergey Popov", "sergey@example.com", "accountant", True)
RETIRED = Person("Old Accountant", "old@example.com", "accountant", False)
PEOPLE = Directory((MANAGER, DIRECTOR, DIRECTOR_2, ACCOUNTANT, ACCOUNTANT_2, RETIRED))
SETTINGS = Settings(
    company="Northwind", time_zone="Europe/Berlin", currency="EUR", sender="flow@example.com"
)


# The edits that take an invoice through its steps, for `walk`.
APPROVED = ({"decision": "Approve"},)
CLAIMED = (*APPROVED, {"accountant": "Irina K"})
PAID = (*CLAIMED, {"paid_on": "28.11.2026"})


def context(
    now: datetime = NOW,
    locale: str = "en",
    *,
    people: Directory = PEOPLE,
    settings: Settings = SETTINGS,
) -> FlowContext:
    return FlowContext(load_schema(), locale, people, settings, now)  # type: ignore[arg-type]


def invoice(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "id": "INV-000001",
        "manager": "Maria Lopez",
        "supplier": "Acme Steel",
        "supplier_email": "billing@acme.example",
        "invoice_no": "A-17",
        "invoice_date": "20.11.2026",
        "amount": 1234.5,
        "currency": "EUR",
        "invoice_file": "https://files.example/A-17.pdf",
        "signer": "Dmitry Volkov",
        "decision": None,
        "comment": None,
        "accountant": None,
        "paid_on": None,
        "closing_docs": None,
        "status": None,
        "note": None,
        "updated": None,
    }
    values.update(overrides)
    return values


def typed_invoice(number: str, manager: str = "Maria Lopez", **extra: object) -> dict[str, object]:
    """A valid invoice row as a manager types it (column key → value), with `extra` on top.

    The one builder of typed rows: a test states only what its story needs to differ.
    """
    return {
        "manager": manager,
        "supplier": "Acme",
        "supplier_email": "billing@acme.example",
        "invoice_no": number,
        "invoice_date": "20.11.2026",
        "amount": 100,
        "invoice_file": f"https://files.example/{number}.pdf",
        "signer": "Dmitry Volkov",
        **extra,
    }


def supplier_invoice(number: str, invoice_date: object, amount: object) -> dict[str, object]:
    """A typed row in EUR from a supplier of its own, named after the invoice number."""
    typed = typed_invoice(
        number,
        supplier=f"Supplier {number}",
        supplier_email=f"billing-{number.lower()}@supplier.example",
        invoice_date=invoice_date,
        amount=amount,
        currency="EUR",
    )
    return {**typed, "invoice_file": f"https://files.northwind.example/invoices/{number}.pdf"}


def step(
    values: dict[str, Any], previous: dict[str, Any] | None = None, now: datetime = NOW
) -> RowOutcome:
    """Run the flow on one row, as a tick would."""
    return plan_invoice(
        values.get("id") or "INV-000001", SheetRow(2, values), previous, context(now)
    )


def carry(out: RowOutcome) -> dict[str, Any]:
    """The snapshot entry a tick would save after `out`."""
    return {"values": dict(out.values), "state": out.state.to_json()}


def walk(values: dict[str, Any], *edits: dict[str, Any]) -> tuple[RowOutcome, dict[str, Any]]:
    """Tick once, then apply each edit to the sheet and tick again; return the last outcome."""
    out = step(values)
    for edit in edits:
        sheet = {**out.values, **edit}
        out = step(sheet, carry(out))
    return out, carry(out)


def statuses(out: RowOutcome) -> list[str]:
    """The statuses a row moved to in one tick."""
    return [to for _, to in out.transitions]


def recipients(out: RowOutcome) -> list[tuple[str, str]]:
    """Each email of a tick as (template, address)."""
    return [(e.template, e.to[0].email) for e in out.emails]
