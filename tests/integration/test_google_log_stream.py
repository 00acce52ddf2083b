"""The monthly report reads the Google Sheet's Log as it arrives, in one request.

A busy book's Log holds hundreds of thousands of rows (about 6.5 per invoice); the report keeps
only those it counts (tests/unit/test_report_log.py), so the Log is handed over row by row
instead of decoded whole. An answer cut off midway is an error that names Google, not a
report computed from half a Log.
"""

from __future__ import annotations

from typing import Any

import pytest
import requests

from functions.adapters.google_calls import GoogleApiError
from functions.model import LogEntry, SheetChanges
from functions.schema import load_schema
from tests.google_double import SERVICE_ACCOUNT, GoogleDouble
from tests.google_double.people import new_google_book

SCHEMA = load_schema()


def _logged(n: int) -> list[LogEntry]:
    return [
        LogEntry(f"2026-11-{1 + i % 28:02d} 10:00:00+01:00", "invoice", f"INV-{i:06d}", "created")
        for i in range(n)
    ]


def test_the_log_is_read_in_one_request_and_handed_over_row_by_row() -> None:
    double = GoogleDouble()
    sid, book = new_google_book(double, SCHEMA)
    book.apply(SheetChanges(log=_logged(3_000)), None)
    mark = double.mark()
    rows = book.read_log()
    assert double.mark() == mark  # nothing asked until the first row is wanted
    first = next(rows)
    assert first[2] == "INV-000000"
    assert double.count(since=mark, user=SERVICE_ACCOUNT) == 1
    assert sum(1 for _ in rows) == 2_999
    assert double.count(since=mark, user=SERVICE_ACCOUNT) == 1


class _CutOff(requests.adapters.BaseAdapter):
    """The double's answers, a values batchGet's cut off halfway (a dropped connection)."""

    def __init__(self, inner: requests.adapters.BaseAdapter) -> None:
        super().__init__()
        self.inner = inner

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]
        response = self.inner.send(request, **kwargs)
        if "values:batchGet" in (request.url or ""):
            response._content = response.content[: len(response.content) // 2]
        return response

    def close(self) -> None:
        pass


def test_a_log_answer_cut_off_midway_is_an_error_naming_google() -> None:
    double = GoogleDouble()
    sid, book = new_google_book(double, SCHEMA)
    book.apply(SheetChanges(log=_logged(500)), None)
    session = book.api._http.session
    session.mount("https://", _CutOff(session.get_adapter("https://sheets.googleapis.com/")))
    with pytest.raises(GoogleApiError, match="Google could not be reached"):
        list(book.read_log())
