"""`sheetflow demo --bitrix24`: a stand-in portal on this computer feeds Deals.

The stand-in (`portal`, `methods`, `server` beside this file) follows the official REST docs
(../shared/reference/bitrix24-rest/ in the source checkout); the tests use it as their Bitrix24
double, and the demo drives it through the real client (`wiring`).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from rich.console import Console

from functions.demo.bitrix24 import portal as portal_module
from functions.demo.bitrix24 import server as server_module
from functions.demo.bitrix24 import wiring
from functions.ports import DealSource
from functions.tick.engine import Engine
from functions.wiring.console import print_report


def _fed_by(engine: Engine, crm: DealSource) -> Engine:
    """The demo's engine with its Deals fed by the stand-in portal (the demo's own stays unfed)."""
    return Engine(
        engine.book,
        engine.state,
        engine.mail,
        engine.renderer,
        engine.schema,
        engine.checkpoint,
        engine.folder,
        book_spec=engine.book_spec,
        state_location=engine.state_location,
        crm=crm,
    )


def play_bitrix24(engine: Engine, clock: datetime, console: Console) -> None:
    portal = portal_module.Portal(domain="northwind.bitrix24.com")
    maria = portal.add_user("Maria", "Lopez", "maria.lopez@northwind.example")
    for title, amount, stage in (
        ("Cement for Harbour Works", 8000.0, "EXECUTING"),
        ("Glass for Sunrise Towers", 15000.0, "PREPARATION"),
        ("Timber for Oak & Co", 4000.0, "NEW"),
    ):
        portal.add_deal(title, amount, assignedById=maria, stageId=stage)
    portal.pay(2, 3000.0)
    with server_module.bitrix_double(portal) as double:
        # The stand-in's clock is virtual: its pauses (the rate limit, retries) take no time.
        fed = _fed_by(engine, wiring.deals(double))
        console.print()
        console.rule("[bold]Bitrix24 feeds the Deals tab[/bold]")
        console.print(
            "A stand-in portal on this computer plays Bitrix24 (in real life: your inbound"
            " webhook in SHEETFLOW_BITRIX24_WEBHOOK)."
        )
        steps: list[tuple[str, Any]] = [
            ("Bitrix24 holds 3 deals: the first import appends them to Deals", None),
            ("The next tick records the imported pipeline (no alerts for old payments)", None),
            (
                "A customer pays 4 000 on “Cement for Harbour Works” in Bitrix24",
                lambda: portal.pay(1, 4000.0),
            ),
            ("The deal watcher alerts the director, as for a typed deal", None),
            (
                "The portal goes down: one Log line and a note in Settings",
                lambda: setattr(portal, "down", 1000),
            ),
            ("It is back: the import carries on", lambda: setattr(portal, "down", 0)),
        ]
        for what, change in steps:
            if change:
                change()
            clock += timedelta(minutes=1)
            portal.clock.advance(60)
            console.print()
            console.print(f"[bold]Bitrix24: {what}[/bold]")
            print_report(fed.tick(clock), console)
