"""A deal's overpayment Note in Russian, and an alert for a deal nobody in People manages."""

from __future__ import annotations

from functions.deal_watch import plan_deal
from functions.model import SheetRow
from tests.builders import context
from tests.unit.test_deal_watch import deal, seen, watch


def test_a_russian_overpayment_note_writes_both_sums_the_russian_way() -> None:
    row = SheetRow(2, deal(paid=12000, paid_pct=120))
    out = plan_deal("D-1", row, seen("100", "10000"), context(locale="ru"), silent=False)
    assert "Оплачено 12\u00a0000,00 больше суммы 10\u00a0000,00 (переплата)" in (out.note or "")


def test_a_deal_whose_manager_is_not_in_people_still_alerts_with_no_reply_to() -> None:
    out = watch(deal(manager="Somebody Else", paid=3000, paid_pct=30), seen("0", "0"))
    assert [e.to[0].email for e in out.emails] == ["dmitry@example.com", "elena@example.com"]
    assert [e.reply_to for e in out.emails] == [(), ()]
