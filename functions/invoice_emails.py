"""Who hears about an invoice's step, and with which key (pure: intents, not messages)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING

from functions.directory import Person
from functions.flow_context import FlowContext
from functions.model import EmailIntent, Recipient, Stored
from functions.text.parsing import format_money, parse_amount, parse_date, text

if TYPE_CHECKING:
    from functions.invoice_flow import _Row

FLOW = "invoice"


def invoice_context(record: str, values: dict[str, Stored], ctx: FlowContext) -> dict[str, str]:
    amount, _ = parse_amount(values.get("amount"), "", ctx.locale)
    invoice_date, _ = parse_date(values.get("invoice_date"), "")
    paid_on, _ = parse_date(values.get("paid_on"), "")
    shown = {key: text(value) for key, value in values.items()}
    shown.update(
        id=record,
        amount=format_money(amount) if isinstance(amount, Decimal) else shown.get("amount", ""),
        currency=shown.get("currency") or ctx.settings.currency,
        invoice_date=invoice_date.isoformat() if isinstance(invoice_date, date) else "",
        paid_on=paid_on.isoformat() if isinstance(paid_on, date) else "",
    )
    for column, role in (
        ("manager", "manager"),
        ("signer", "director"),
        ("accountant", "accountant"),
    ):
        person = ctx.people.find(values.get(column), role)
        if person is not None:  # named as written in People, not as typed (`иван петров`)
            shown[column] = person.name
    return shown


def _manager(r: _Row) -> Person | None:
    typed = r.out.values.get("manager")
    return r.ctx.people.find(typed, "manager") or next(
        (p for p in r.ctx.people.people if p.name.casefold() == text(typed).casefold()), None
    )


def _targets(r: _Row, template: str) -> list[tuple[Person | None, str]]:
    v, s = r.out.values, r.state
    rnd = f"r{s.round}"
    if template == "signer_request":
        return [(r.person("signer", "director"), rnd)]
    if template == "signer_replaced":  # unless nobody (no active signer) was asked before
        return [(r.previous_signer, rnd)] if r.previous_signer else []
    if template == "approval_void":
        return [(p, rnd) for p in r.ctx.people.active("accountant")]
    if template == "rework_to_manager":
        return [(_manager(r), f"r{s.reworks}")]
    if template == "accountants_approved":
        return [(p, rnd) for p in r.ctx.people.active("accountant")]
    if template == "supplier_in_payment":
        email = text(v.get("supplier_email"))
        return [(Person(text(v.get("supplier")), email, "supplier", True), rnd)]
    if template == "manager_paid":
        return [(_manager(r), "1")]
    # closed: the manager and the accountant who paid
    return [(_manager(r), "1"), (r.person("accountant", "accountant"), "1")]


def emails_for(r: _Row, template: str, changes: list[dict[str, str]]) -> list[EmailIntent]:
    intents = []
    for person, round_ in _targets(r, template):
        if person is None:
            r.effect_problems.append(r.ctx.say("no_email_address", what=r.ctx.email_kind(template)))
            continue
        key = f"{FLOW}:{r.record}:{template}:{round_}:{person.email.casefold()}"
        context = {
            "company": r.ctx.settings.company,
            "recipient_name": person.name,
            "invoice": invoice_context(r.record, r.out.values, r.ctx),
            "changes": changes,
        }
        intents.append(
            EmailIntent(
                key=key,
                template=template,
                to=(Recipient(person.name, person.email),),
                context=context,
                record=r.record,
                reply_to=_reply_to(r, template),
            )
        )
    return intents


def _reply_to(r: _Row, template: str) -> tuple[Recipient, ...]:
    """Whoever can act on a reply: a supplier's answer reaches the manager (or Settings
    Reply to), a manager's question about rework the signer, about payment the accountant."""
    reply_to = r.ctx.settings.reply_to
    if template == "supplier_in_payment" and reply_to:
        return (Recipient(r.ctx.settings.company, reply_to),)
    if template == "rework_to_manager":
        person = r.person("signer", "director")
    elif template == "manager_paid":
        person = r.person("accountant", "accountant")
    else:
        person = _manager(r)
    return (person.recipient,) if person is not None else ()
