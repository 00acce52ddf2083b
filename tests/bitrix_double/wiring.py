"""A client of the double that shares its virtual clock: pauses advance it, nothing sleeps."""

from __future__ import annotations

from functions.adapters.bitrix24 import Bitrix24Deals
from functions.adapters.bitrix24_http import Bitrix24Client, LeakyBucket, parse_webhook

from .server import BitrixDouble


def client(double: BitrixDouble, **options: int) -> Bitrix24Client:
    clock = double.portal.clock
    bucket = LeakyBucket(
        rate=double.portal.rate,
        capacity=double.portal.burst,
        clock=lambda: clock.now,
        sleep=clock.advance,
    )
    return Bitrix24Client(parse_webhook(double.webhook), bucket=bucket, **options)


def deals(double: BitrixDouble, budget: int = 100) -> Bitrix24Deals:
    return Bitrix24Deals(client(double), budget=budget)
