"""The invoice flow: a pure function of (row, snapshot, people, settings, now) → a row plan.

No I/O here. The engine feeds in what was read and applies what comes out. The controls
finance relies on live in the machine it drives: `transitions` declares the table,
`invoice_step` its guards and effects, `invoice_emails` who hears about each step; a decision
binds to the values it was made on, counts only when made after the signer was asked, and
paid values never change.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from functions.flow_context import FlowContext
from functions.invoices.checks import check_fields, paid_on_problem
from functions.invoices.state import Duplicates, InvoiceState, Lock, RowOutcome, no_duplicates
from functions.invoices.step import InvoiceStep
from functions.model import EmailIntent, SheetRow
from functions.transitions import TRANSITIONS, Transition, outgoing
from functions.typed_values import settle_typed_values

__all__ = ["FLOW", "Duplicates", "InvoiceState", "Lock", "RowOutcome", "plan_invoice"]
FLOW = "invoice"
_CHAIN_LIMIT = len(TRANSITIONS)  # a row can move at most this many steps in one tick


def plan_invoice(
    record: str,
    row: SheetRow,
    previous: Mapping[str, Any] | None,
    ctx: FlowContext,
    duplicates: Duplicates = no_duplicates,
) -> RowOutcome:
    """Move one invoice row as far as its cells allow, and say what to write, send and log."""
    r = InvoiceStep(record, row, previous, ctx, duplicates)
    if r.is_new:
        r.out.log.append(
            ctx.log(
                record,
                "created",
                to=ctx.label("new"),
                by=ctx.name_of(r.out.values.get("manager")),
            )
        )
        r.out.transitions.append(("", "new"))
    r.restore_protected()
    r.log_edits()
    moved: list[tuple[Transition, list[EmailIntent]]] = []
    for _ in range(_CHAIN_LIMIT):
        r.problems = []
        step = next((t for t in outgoing(r.state.status) if r.can(t)), None)
        if step is None:
            break
        moved.append((step, r.fire(step)))
    if r.state.status != "new":
        r.problems += [p for p in check_fields(r.out.values, ctx) if p not in r.problems]
    if problem := paid_on_problem(r.state.status, r.out.values, ctx):
        r.problems.append(problem)
    for index, (step, emails) in enumerate(moved):
        superseded = index < len(moved) - 1 and step.call_to_action
        if not superseded:
            r.out.emails += emails
    settled, typed_log = settle_typed_values(record, r.out.values, r.state.status, ctx)
    for column, value in settled.items():  # amounts as numbers, dates as dates; text in the Log
        r.out.set(column, value)
    r.out.log += typed_log
    _finish(r, bool(moved))
    return r.out


def _finish(r: InvoiceStep, moved: bool) -> None:
    ctx, out = r.ctx, r.out
    out.set("status", ctx.label(r.state.status))
    if moved or r.is_new:
        out.set("updated", ctx.local_now.strftime("%Y-%m-%d %H:%M"))
    if r.notices:
        r.state.notice = ". ".join(dict.fromkeys(r.notices))
    notice = [r.state.notice] if r.state.notice else []
    parts = [p for p in notice + r.problems + r.effect_problems if p]
    note = ". ".join(dict.fromkeys(parts)) or None
    if note != out.values.get("note") and note and not out.conflicts:
        out.log.append(ctx.log(r.record, "problem", details=note))
    out.set("note", note)
    out.note = note
    for intent in out.emails:
        out.log.append(
            ctx.log(
                r.record,
                "email",
                to=", ".join(ctx.name_of(p.email) for p in intent.to),
                details=ctx.email_kind(intent.template),
            )
        )
