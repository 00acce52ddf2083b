"""The few Google API calls the Sheets backend makes, with retries and request counting.

Calls go through gspread's HTTP client (its authorised session). Transient failures — 429
(and Drive's 403 rateLimitExceeded), 5xx, dropped connections — are retried with exponential
backoff and jitter (tenacity), at most `attempts` times and never waiting more than
`max_wait` seconds at once. A `spreadsheets.batchUpdate` is not idempotent (it appends Log
rows, adds protections), so it is retried only after a quota refusal (429, or Drive's 403
rateLimitExceeded), never after a 5xx or a dropped connection (Google may have applied it,
and the Drive version may lag): the error surfaces and the tick's journal finishes the job
next time. Every call has a timeout (`TIMEOUT`, set on gspread's session), so a hung
connection cannot eat the whole tick.

Google's answers are parsed by `answers.py`; errors and transient failures are
`google_calls.py`'s, shared with Drive.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit

import ijson
import requests
from gspread.exceptions import APIError
from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_random_exponential

from functions.adapters.google_calls import ApiFailure, api_root, rate_limited, status_of, transient
from functions.adapters.gsheets.answers import (
    JSON,
    Cell,
    Grid,
    Readable,
    Tab,
    parse_spreadsheet,
    parse_tabs,
    parse_value_ranges,
    parse_version,
    value_rows,
)

CHUNK_BYTES = 256 * 1024  # a streamed answer is read this much at a time
TIMEOUT = (10.0, 120.0)  # seconds to connect, to wait for an answer (a 100k-row read)
TAB_FIELDS = (
    "sheets(properties(sheetId,title,index,hidden,gridProperties(rowCount,columnCount,"
    "frozenRowCount)),protectedRanges(protectedRangeId,range,description,warningOnly,editors,"
    "unprotectedRanges),filterViews(filterViewId,title,range,filterSpecs)),properties.locale"
)
# Locales whose decimal separator is a comma take `;` between a formula's arguments in Sheets.
_COMMA_DECIMAL = frozenset(
    "af az be bg ca cs da de el es et eu fi fr gl hr hu hy id is it ka kk ky lt lv mk mn nb nl"
    " nn no pl pt ro ru sk sl sq sr sv tr uk uz vi".split()
)
_POINT_DECIMAL = frozenset({"de_CH", "it_CH", "es_MX", "es_US", "es_419", "es_PR"})


def argument_separator(locale: str) -> str:
    """What separates a formula's arguments in a spreadsheet of this locale (`en_US`: ',')."""
    if locale in _POINT_DECIMAL:
        return ","
    return ";" if locale.split("_")[0] in _COMMA_DECIMAL else ","


class _Arriving:
    """A response's body as a file read while it arrives: a 100,000-invoice sheet's metadata
    answer lists 180,000 protected ranges, never held whole (nor joined into a copy)."""

    def __init__(self, response: requests.Response) -> None:
        self._chunks = response.iter_content(CHUNK_BYTES)  # gzip undone as it comes
        self._rest = b""

    def read(self, size: int = -1, /) -> bytes:
        while size < 0 or len(self._rest) < size:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._rest += chunk
        cut = len(self._rest) if size < 0 else size
        out, self._rest = self._rest[:cut], self._rest[cut:]
        return out


def _body(response: requests.Response) -> Readable:
    """What to parse: the body as it arrives, or the bytes already received (a stand-in)."""
    if response.raw is None:
        return io.BytesIO(response.content)
    return _Arriving(response)


