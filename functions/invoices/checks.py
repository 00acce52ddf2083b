"""What is wrong with an invoice row, in plain words (pure; the flow decides what to do)."""

from __future__ import annotations

from collections.abc import Mapping

from functions.flow_context import FlowContext
from functions.model import Stored
from functions.text.messages import problem_text
from functions.text.parsing import Parser, parse_amount, parse_date, parse_email, text

REQUIRED = (
    "manager",
    "supplier",
    "supplier_email",
    "invoice_no",
    "invoice_date",
    "amount",
    "invoice_file",
)
_BEFORE_APPROVAL = ("new", "awaiting_decision", "rework")


def check_fields(values: Mapping[str, Stored], ctx: FlowContext) -> list[str]:
    """Problems with the manager's part of the row, in plain words."""
    checks: list[tuple[str, Parser]] = [
        ("supplier_email", parse_email),
        ("invoice_date", parse_date),
        ("amount", parse_amount),
    ]
    missing = [ctx.header(k) for k in REQUIRED if not text(values.get(k))]
    problems = [ctx.say("fill_in", fields=", ".join(missing))] if missing else []
    manager = values.get("manager")
    if text(manager) and ctx.people.find(manager, "manager") is None:
        problems.append(
            ctx.say(
                "not_active_person",
                label=ctx.header("manager"),
                value=text(manager),
                role=ctx.role("manager"),
            )
        )
    for column, parse in checks:
        if text(values.get(column)):
            _, problem = parse(values.get(column), ctx.header(column), ctx.locale)
            if problem:
                problems.append(problem_text(problem, ctx.locale))
    return problems


def paid_on_problem(status: str, values: Mapping[str, Stored], ctx: FlowContext) -> str | None:
    """Paid on typed before the invoice was approved is told at once, not at approval."""
    if status in _BEFORE_APPROVAL and text(values.get("paid_on")):
        return ctx.say("paid_on_too_early", label=ctx.header("paid_on"))
    return None


def duplicate_problem(others: list[tuple[str, str]], ctx: FlowContext) -> str:
    listed = ", ".join(ctx.say("duplicate_item", record=r, status=s) for r, s in others)
    return ctx.say("possible_duplicate", others=listed, first=", ".join(r for r, _ in others))
