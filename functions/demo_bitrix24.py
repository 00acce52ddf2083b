"""`sheetflow demo --bitrix24`: a stand-in portal (the tests' Bitrix24 double) feeds Deals.

The double lives in tests/bitrix_double of the source checkout: it is a test tool, so the
demo borrows it from there rather than shipping a fake portal in the package.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from rich.console import Console

from .console import print_report
from .engine import Engine
from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent


def _double() -> Any:
    if not (ROOT / "tests" / "bitrix_double").is_dir():
        raise ConfigError("the Bitrix24 demo needs the source checkout (tests/bitrix_double)")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.bitrix_double import portal, server, wiring

    return portal, server, wiring


def play_bitrix24(engine: Engine, clock: datetime, console: Console) -> None:
    portal_module, server_module, wiring = _double()
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
        engine.crm = wiring.deals(double)
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
            print_report(engine.tick(clock), console)
        engine.crm = None
