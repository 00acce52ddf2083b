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

The parsers here take Google's JSON as documented and recorded (see the parity tests).
"""

from __future__ import annotations

import io
import time
from collections import deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
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

from functions.adapters.gsheets.protections import Protection, Protections, shared
from functions.errors import ConfigError, SheetflowError
from functions.record import share

JSON = dict[str, Any]
Cell = str | int | float | bool | None
Grid = list[list[Cell]]
TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})
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


def api_root(endpoint: str | None) -> str | None:
    """Where Sheets and Drive calls go instead of Google (SHEETFLOW_GOOGLE_API_ENDPOINT).

    For a private endpoint (e.g. Private Service Connect) or a local stand-in; plain http is
    accepted on the loopback interface only, as the requests carry the access token.
    """
    if not endpoint:
        return None
    parts = urlsplit(endpoint.strip())
    local = parts.hostname in ("127.0.0.1", "localhost", "::1")
    if parts.scheme != "https" and not (parts.scheme == "http" and local):
        raise ConfigError(
            f"SHEETFLOW_GOOGLE_API_ENDPOINT={endpoint!r}: use https:// (http:// only on loopback)"
        )
    return f"{parts.scheme}://{parts.netloc}{parts.path.rstrip('/')}"


def argument_separator(locale: str) -> str:
    """What separates a formula's arguments in a spreadsheet of this locale (`en_US`: ',')."""
    if locale in _POINT_DECIMAL:
        return ","
    return ";" if locale.split("_")[0] in _COMMA_DECIMAL else ","


class GoogleApiError(SheetflowError):
    """Google refused a request (or kept failing): the message says what to do."""


@dataclass(frozen=True)
class FilterView:
    id: int
    title: str
    range: JSON
    criteria: str = ""  # the per-column criteria, comparable with `criteria_key`


def criteria_key(filter_specs: list[JSON]) -> str:
    return repr(
        sorted((int(s.get("columnIndex", 0)), repr(s.get("filterCriteria"))) for s in filter_specs)
    )


@dataclass(frozen=True)
class Tab:
    """One tab's metadata (no cells)."""

    sheet_id: int
    title: str
    rows: int
    columns: int
    hidden: bool = False
    protections: Sequence[Protection] = ()  # Protections when parsed: compact
    filter_views: tuple[FilterView, ...] = field(default=())


def parse_tabs(answer: JSON) -> list[Tab]:
    """Tabs from a `spreadsheets.get` (or `updatedSpreadsheet`) answer, in tab order."""
    tabs = []
    for sheet in answer.get("sheets", []):
        props = sheet.get("properties", {})
        grid = props.get("gridProperties", {})
        found = sheet.get("protectedRanges", [])
        protections = (
            found if isinstance(found, Protections) else Protections(map(_protection, found))
        )
        views = tuple(
            FilterView(
                int(v["filterViewId"]),
                str(v.get("title", "")),
                dict(v.get("range", {})),
                criteria_key(v.get("filterSpecs", [])),
            )
            for v in sheet.get("filterViews", [])
        )
        tabs.append(
            Tab(
                int(props.get("sheetId", 0)),
                str(props.get("title", "")),
                int(grid.get("rowCount", 0)),
                int(grid.get("columnCount", 0)),
                bool(props.get("hidden", False)),
                protections,
                views,
            )
        )
    return tabs


def _protection(found: JSON) -> Protection:
    span = found.get("range", {})
    return Protection(
        int(found["protectedRangeId"]),
        str(found.get("description", "")),
        (shared(tuple(span)), tuple(span.values())),
        shared(tuple(map(share, found.get("editors", {}).get("users", [])))),
    )


class Readable(Protocol):
    def read(self, size: int = -1, /) -> bytes: ...


def _readable(body: bytes | Readable) -> Readable:
    return io.BytesIO(body) if isinstance(body, bytes) else body


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


# ijson's paths to the protected ranges of a tab, in a `spreadsheets.get` and a `batchUpdate`
# answer, and to one of them.
_PROTECTION_LISTS = frozenset(
    {"sheets.item.protectedRanges", "updatedSpreadsheet.sheets.item.protectedRanges"}
)
_PROTECTIONS = frozenset(f"{path}.item" for path in _PROTECTION_LISTS)


