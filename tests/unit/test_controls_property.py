"""A property over random edit sequences: money leaves only for what the signer approved.

Whatever people type, in any order and combination, no invoice reaches In payment or later and
no supplier is emailed with values other than the ones its signer approved, and an approval
only counts from the signer who was asked, for the values they were asked about.
"""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from functions.controls import bound_values
from tests.builders import carry, invoice, step

PAID_OR_LATER = ("in_payment", "awaiting_closing_docs", "closed")
CHOICES: dict[str, list[Any]] = {
    "decision": ["Approve", "Rework", None, "Maybe"],
    "comment": ["fix the VAT", None],
    "amount": [1234.5, "1 234,50", 99999, "5", "abc"],
    "supplier": ["Acme Steel", "Other Ltd", "ACME  Steel"],
    "supplier_email": ["billing@acme.example", "thief@evil.example"],
    "invoice_no": ["A-17", "A-18"],
    "invoice_date": ["20.11.2026", "2026-11-21"],
    "currency": ["EUR", "USD", None],
    "invoice_file": ["https://files.example/a.pdf", "https://files.example/b.pdf"],
    "signer": ["Dmitry Volkov", "Elena Sokolova", "dmitry@example.com", "Nobody"],
    "accountant": ["Irina K", "Sergey Popov", None],
    "paid_on": ["28.11.2026", "01.11.2026", None],
    "closing_docs": ["https://files.example/waybill", None],
    "status": ["Closed", None],
}
edits = st.lists(
    st.dictionaries(
        st.sampled_from(sorted(CHOICES)),
        st.sampled_from(list(range(5))),
        min_size=1,
        max_size=3,
    ),
    min_size=1,
    max_size=14,
)


def bound(values: dict[str, Any]) -> dict[str, str]:
    return bound_values(values, "EUR")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits)
def test_no_payment_and_no_supplier_email_for_values_the_signer_did_not_approve(
    sequence: list[dict[str, int]],
) -> None:
    out = step(invoice())
    asked: tuple[str, dict[str, str]] | None = None  # (signer email, values) of the last request
    approved: dict[str, str] | None = None
    for edit in sequence:
        if asked is None or any(e.template == "signer_request" for e in out.emails):
            request = next(e for e in out.emails if e.template == "signer_request")
            asked = (request.to[0].email, bound(out.values))
        sheet = dict(out.values)
        for column, pick in edit.items():
            options = CHOICES[column]
            sheet[column] = options[pick % len(options)]
        before_asked = asked
        out = step(sheet, carry(out))
        moves = [to for _, to in out.transitions]
        if "awaiting_accountant" in moves:
            # The approval counts only for a request made in an earlier tick, on these values.
            assert before_asked is not None
            approved = bound(out.values)
            assert approved == before_asked[1]
        if any(to == "awaiting_decision" for to in moves) or "rework" in moves:
            approved = None if "awaiting_accountant" not in moves else approved
        if out.state.status in PAID_OR_LATER:
            assert approved is not None
            assert bound(out.values) == approved
        for email in out.emails:
            if email.template == "supplier_in_payment":
                assert approved is not None
                assert bound(out.values) == approved
                assert email.to[0].email == approved["supplier_email"]
