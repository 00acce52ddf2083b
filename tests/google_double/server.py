"""The double as an HTTP service: routing, identity, validation, faults and request counts.

`GoogleDouble.client(user)` returns a real `gspread.Client` whose requests session is wired
to this in-process service (a `requests` transport adapter), so everything above the socket —
gspread, URL quoting, JSON encoding, error translation — runs as in production.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import gspread
import requests
from requests.adapters import BaseAdapter

from . import batch, fields, meta, values
from .discovery import Validator, Violation
from .drive import DriveStore
from .state import JSON, ApiError, Book, Sheet, invalid

SERVICE_ACCOUNT = "sheetflow@sheetflow-test.iam.gserviceaccount.com"
OWNER = "owner@example.com"
_ID = r"([^/:?]+)"
_SHEETS = "sheets.spreadsheets."
ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (verb, re.compile(rf"^{path}$"), kind)
    for verb, path, kind in (
        ("GET", f"/v4/spreadsheets/{_ID}", _SHEETS + "get"),
        ("POST", f"/v4/spreadsheets/{_ID}:batchUpdate", _SHEETS + "batchUpdate"),
        ("GET", f"/v4/spreadsheets/{_ID}/values:batchGet", _SHEETS + "values.batchGet"),
        ("POST", f"/v4/spreadsheets/{_ID}/values:batchUpdate", _SHEETS + "values.batchUpdate"),
        ("POST", f"/v4/spreadsheets/{_ID}/values/(.+):append", _SHEETS + "values.append"),
        ("POST", f"/v4/spreadsheets/{_ID}/values/(.+):clear", _SHEETS + "values.clear"),
        ("GET", f"/v4/spreadsheets/{_ID}/values/([^:]+)", _SHEETS + "values.get"),
        ("PUT", f"/v4/spreadsheets/{_ID}/values/([^:]+)", _SHEETS + "values.update"),
        ("GET", "/drive/v3/changes/startPageToken", "drive.changes.getStartPageToken"),
        ("GET", "/drive/v3/changes", "drive.changes.list"),
        ("GET", "/drive/v3/files", "drive.files.list"),
        ("GET", f"/drive/v3/files/{_ID}", "drive.files.get"),
    )
]
HOSTS = {"sheets.googleapis.com", "www.googleapis.com"}
_FAULTS = {
    429: (
        "RESOURCE_EXHAUSTED",
        "Quota exceeded for quota metric 'Requests' and limit 'Requests per minute per user'"
        " of service 'sheets.googleapis.com' for consumer 'project_number:1'.",
    ),
    500: ("INTERNAL", "Internal error encountered."),
    502: ("UNAVAILABLE", "Bad Gateway"),
    503: ("UNAVAILABLE", "The service is currently unavailable."),
}


@dataclass(frozen=True)
class Call:
    """One request the double answered."""

    user: str
    kind: str  # the discovery method id, e.g. sheets.spreadsheets.values.batchGet
    status: int


@dataclass
class Fault:
    kind: str
    status: int
    times: int
    after_apply: bool


class GoogleDouble:
    """Stateful in-process fake of the Sheets v4 + Drive v3 subset sheetflow uses."""

    def __init__(self, service_account: str = SERVICE_ACCOUNT) -> None:
        self.service_account = service_account
        self.books: dict[str, Book] = {}
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.current_user = service_account
        self.sheets_schema = Validator("sheets.v4")
        self.drive_schema = Validator("drive.v3")
        self.drive = DriveStore(self.drive_schema)  # folders and files (the invoices folder)

    # -- setting up --------------------------------------------------------------------------
    def create_spreadsheet(
        self,
        title: str = "Untitled spreadsheet",
        *,
        owner: str = OWNER,
        editors: tuple[str, ...] = (SERVICE_ACCOUNT,),
        spreadsheet_id: str | None = None,
        first_tab: str = "Sheet1",
    ) -> str:
        sid = spreadsheet_id or f"double-{len(self.books) + 1:04d}"
        book = Book(sid, title, owner, {owner, *editors})
        book.sheets.append(
            Sheet(
                {
                    "sheetId": 0,
                    "title": first_tab,
                    "index": 0,
                    "sheetType": "GRID",
                    "gridProperties": {"rowCount": 1000, "columnCount": 26},
                }
            )
        )
        self.books[sid] = book
        return sid

    def book(self, spreadsheet_id: str) -> Book:
        return self.books[spreadsheet_id]

    def session(self, user: str | None = None) -> requests.Session:
        """A requests session answered by the double; `user=None` follows `as_user`."""
        session = requests.Session()
        transport = _Transport(self, user)
        for prefix in ("https://", "http://"):
            session.mount(prefix, transport)
        return session

    def client(self, user: str | None = None) -> gspread.Client:
        return gspread.Client(None, session=self.session(user))  # type: ignore[arg-type]

    @contextmanager
    def as_user(self, email: str) -> Iterator[None]:
        """Requests from sessions without a fixed user are made as `email` meanwhile."""
        previous, self.current_user = self.current_user, email
        try:
            yield
        finally:
            self.current_user = previous

    def fail(self, kind: str, status: int, times: int = 1, *, after_apply: bool = False) -> None:
        """Answer the next `times` requests of `kind` with `status` (maybe after doing them)."""
        self.faults.append(Fault(kind, status, times, after_apply))

    # -- counting ----------------------------------------------------------------------------
    def mark(self) -> int:
        return len(self.calls)

    def count(self, *, since: int = 0, user: str | None = None, kind: str | None = None) -> int:
        return sum(
            1
            for call in self.calls[since:]
            if (user is None or call.user == user) and (kind is None or call.kind == kind)
        )

    def kinds(self, since: int = 0, user: str | None = None) -> list[str]:
        return [c.kind for c in self.calls[since:] if user is None or c.user == user]

    # -- answering ---------------------------------------------------------------------------
    def answer(self, method: str, url: str, body: bytes | None, user: str) -> tuple[int, Any]:
        parts = urlsplit(url)
        path = parts.path
        kind, args = self._route(method, parts.hostname or "", path)
        query = parse_qs(parts.query, keep_blank_values=True)
        fault = self._fault(kind)
        status: int
        try:
            if fault is not None and not fault.after_apply:
                raise _fault_error(fault.status)
            payload = self._dispatch(kind, args, query, body, user)
            if fault is not None:
                raise _fault_error(fault.status)
            status, result = 200, payload
        except ApiError as exc:
            status, result = exc.code, exc.body()
        self.calls.append(Call(user, kind, status))
        return status, result

    def _route(self, method: str, host: str, path: str) -> tuple[str, list[str]]:
        if host not in HOSTS:
            raise requests.ConnectionError(f"the Google double does not serve {host}")
        for verb, pattern, kind in ROUTES:
            match = pattern.match(path)
            if verb == method and match:
                return kind, [unquote(g) for g in match.groups()]
        return f"unimplemented:{method} {path}", []

    def _fault(self, kind: str) -> Fault | None:
        for fault in self.faults:
            if fault.kind == kind and fault.times > 0:
                fault.times -= 1
                return fault
        return None

    def _dispatch(
        self, kind: str, args: list[str], query: dict[str, list[str]], raw: bytes | None, user: str
    ) -> JSON:
        if kind.startswith("unimplemented:"):
            raise ApiError(
                404, "NOT_FOUND", f"The Google test double does not implement {kind[14:]}."
            )
        if kind.startswith("drive."):
            _raise(self.drive_schema.query(kind, query, lenient=True))
            if kind == "drive.files.get" and args[0] in self.books:
                return self._drive_get(args[0], query, user)
            answer: JSON = self.drive.answer(kind, args, _flat(query), user)
            return answer
        _raise(self.sheets_schema.query(kind, query))
        body = _json(raw)
        request = self.sheets_schema.method(kind).get("request")
        if request is not None:
            prefix = "data" if kind.endswith(("values.update", "values.append")) else ""
            _raise(self.sheets_schema.body(request["$ref"], body or {}, prefix))
        book = self._book(args[0], user)
        tree = None
        if "fields" in query:  # checked before anything is applied: a 400 changes nothing
            response = self.sheets_schema.method(kind)["response"]["$ref"]
            tree = fields.parse(query["fields"][0])
            fields.check(tree, self.sheets_schema, response)
            if "data" in (tree.get("sheets") or {}):
                raise invalid("Grid data (sheets.data) is not implemented by the test double.")
        handler = _HANDLERS[kind]
        result = handler(self, book, args, _flat(query), body or {}, user)
        return result if tree is None else fields.select(result, tree)

    def _book(self, sid: str, user: str) -> Book:
        book = self.books.get(sid)
        if book is None:
            raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        if user not in book.writers:
            raise ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")
        return book

    def _drive_get(self, file_id: str, query: dict[str, list[str]], user: str) -> JSON:
        book = self.books.get(file_id)
        if book is None or user not in book.writers:
            message = f"File not found: {file_id}."
            reason = {
                "message": message,
                "domain": "global",
                "reason": "notFound",
                "location": "fileId",
                "locationType": "parameter",
            }
            raise ApiError(404, "", message, errors=[reason])
        wanted = None
        if "fields" in query:
            wanted = [f.strip() for f in query["fields"][0].split(",") if f.strip()]
            unknown = [f for f in wanted if f not in meta.DRIVE_FIELDS]
            if unknown:
                raise invalid(f"Invalid field selection {unknown[0]}")
        return meta.drive_file(book, wanted)

    # -- handlers (book already checked) -----------------------------------------------------
    def _get(self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str) -> JSON:
        if str(q.get("includeGridData", "false")).lower() == "true" or q.get("ranges"):
            raise invalid("includeGridData and ranges are not implemented by the test double.")
        return meta.spreadsheet(book, user)

    def _batch_update(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        work = book.clone()
        replies = batch.Batch(work, user).run(body.get("requests") or [])
        self._commit(book, work)
        out: JSON = {"spreadsheetId": book.id, "replies": replies}
        if body.get("includeSpreadsheetInResponse"):
            out["updatedSpreadsheet"] = meta.spreadsheet(work, user)
        return out

    def _commit(self, book: Book, work: Book) -> None:
        book.sheets, book.ids, book.planned_ids = work.sheets, work.ids, work.planned_ids
        book.touch()

    def _mutate(self, book: Book, change: Callable[[Book], JSON]) -> JSON:
        work = book.clone()
        result = change(work)
        self._commit(book, work)
        return result

    def _values_get(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        return values.read(book, args[1], *_render(q))

    def _values_batch_get(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        ranges = q.get("ranges") or []
        return {
            "spreadsheetId": book.id,
            "valueRanges": [values.read(book, text, *_render(q)) for text in ranges],
        }

    def _values_update(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        option = values.input_option(q.get("valueInputOption"))
        return self._mutate(book, lambda w: values.update(w, user, args[1], option, body))

    def _values_batch_update(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        return self._mutate(book, lambda w: values.batch_update(w, user, body))

    def _values_append(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        option = values.input_option(q.get("valueInputOption"))
        insert = q.get("insertDataOption", "OVERWRITE")
        return self._mutate(book, lambda w: values.append(w, user, args[1], option, insert, body))

    def _values_clear(
        self, book: Book, args: list[str], q: dict[str, Any], body: JSON, user: str
    ) -> JSON:
        return self._mutate(book, lambda w: values.clear(w, user, args[1]))


Handler = Callable[[GoogleDouble, Book, list[str], dict[str, Any], JSON, str], JSON]
_HANDLERS: dict[str, Handler] = {
    "sheets.spreadsheets.get": GoogleDouble._get,
    "sheets.spreadsheets.batchUpdate": GoogleDouble._batch_update,
    "sheets.spreadsheets.values.get": GoogleDouble._values_get,
    "sheets.spreadsheets.values.batchGet": GoogleDouble._values_batch_get,
    "sheets.spreadsheets.values.update": GoogleDouble._values_update,
    "sheets.spreadsheets.values.batchUpdate": GoogleDouble._values_batch_update,
    "sheets.spreadsheets.values.append": GoogleDouble._values_append,
    "sheets.spreadsheets.values.clear": GoogleDouble._values_clear,
}


def _render(q: dict[str, Any]) -> tuple[str, str, str]:
    return (
        q.get("valueRenderOption", "FORMATTED_VALUE"),
        q.get("dateTimeRenderOption", "SERIAL_NUMBER"),
        q.get("majorDimension", "ROWS"),
    )


def _flat(query: dict[str, list[str]]) -> dict[str, Any]:
    return {k: (v if k == "ranges" else v[-1]) for k, v in query.items()}


def _json(raw: bytes | None) -> Any:
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise invalid("Invalid JSON payload received. Unexpected token.") from None


def _raise(found: list[Violation]) -> None:
    if not found:
        return
    raise ApiError(
        400,
        "INVALID_ARGUMENT",
        "\n".join(v.description for v in found),
        [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [
                    {"field": v.field, "description": v.description} for v in found
                ],
            }
        ],
    )


def _fault_error(status: int) -> ApiError:
    if status == 403:  # Drive's quota answer (documented: "Resolve errors", 403 rate limit)
        reason = {"domain": "usageLimits", "reason": "rateLimitExceeded"}
        message = "Rate Limit Exceeded"
        return ApiError(403, "PERMISSION_DENIED", message, errors=[{**reason, "message": message}])
    name, message = _FAULTS.get(status, ("UNAVAILABLE", "The service is currently unavailable."))
    return ApiError(status, name, message)


class _Transport(BaseAdapter):
    """A requests transport that hands every request to the double."""

    def __init__(self, double: GoogleDouble, user: str | None) -> None:
        super().__init__()
        self.double, self.user = double, user

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        body = request.body
        raw = body.encode("utf-8") if isinstance(body, str) else body
        status, payload = self.double.answer(
            request.method or "GET",
            request.url or "",
            raw if isinstance(raw, bytes) else None,
            self.user or self.double.current_user,
        )
        response = requests.Response()
        response.status_code = status
        response.url = request.url or ""
        response.request = request
        response.reason = "OK" if status == 200 else "Error"
        if isinstance(payload, bytes):  # a Drive download (alt=media)
            response.headers["Content-Type"] = "application/octet-stream"
            response._content = payload
        else:
            response.headers["Content-Type"] = "application/json; charset=UTF-8"
            response._content = json.dumps(payload).encode("utf-8")
        response.encoding = "utf-8"
        return response

    def close(self) -> None:
        pass