def parse_spreadsheet(body: bytes | Readable) -> JSON:
    """A `spreadsheets.get` or `batchUpdate` answer's JSON, as received, decoded with each
    tab's protected ranges stored compactly (`Protections`) as they are read: decoded whole,
    an answer with 180,000 locks (100,000 invoices) briefly took 243 MiB more."""
    answer = ijson.ObjectBuilder()
    item: ijson.ObjectBuilder | None = None
    protections = Protections()
    for prefix, event, value in ijson.parse(_readable(body), use_float=True):
        if item is None and prefix in _PROTECTIONS and event == "start_map":
            item = ijson.ObjectBuilder()
        if item is None:
            answer.event(event, value)
            if prefix in _PROTECTION_LISTS and event == "start_array":
                # the list just begun becomes a compact store, in its parent and as the
                # builder's open container (each item is added below, never by the builder)
                protections = Protections()
                answer.containers[-2][answer.key] = answer.containers[-1] = protections
            continue
        item.event(event, value)
        if prefix in _PROTECTIONS and event == "end_map":
            protections.append(_protection(item.value))
            item = None
    decoded: JSON = answer.value
    return decoded


# ijson's paths to a value range, one of its rows and one cell of that row.
_RANGE = "valueRanges.item"
_ROW = _RANGE + ".values.item"
_CELL = _ROW + ".item"


def parse_value_ranges(
    body: bytes | Readable, tails: Mapping[int, int] | None = None
) -> list[Grid]:
    """Rows of cells per requested range (a values:batchGet answer's JSON, as received).

    Missing trailing cells are simply absent. Parsed as a stream with repeated texts shared:
    decoded whole, a 100,000 + 100,000-row answer would briefly need ~250 MB more. `tails`
    maps a range's index to how many of its last rows holding a value to keep after its
    first (the Log's end, to replay a journal: the Log holds hundreds of thousands of rows).
    """
    grids: list[Grid] = []
    ends: list[tuple[Grid, deque[list[Cell]]]] = []
    end: deque[list[Cell]] | None = None  # the current range's last rows, if it is a tail
    for row in value_rows(body):
        if row is None:
            grids.append([])
            limit = (tails or {}).get(len(grids) - 1)
            end = None if limit is None else deque(maxlen=limit)
            if end is not None:
                ends.append((grids[-1], end))
        elif end is None or not grids[-1]:
            grids[-1].append(row)  # every row, or a tail's first (the header)
        elif any(v not in ("", None) for v in row):
            end.append(row)
    for grid, rows in ends:
        grid.extend(rows)
    return grids


def value_rows(body: bytes | Readable) -> Iterator[list[Cell] | None]:
    """A values:batchGet answer's rows as they arrive; None where each range begins."""
    row: list[Cell] = []
    for prefix, event, value in ijson.parse(_readable(body), use_float=True):
        if prefix == _CELL:
            row.append(share(_cell(value)))
        elif prefix == _ROW:
            if event == "start_array":
                row = []
            else:
                yield row
        elif prefix == _RANGE and event == "start_map":
            yield None


def _cell(value: object) -> Cell:
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def parse_version(answer: JSON) -> str:
    """Drive's file version (changes on every edit); modifiedTime if version is absent."""
    return str(answer.get("version") or answer.get("modifiedTime") or "")


def error_message(code: int, answer: object) -> str:
    """Google's own explanation of an error answer, with the status code."""
    message = ""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        message = str(answer["error"].get("message", ""))
    return f"Google answered {code}: {message or 'no explanation'}"


def _status(exc: BaseException) -> int | None:
    if isinstance(exc, APIError):
        return int(exc.response.status_code)
    return None


def _rate_limited(exc: BaseException) -> bool:
    """Drive answers quota errors as 403 with reason rateLimitExceeded: a passing failure."""
    if not isinstance(exc, APIError) or exc.response.status_code != 403:
        return False
    try:
        error = exc.response.json().get("error", {})
    except ValueError:
        return False
    reasons = {str(e.get("reason", "")) for e in error.get("errors", []) if isinstance(e, dict)}
    reasons |= {str(d.get("reason", "")) for d in error.get("details", []) if isinstance(d, dict)}
    return bool(reasons & RATE_LIMITED)


def transient(exc: BaseException) -> bool:
    status = _status(exc)
    if status is not None:
        return status in TRANSIENT or _rate_limited(exc)
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


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
            return _status(exc) == 429 or _rate_limited(exc)

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


class ApiFailure(GoogleApiError):
    """A request that failed for good; `status` is Google's HTTP status (None: no answer)."""

    def __init__(self, cause: Exception) -> None:
        self.status = _status(cause)
        if isinstance(cause, APIError):
            try:
                answer: object = cause.response.json()
            except ValueError:
                answer = None
            message = error_message(int(cause.response.status_code), answer)
        else:
            message = f"Google could not be reached: {cause}"
        super().__init__(message)
        self.google_message = message
