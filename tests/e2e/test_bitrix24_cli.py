"""`sheetflow bitrix24 check` and `sheetflow tick` with a webhook, as a person runs them.

The real console script in a subprocess against the loopback double; the webhook's code
must appear nowhere in what is printed or left behind.
"""

from __future__ import annotations

import os
import subprocess
import zipfile
from pathlib import Path

from functions.demo.bitrix24.portal import Portal
from functions.demo.bitrix24.server import bitrix_double
from tests.e2e.cli import run_isolated
from tests.local_backend import new_book, rows_by_header, state_path

CODE = Portal().code


def sheetflow(*args: str, webhook: str | None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SHEETFLOW_")}
    if webhook is not None:
        env["SHEETFLOW_BITRIX24_WEBHOOK"] = webhook
    return run_isolated(*args, env=env)


def test_check_says_what_the_webhook_reads_and_never_prints_its_code() -> None:
    portal = Portal()
    portal.add_deal("Steel", 100.0)
    with bitrix_double(portal) as double:
        done = sheetflow("bitrix24", "check", webhook=double.webhook)
        assert done.returncode == 0, done.stderr
        assert "webhook works" in done.stdout
        assert "reads deals: yes" in done.stdout
        wrong = sheetflow("bitrix24", "check", webhook=double.webhook.replace(CODE, "nope"))
        assert wrong.returncode == 1
        assert "does not accept the webhook" in wrong.stderr
        for run in (done, wrong):
            assert CODE not in run.stdout + run.stderr


def test_check_without_a_webhook_says_where_to_get_one() -> None:
    run = sheetflow("bitrix24", "check", webhook=None)
    assert run.returncode == 1
    assert "SHEETFLOW_BITRIX24_WEBHOOK" in run.stderr
    assert "Inbound webhook" in run.stderr


def test_an_http_webhook_to_another_computer_is_refused() -> None:
    run = sheetflow("bitrix24", "check", webhook="http://co.bitrix24.com/rest/1/abc/")
    assert run.returncode == 1
    assert "https://" in run.stderr


def test_a_tick_with_a_webhook_imports_deals_and_keeps_the_code_out_of_every_file(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    portal = Portal()
    for n in range(3):
        portal.add_deal(f"Deal {n + 1}", 100.0)
    with bitrix_double(portal) as double:
        run = sheetflow("tick", "--book", str(book), webhook=double.webhook)
        assert run.returncode == 0, run.stderr
        assert [r["Deal"] for r in rows_by_header(book, "Deals") if r["Deal"]] == [
            "Deal 1",
            "Deal 2",
            "Deal 3",
        ]
        assert CODE not in run.stdout + run.stderr
    with zipfile.ZipFile(book) as xlsx:  # every part of the workbook, uncompressed
        assert not [n for n in xlsx.namelist() if CODE.encode() in xlsx.read(n)]
    assert CODE.encode() not in state_path(book).read_bytes()


def test_a_tick_with_an_unusable_webhook_says_so_in_settings_and_carries_on(
    tmp_path: Path,
) -> None:
    book = new_book(tmp_path)
    run = sheetflow("tick", "--book", str(book), webhook="http://co.bitrix24.com/rest/1/abc/")
    assert run.returncode == 0, run.stderr
    assert "cannot be used" in run.stdout
    settings = {r["Key"]: r["Value"] for r in rows_by_header(book, "Settings")}
    assert "https://" in str(settings["Bitrix24 status"])
