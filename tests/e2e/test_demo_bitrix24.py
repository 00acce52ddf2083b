"""`sheetflow demo --bitrix24`: the stand-in portal's deals reach Deals and alert once."""

from __future__ import annotations

from pathlib import Path

from rich.console import Console

from functions.demo.story import play
from tests.local_backend import outbox_messages, rows_by_header


def test_the_demo_with_bitrix24_imports_deals_alerts_once_and_explains_an_outage(
    tmp_path: Path,
) -> None:
    console = Console(record=True, width=120)
    play(tmp_path, console, bitrix24=True)
    said = console.export_text()
    book = tmp_path / "sheetflow.xlsx"
    imported = [r for r in rows_by_header(book, "Deals") if str(r["Deal ID"]).isdigit()]
    assert [r["Deal"] for r in imported] == [
        "Cement for Harbour Works",
        "Glass for Sunrise Towers",
        "Timber for Oak & Co",
    ]
    assert imported[0]["Paid %"] == 50
    alerts = [m for m in outbox_messages(tmp_path / "outbox") if "Cement" in str(m["Subject"])]
    assert len(alerts) == 1
    assert "is not answering" in said
    settings = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    assert str(settings["Bitrix24 status"]).startswith("Connected to 127.0.0.1")
