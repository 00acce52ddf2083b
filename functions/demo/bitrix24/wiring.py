"""A client of the double that shares its virtual clock: pauses advance it, nothing sleeps."""

from __future__ import annotations

from functions.adapters.bitrix24.client import Bitrix24Client, LeakyBucket, parse_webhook
from functions.adapters.bitrix24.deals import Bitrix24Deals
from functions.demo.bitrix24.server import BitrixDouble


def client(double: BitrixDouble, webhook: str | None = None, attempts: int = 6) -> Bitrix24Client:
    clock = double.portal.clock
    bucket = LeakyBucket(
        rate=double.portal.rate,
        capacity=double.portal.burst,
        clock=lambda: clock.now,
        sleep=clock.advance,
    )
    return Bitrix24Client(parse_webhook(webhook or double.issued), bucket=bucket, attempts=attempts)


def deals(double: BitrixDouble, budget: int = 100, webhook: str | None = None) -> Bitrix24Deals:
    """`webhook`: the address as first set up (a test may then revoke the portal's code)."""
    return Bitrix24Deals(client(double, webhook), budget=budget)
