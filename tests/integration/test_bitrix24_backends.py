"""The Bitrix24 import on every SpreadsheetBook: the .xlsx workbook and the Google Sheet (double).

Same engine, same loopback Bitrix24 double: deals appended under their headers, the Settings
status row added, a replayed journal adds nothing twice.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

from functions.adapters.sqlite.state import SqliteState
from functions.demo.bitrix24.portal import Portal
from functions.demo.bitrix24.server import bitrix_double
from functions.demo.bitrix24.wiring import deals
from functions.notify import EmailRenderer
from functions.text.parsing import text
from functions.tick.engine import Engine
from tests.fakes import FakeMail
from tests.integration import test_book_contract as contract
from tests.integration.test_book_contract import NOW, SCHEMA, Harness, backends

workbook_template, make = contract.workbook_template, contract.make


class Crash(Exception):
    pass


@backends
def test_deals_from_bitrix24_land_in_the_tab_once_even_after_a_crash(
    make: Callable[[], Harness], tmp_path: Path
) -> None:
    harness = make()
    portal = Portal()
    portal.add_user("Mia", "Stone", "mia@example.com")
    for n in range(70):
        portal.add_deal(f"Deal {n + 1}", 100.0 * (n + 1), assignedById=2, stageId="WON")
    portal.pay(3, 150.0)

    def crash(step: str) -> None:
        if step == "sheet_applied":
            raise Crash(step)

    with bitrix_double(portal) as double:
        state = tmp_path / "state.sqlite"
        for minute, checkpoint in enumerate([crash, None, None]):
            double.portal.clock.advance(60)
            engine = Engine(
                harness.book,
                SqliteState(state),
                FakeMail(),
                EmailRenderer(),
                SCHEMA,
                checkpoint or (lambda step: None),
                crm=deals(double),
            )
            try:
                engine.tick(NOW + timedelta(minutes=minute))
            except Crash:
                pass
    read = harness.book.read()
    rows = {text(r.get("deal_id")): r for r in read.table("deals").rows}
    assert len(rows) == len(read.table("deals").rows) == 70
    third = rows["3"]
    assert (third.get("deal"), third.get("stage"), third.get("amount")) == (
        "Deal 3",
        "Deal won",
        300,
    )
    assert (third.get("paid"), third.get("paid_pct")) == (150, 50)
    assert third.get("manager") == "Mia Stone"
    settings = {text(r.get("key")): text(r.get("value")) for r in read.table("settings").rows}
    assert settings["Bitrix24 status"].startswith("Connected to 127.0.0.1")