class SheetsApi:
    """One spreadsheet's Sheets + Drive calls; `requests` counts every HTTP attempt."""

    def __init__(
        self,
        client: Any,
        spreadsheet_id: str,
        *,
        attempts: int = 5,
        max_wait: float = 30.0,
        sleep: Callable[[float], None] = time.sleep,
        endpoint: str | None = None,
    ) -> None:
        self._root = api_root(endpoint)
        self._http = client.http_client
        self._http.set_timeout(TIMEOUT)
        self.spreadsheet_id = spreadsheet_id
        self.attempts, self.max_wait, self._sleep = attempts, max_wait, sleep
        self.requests = 0
        self.locale = "en_US"  # the spreadsheet's, learnt with the tab metadata

    def drive_version(self) -> str:
        url = f"{DRIVE_FILES_API_V3_URL}/{self.spreadsheet_id}"
        params = {"fields": "version,modifiedTime", "supportsAllDrives": "true"}
        return parse_version(self._send("get", url, params=params))

    def tabs(self) -> list[Tab]:
        url = SPREADSHEET_URL % self.spreadsheet_id
        answer = self._send(
            "get", url, params={"fields": TAB_FIELDS}, decode=_spreadsheet, stream=True
        )
        self.locale = str(answer.get("properties", {}).get("locale") or self.locale)
        return parse_tabs(answer)

    def batch_get(
        self, ranges: Sequence[str], tails: Mapping[int, int] | None = None
    ) -> list[Grid]:
        """Unformatted values (numbers as numbers, dates as serial numbers) of every range;
        of a range in `tails`, its first row and its last rows holding a value."""
        grids: list[Grid] = self._send(
            "get",
            SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id,
            params=_values_params(ranges),
            decode=lambda answer: parse_value_ranges(_body(answer), tails),
            stream=True,
        )
        return grids

    def rows_of(self, range_: str) -> Iterator[list[Cell]]:
        """One range's rows (as `batch_get` gives them) handed over as they arrive, for a
        range too long to hold whole (the Log). The request goes out at the first `next()`;
        an answer cut off midway raises ApiFailure."""
        response: requests.Response = self._send(
            "get",
            SPREADSHEET_VALUES_BATCH_URL % self.spreadsheet_id,
            params=_values_params([range_]),
            decode=lambda answer: answer,
            stream=True,
        )
        try:
            for row in value_rows(_body(response)):
                if row is not None:
                    yield row
        except (requests.RequestException, ijson.JSONError) as exc:
            raise ApiFailure(exc) from exc
        finally:
            response.close()

    def batch_update(
        self, requests_: list[JSON], *, unchanged_since: str | None = None
    ) -> tuple[JSON, list[Tab]]:
        """One atomic batchUpdate; the replies and the tabs as they are afterwards."""
        body = {
            "requests": requests_,
            "includeSpreadsheetInResponse": True,
            "responseIncludeGridData": False,
        }
        params = {"fields": f"replies,updatedSpreadsheet({TAB_FIELDS})"}

        def may_retry(exc: BaseException) -> bool:
            # Refused before it ran (quota): safe to send again. A 5xx or a dropped connection
            # may come after Google applied it, and the Drive version may lag: never resend
            # blindly — the error surfaces and the tick's journal replays it safely.
            return status_of(exc) == 429 or rate_limited(exc)

        url = SPREADSHEET_BATCH_UPDATE_URL % self.spreadsheet_id
        answer = self._send(
            "post",
            url,
            params=params,
            body=body,
            may_retry=may_retry,
            decode=_spreadsheet,
            stream=True,
        )
        updated = answer.get("updatedSpreadsheet", {})
        self.locale = str(updated.get("properties", {}).get("locale") or self.locale)
        return answer, parse_tabs(updated)

    def _request(
        self, method: str, url: str, params: JSON | None, body: JSON | None, stream: bool
    ) -> requests.Response:
        """gspread's request; streamed: the body is read as it is parsed (`_Arriving`)."""
        response: requests.Response
        if not stream:
            response = self._http.request(method, url, params=params, json=body)
            return response
        response = self._http.session.request(
            method, url, params=params, json=body, timeout=self._http.timeout, stream=True
        )
        if not response.ok:
            raise APIError(response)
        return response

    def _send(
        self,
        method: str,
        url: str,
        *,
        params: JSON | None = None,
        body: JSON | None = None,
        may_retry: Callable[[BaseException], bool] = transient,
        decode: Callable[[requests.Response], Any] = requests.Response.json,
        stream: bool = False,
    ) -> Any:
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=wait_random_exponential(multiplier=0.5, max=self.max_wait),
            retry=retry_if_exception(may_retry),
            sleep=self._sleep,
            reraise=True,
        )
        try:
            if self._root is not None:
                url = self._root + urlsplit(url).path
            for attempt in retrying:
                with attempt:
                    self.requests += 1
                    return decode(self._request(method, url, params, body, stream))
        except APIError as exc:
            raise ApiFailure(exc) from exc
        except (requests.ConnectionError, requests.Timeout) as exc:
            raise ApiFailure(exc) from exc
        raise AssertionError("tenacity stopped without an outcome")


def _values_params(ranges: Sequence[str]) -> JSON:
    return {
        "ranges": list(ranges),
        "valueRenderOption": "UNFORMATTED_VALUE",
        "dateTimeRenderOption": "SERIAL_NUMBER",
        "majorDimension": "ROWS",
    }


def _spreadsheet(response: requests.Response) -> JSON:
    return parse_spreadsheet(_body(response))
