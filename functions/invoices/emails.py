"""Who hears about an invoice's step, and with which key (pure: intents, not messages).

`RECIPIENTS` holds one rule per email: who it goes to (with the round that keys it) and who
a reply reaches. A new email is a template plus one rule here; `check_definition` refuses a
transition that sends an email with no rule.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from functions.directory import Person
from functions.flow_context import FlowContext
from functions.model import EmailIntent, Recipient, Stored
from functions.text.parsing import format_money, parse_amount, parse_date, text

FLOW = "invoice"


@dataclass(frozen=True)
class InvoiceFacts:
    """What an invoice's emails are made from, at the step that sends them."""

    record: str
    values: Mapping[str, Stored]  # the row as the sheet will be
    ctx: FlowContext
    round: int  # requests sent to a signer so far
    reworks: int
    previous_signer: Person | None = None  # who was asked before the Signer changed

    def person(self, column: str, role: str) -> Person | None:
        return self.ctx.people.find(self.values.get(column), role)

    def manager(self) -> Person | None:
        """The manager in People, or by name among everyone (one who left still hears)."""
        typed = self.values.get("manager")
        return self.ctx.people.find(typed, "manager") or next(
            (p for p in self.ctx.people.people if p.name.casefold() == text(typed).casefold()),
            None,
        )


Targets = list[tuple[Person | None, str]]  # each recipient with the round that keys the email


@dataclass(frozen=True)
class RecipientRule:
    to: Callable[[InvoiceFacts], Targets]
    # Whoever can act on a reply; the invoice's manager unless the rule says otherwise.
    reply_to: Callable[[InvoiceFacts], tuple[Recipient, ...]] | None = None


def _round(f: InvoiceFacts) -> str:
    return f"r{f.round}"


def _accountants(f: InvoiceFacts) -> Targets:
    return [(p, _round(f)) for p in f.ctx.people.active("accountant")]


def _supplier(f: InvoiceFacts) -> Targets:
    email = text(f.values.get("supplier_email"))
    return [(Person(text(f.values.get("supplier")), email, "supplier", True), _round(f))]


def _replaced_signer(f: InvoiceFacts) -> Targets:
    # unless nobody (no active signer) was asked before
    return [(f.previous_signer, _round(f))] if f.previous_signer else []


def _address_of(person: Person | None) -> tuple[Recipient, ...]:
    return (person.recipient,) if person is not None else ()


def _supplier_reply_to(f: InvoiceFacts) -> tuple[Recipient, ...]:
    """A supplier's answer reaches Settings Reply to (under the company's name), else the
    manager."""
    if reply_to := f.ctx.settings.reply_to:
        return (Recipient(f.ctx.settings.company, reply_to),)
    return _address_of(f.manager())


RECIPIENTS: dict[str, RecipientRule] = {
    "signer_request": RecipientRule(lambda f: [(f.person("signer", "director"), _round(f))]),
    "signer_replaced": RecipientRule(_replaced_signer),
    "approval_void": RecipientRule(_accountants),
    # a manager's question about rework reaches the signer, about payment the accountant
    "rework_to_manager": RecipientRule(
        lambda f: [(f.manager(), f"r{f.reworks}")],
        reply_to=lambda f: _address_of(f.person("signer", "director")),
    ),
    "accountants_approved": RecipientRule(_accountants),
    "supplier_in_payment": RecipientRule(_supplier, reply_to=_supplier_reply_to),
    "manager_paid": RecipientRule(
        lambda f: [(f.manager(), "1")],
        reply_to=lambda f: _address_of(f.person("accountant", "accountant")),
    ),
    # the manager and the accountant who paid
    "closed": RecipientRule(
        lambda f: [(f.manager(), "1"), (f.person("accountant", "accountant"), "1")]
    ),
}


def invoice_context(record: str, values: Mapping[str, Stored], ctx: FlowContext) -> dict[str, str]:
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


def emails_for(
    facts: InvoiceFacts, template: str, changes: list[dict[str, str]]
) -> tuple[list[EmailIntent], list[str]]:
    """The email's intents, one per recipient, and a problem for each who has no address."""
    rule = RECIPIENTS[template]
    reply_to = rule.reply_to(facts) if rule.reply_to else _address_of(facts.manager())
    intents, problems = [], []
    for person, round_ in rule.to(facts):
        if person is None:
            problems.append(facts.ctx.say("no_email_address", what=facts.ctx.email_kind(template)))
            continue
        key = f"{FLOW}:{facts.record}:{template}:{round_}:{person.email.casefold()}"
        context = {
            "company": facts.ctx.settings.company,
            "recipient_name": person.name,
            "invoice": invoice_context(facts.record, facts.values, facts.ctx),
            "changes": changes,
        }
        intents.append(
            EmailIntent(
                key=key,
                template=template,
                to=(Recipient(person.name, person.email),),
                context=context,
                record=facts.record,
                reply_to=reply_to,
            )
        )
    return intents, problems
