"""The bootstrap turns SHEETFLOW_BITRIX24_* into a deal source, or none."""

from __future__ import annotations

import pytest

from functions.adapters.bitrix24.deals import Bitrix24Deals
from functions.errors import ConfigError
from functions.model import CrmFields
from functions.wiring.bootstrap import bitrix24_source

HOOK = "https://co.bitrix24.com/rest/1/abc123/"


def test_no_webhook_means_deals_are_typed_by_hand(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SHEETFLOW_BITRIX24_WEBHOOK", raising=False)
    assert bitrix24_source() is None


@pytest.mark.parametrize(("plan", "rate", "burst"), [("", 2, 50), ("Enterprise", 5, 250)])
def test_the_plan_sets_the_rate_limit(
    monkeypatch: pytest.MonkeyPatch, plan: str, rate: float, burst: float
) -> None:
    monkeypatch.setenv("SHEETFLOW_BITRIX24_WEBHOOK", HOOK)
    monkeypatch.setenv("SHEETFLOW_BITRIX24_PLAN", plan)
    source = bitrix24_source()
    assert isinstance(source, Bitrix24Deals)
    assert (source.client.bucket.rate, source.client.bucket.capacity) == (rate, burst)


def test_an_unknown_plan_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETFLOW_BITRIX24_PLAN", "gold")
    with pytest.raises(ConfigError, match="enterprise"):
        bitrix24_source(HOOK)


def test_an_unusable_webhook_is_told_by_each_tick_instead_of_stopping_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("SHEETFLOW_BITRIX24_PLAN", raising=False)
    source = bitrix24_source("http://co.bitrix24.com/rest/1/abc/")
    assert source is not None
    pull = source.pull({"last_id": 5}, CrmFields())
    assert pull.error == "config"
    assert "https://" in pull.error_detail
    assert pull.cursor == {"last_id": 5}
    assert not pull.deals
