"""The deal payment watcher: a pure function of (deal row, snapshot, settings, now) → a plan.

When a paid deal's Paid % differs from the snapshot, the directors get one email with the
deal, this change and the total paid, Paid %, order and invoice numbers and stage.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from functions.directory import Person
from functions.flow_context import FlowContext
from functions.model import EmailIntent, LogEntry, Recipient, SheetRow, Stored, entry_state, stored
from functions.text import formats
from functions.text.parsing import format_money, is_formula_error, parse_decimal, parse_email, text

FLOW = "deal"
HUNDRED = Decimal(100)


@dataclass
class DealOutcome:
    record: str
    values: dict[str, Stored]
    state: dict[str, Any]
    note: str | None = None
    writes: dict[str, Stored] = field(default_factory=dict)
    emails: list[EmailIntent] = field(default_factory=list)
    log: list[LogEntry] = field(default_factory=list)
    change: tuple[str, str] | None = None  # Paid % before → after, for the summary


def _label(ctx: FlowContext, column: str) -> str:
    return ctx.schema.tab("deals").column(column).header[ctx.locale]


def _money(value: Stored, column: str, ctx: FlowContext, problems: list[str]) -> Decimal | None:
    if value is None:
        return None
    number = None if is_formula_error(value) else parse_decimal(value, ctx.locale)
    if number is None:
        problems.append(
            ctx.say("deal_not_a_number", label=_label(ctx, column), value=text(value)[:40])
        )
    elif number < 0:
        problems.append(ctx.say("deal_negative", label=_label(ctx, column), value=number))
        return None
    return number


def read_percent(
    value: Stored,
    paid: Decimal | None,
    amount: Decimal | None,
    ctx: FlowContext,
    problems: list[str],
) -> Decimal | None:
    """Paid % as typed (45, 45%, "45,5 %"), as a 0.455 fraction, or computed from a formula.

    A number up to 1 may be a fraction in a percent-formatted cell or a tiny percentage: the
    reading closer to Paid / Amount wins; without them, a fraction is assumed.
    """
    computed = paid / amount * HUNDRED if paid is not None and amount else None
    if isinstance(value, str) and value.strip().startswith("="):
        if computed is None:
            problems.append(ctx.say("deal_no_percent"))
            return None
        problems.append(ctx.say("deal_formula_computed", pct=computed.quantize(Decimal("0.1"))))
        return computed
    if value is None:
        return computed
    if isinstance(value, str):
        number = parse_decimal(value, ctx.locale)  # a % sign goes with the other symbols
        if number is None or is_formula_error(value):
            problems.append(
                ctx.say("deal_not_a_number", label=_label(ctx, "paid_pct"), value=text(value)[:40])
            )
        return number
    number = parse_decimal(value, ctx.locale)
    if number is None or number > 1:
        return number
    readings = [number * HUNDRED, number]
    if computed is not None:
        return min(readings, key=lambda r: abs(r - computed))
    return readings[0]


def _plain(value: Decimal) -> str:
    """`30`, `45.5`, `3000.25`: no exponent, no trailing zeros."""
    return f"{value.normalize():f}"


def _pct(value: Decimal) -> str:
    return f"{value.quantize(Decimal('0.1')).normalize():f}"


def alert_recipients(ctx: FlowContext) -> tuple[list[Person], list[str]]:
    """Settings `Deal alerts to` (names or emails, comma-separated), else active directors.

    An entry that is neither an active person nor a plain address is skipped and explained:
    typed text never becomes a mail header as it stands.
    """
    wanted = [w.strip() for w in ctx.settings.deal_alerts_to.replace(";", ",").split(",")]
    chosen: list[Person] = []
    problems: list[str] = []
    for typed in filter(None, wanted):
        person = next(
            (
                p
                for p in ctx.people.people
                if p.active and typed.casefold() in (p.name.casefold(), p.email.casefold())
            ),
            None,
        )
        if person is None:
            address, bad = parse_email(typed, "Deal alerts to", ctx.locale)
            if bad:
                shown = " ".join(typed.split())[:60]  # one line, whatever was typed
                problems.append(ctx.say("deal_bad_recipient", value=shown))
                continue
            person = Person(str(address), str(address), "director", True)
        chosen.append(person)
    return chosen or ctx.people.active("director"), problems


def plan_deal(
    record: str,
    row: SheetRow,
    previous: Mapping[str, Any] | None,
    ctx: FlowContext,
    *,
    silent: bool,
) -> DealOutcome:
    """Watch one deal. `silent` records it without alerting (the first look at a pipeline)."""
    values = {k: stored(v) for k, v in row.values.items()}
    state = dict(entry_state(previous))
    out = DealOutcome(record, values, state)
    problems: list[str] = []
    amount = _money(values.get("amount"), "amount", ctx, problems)
    paid = _money(values.get("paid"), "paid", ctx, problems)
    pct = read_percent(values.get("paid_pct"), paid, amount, ctx, problems)
    if paid is not None and paid > 0 and amount is None and values.get("amount") is None:
        problems.append(ctx.say("deal_paid_without_amount", label=_label(ctx, "amount")))
    if paid is not None and amount is not None and paid > amount:
        problems.append(
            ctx.say(
                "deal_overpaid",
                paid=formats.amount(paid, ctx.locale),
                amount=formats.amount(amount, ctx.locale),
            )
        )
    before_pct = Decimal(state["pct"]) if state.get("pct") is not None else Decimal(0)
    before_paid = Decimal(state["paid"]) if state.get("paid") is not None else Decimal(0)
    received = paid is not None and (paid > 0 or before_paid > 0)  # a full refund counts too
    if pct is not None and received and pct != before_pct and not silent:
        assert paid is not None
        _alert(out, ctx, paid, before_paid, pct, before_pct, problems)
    if pct is not None and paid is not None:
        state.update(pct=_plain(pct), paid=_plain(paid))
    note = ". ".join(dict.fromkeys(problems)) or None
    if note != values.get("note"):
        out.writes["note"] = note
        values["note"] = note
        if note:
            out.log.append(ctx.log(record, "problem", flow=FLOW, details=note))
    out.note = note
    return out


def _alert(
    out: DealOutcome,
    ctx: FlowContext,
    paid: Decimal,
    before_paid: Decimal,
    pct: Decimal,
    before_pct: Decimal,
    problems: list[str],
) -> None:
    state, v = out.state, out.values
    state["changes"] = int(state.get("changes", 0)) + 1
    delta = paid - before_paid
    deal = {key: text(value) for key, value in v.items()}
    deal.update(
        id=out.record,
        paid=format_money(paid),
        change=format_money(abs(delta)),
        pct=_pct(pct),
        previous_pct=_pct(before_pct),
        direction="decrease" if pct < before_pct else "increase",
    )
    manager = ctx.people.find(v.get("manager"), "manager")  # a reply reaches the deal's manager
    if manager is not None:
        deal["manager"] = manager.name  # as written in People, not as typed
    recipients, skipped = alert_recipients(ctx)
    problems += skipped
    if not recipients:
        problems.append(ctx.say("deal_no_recipients"))
    for person in recipients:
        key = f"{FLOW}:{out.record}:payment:{state['changes']}:{person.email.casefold()}"
        out.emails.append(
            EmailIntent(
                key=key,
                template="deal_payment",
                to=(Recipient(person.name, person.email),),
                context={
                    "company": ctx.settings.company,
                    "recipient_name": person.name,
                    # the deal's own currency (a Currency column, e.g. from Bitrix24), else Settings
                    "currency": text(v.get("currency")) or ctx.settings.currency,
                    "deal": deal,
                },
                record=out.record,
                reply_to=(manager.recipient,) if manager is not None else (),
            )
        )
    # From/To keep the money paid before and after (Babel, the book's locale), so reports can
    # sum what was received; Details the Paid % before → after.
    shown = f"{formats.percent(before_pct, ctx.locale)} → {formats.percent(pct, ctx.locale)}"
    out.log.append(
        ctx.log(
            out.record,
            "payment",
            flow=FLOW,
            from_=formats.amount(before_paid, ctx.locale),
            to=formats.amount(paid, ctx.locale),
            by=ctx.name_of(v.get("manager")),
            details=f"{_label(ctx, 'paid_pct')} {shown}",
        )
    )
    for intent in out.emails:
        out.log.append(
            ctx.log(
                out.record,
                "email",
                flow=FLOW,
                to=ctx.name_of(intent.to[0].email),
                details=ctx.email_kind(intent.template),
            )
        )
    out.change = (_pct(before_pct), _pct(pct))
