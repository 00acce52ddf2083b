"""A first Bitrix24 import of 10,000 deals: requests and time at the published rate.

`python -m bench.bitrix` (also run by `make bench`). The deal source runs against the loopback
double (functions/demo/bitrix24) exactly as a tick runs it — 100 requests at most per tick, ticks a
minute apart — with a virtual clock: the leaky bucket's pauses (limits.md: 2 requests/s and a
burst of 50; Enterprise 5/s and 250) advance the clock instead of sleeping, so the time printed
is what the published rate costs, not this machine's speed. The naive way (offset paging with
`start`, one call per page and one payment call per deal, no batch) is computed from the same
rate model. Writes bench/BITRIX24.md.
"""

from __future__ import annotations

import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from functions.demo.bitrix24.portal import Portal
from functions.demo.bitrix24.server import bitrix_double
from functions.demo.bitrix24.wiring import deals
from functions.model import CrmFields

HERE = Path(__file__).resolve().parent
PER_TICK = 100  # the source's request budget per tick (Bitrix24Deals default)
TICK_EVERY = 60.0


@dataclass
class Run:
    label: str
    deals: int
    requests: int
    ticks: int
    waited: float  # seconds inside ticks, at the published rate
    refused: int
    wall: float  # seconds this machine spent (double included)


def portal(count: int, rate: float, burst: int, custom_paid: bool) -> Portal:
    p = Portal(rate=rate, burst=burst)
    if custom_paid:
        p.add_field("UF_CRM_PAID", "Paid")
    for n in range(count):
        deal = p.add_deal(f"Deal {n + 1}", 1000.0)
        if n % 4 == 0:
            if custom_paid:
                p.deals[deal]["UF_CRM_PAID"] = "250|EUR"
            else:
                p.pay(deal, 250.0)
    return p


def first_import(label: str, count: int, rate: float, burst: int, custom_paid: bool) -> Run:
    fields = CrmFields(paid="UF_CRM_PAID") if custom_paid else CrmFields()
    started = time.perf_counter()
    with bitrix_double(portal(count, rate, burst, custom_paid)) as double:
        clock = double.portal.clock
        cursor: dict[str, object] = {}
        got, ticks, waited = 0, 0, 0.0
        while True:
            ticks += 1
            begin = clock.now
            pull = deals(double, budget=PER_TICK).pull(cursor, fields)
            waited += clock.now - begin
            if pull.error:
                raise SystemExit(f"{label}: {pull.error} {pull.error_detail}")
            got += len(pull.deals)
            cursor = pull.cursor
            if pull.complete:
                break
            clock.advance(TICK_EVERY - (clock.now - begin))
        return Run(
            label,
            got,
            double.portal.http_requests,
            ticks,
            waited,
            double.portal.refused_for_rate,
            time.perf_counter() - started,
        )


def naive(count: int, rate: float, burst: int) -> tuple[int, float]:
    """Offset pages of 50 plus one payment call per deal, one HTTP request each."""
    requests = -(-count // 50) + count
    return requests, max(0, requests - burst) / rate


def minutes(seconds: float) -> str:
    return f"{seconds:,.0f} s" if seconds < 120 else f"{seconds / 60:,.1f} min"


def main() -> int:
    os.environ["TZ"] = "UTC"
    time.tzset()
    count = 10_000
    for arg in sys.argv[1:]:
        if arg.startswith("--deals="):
            count = int(arg.split("=", 1)[1])
    runs = [
        first_import("payments read per deal (batch of 50)", count, 2.0, 50, False),
        first_import("Paid in a custom field", count, 2.0, 50, True),
        first_import("payments, Enterprise (5/s, burst 250)", count, 5.0, 250, False),
    ]
    naive_requests, naive_seconds = naive(count, 2.0, 50)
    lines = [
        f"# Bitrix24: a first import of {count:,} deals",
        "",
        f"Measured by `python -m bench.bitrix` on {time.strftime('%Y-%m-%d %H:%M UTC')}"
        f" (part of `make bench`). Times are at the published rate (limits.md), from the leaky"
        f" bucket model on a virtual clock; at most {PER_TICK} requests per tick, ticks a minute"
        " apart. One deal in four has a payment.",
        "",
        "| import | deals | HTTP requests | ticks | time inside ticks | refused (503)"
        " | this machine |",
        "|---|---|---|---|---|---|---|",
    ]
    for r in runs:
        lines.append(
            f"| {r.label} | {r.deals:,} | {r.requests:,} | {r.ticks} | {minutes(r.waited)} |"
            f" {r.refused} | {r.wall:.1f} s |"
        )
    lines.append(
        f"| naive: offset paging, one payment call per deal, no batch (computed) | {count:,} |"
        f" {naive_requests:,} | — | {minutes(naive_seconds)} at 2/s | — | — |"
    )
    text = "\n".join(lines) + "\n"
    print(text)
    (HERE / "BITRIX24.md").write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
