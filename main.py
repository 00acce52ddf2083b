"""Cloud Functions gen2 source: three HTTP entry points, each a thin call into sheetflow."""

from __future__ import annotations

from typing import Any

import functions_framework

from functions.entry.cloud import handle


@functions_framework.http
def invoice_flow(request: Any) -> tuple[dict[str, Any], int]:
    """Invoice approval: one tick of the invoice flow."""
    return handle("invoice_flow", request)


@functions_framework.http
def deal_watch(request: Any) -> tuple[dict[str, Any], int]:
    """Deal payment watching: one tick of the deal flow."""
    return handle("deal_watch", request)


@functions_framework.http
def monthly_report(request: Any) -> tuple[dict[str, Any], int]:
    """Last month's report (or ?month=YYYY-MM), written to its Report tab."""
    return handle("monthly_report", request)
