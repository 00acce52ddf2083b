"""A stateful fake of the Gmail v1 subset sheetflow uses, as an httplib2 `Http` object.

Hand it to `googleapiclient.discovery.build("gmail", "v1", http=double)` (or wrap it in
`google_auth_httplib2.AuthorizedHttp`): every request the client makes lands in `request()`.

Implemented, and nothing else (any other URL or method gets a Google-shaped 404):

    POST oauth2.googleapis.com/token          service-account JWT grant (domain-wide delegation)
    POST users/{userId}/messages/send         stores the message; Sent gets it
    GET  users/{userId}/messages              `q` made of in:sent, rfc822msgid:, to:, after:
    GET  users/{userId}/messages/{id}         format=minimal|metadata (+ metadataHeaders)

Every Gmail request is checked against the discovery document shipped inside
google-api-python-client: path template, query parameter names and types, repeated-ness,
enums, and the JSON body against its schema (unknown fields rejected, types checked, fields
`required` for the method enforced). The double's own responses are checked the same way.

Like the real service (as reported for API sends) the Sent copy gets a new Message-ID;
`rewrite_message_id=False` keeps the one the client wrote.
"""

from __future__ import annotations

import base64
import binascii
import email.policy
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import getaddresses
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

import googleapiclient
import httplib2
from google.auth import jwt

DISCOVERY_PATH = (
    Path(googleapiclient.__file__).parent / "discovery_cache" / "documents" / "gmail.v1.json"
)
TOKEN_URI = "https://oauth2.googleapis.com/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
IMPLEMENTED = (
    "gmail.users.messages.send",
    "gmail.users.messages.list",
    "gmail.users.messages.get",
)
_STATUS = {
    400: ("INVALID_ARGUMENT", "badRequest"),
    401: ("UNAUTHENTICATED", "authError"),
    403: ("PERMISSION_DENIED", "forbidden"),
    404: ("NOT_FOUND", "notFound"),
    429: ("RESOURCE_EXHAUSTED", "rateLimitExceeded"),
    500: ("INTERNAL", "backendError"),
    503: ("UNAVAILABLE", "backendError"),
}
_MESSAGES = {
    429: "Too many concurrent requests for user.",
    500: "Backend Error",
    503: "The service is currently unavailable.",
}
_INT_RANGES = {"int32": (-(2**31), 2**31 - 1), "uint32": (0, 2**32 - 1)}


def _is_integer(value: Any, fmt: str | None) -> bool:
    low, high = _INT_RANGES.get(fmt or "int32", _INT_RANGES["int32"])
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


_SCALARS = {
    "integer": _is_integer,
    "number": lambda v, _: isinstance(v, int | float) and not isinstance(v, bool),
    "boolean": lambda v, _: isinstance(v, bool),
}


class ApiError(Exception):
    """A Google API error response: status code plus the v1 JSON error body."""

    def __init__(self, code: int, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message = code, message
        self.retry_after: float | None = None
        status, default_reason = _STATUS.get(code, ("UNKNOWN", "unknown"))
        self.status, self.reason = status, reason or default_reason

    def body(self) -> dict[str, Any]:
        return {
            "error": {
                "code": self.code,
                "message": self.message,
                "errors": [{"message": self.message, "domain": "global", "reason": self.reason}],
                "status": self.status,
            }
        }


@dataclass(frozen=True)
class Route:
    method_id: str
    spec: dict[str, Any]
    path_params: dict[str, str]


class Discovery:
    """One discovery document: finds the method a request is for and checks it strictly."""

    def __init__(self, path: Path = DISCOVERY_PATH) -> None:
        self.doc: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        self.base = self.doc["rootUrl"] + self.doc["servicePath"]
        self.methods: list[tuple[re.Pattern[str], dict[str, Any], int]] = []
        self._collect(self.doc)
        # The most literal template wins: `messages/send` before `messages/{id}`.
        self.methods.sort(key=lambda item: -item[2])

    def _collect(self, resource: Mapping[str, Any]) -> None:
        for spec in resource.get("methods", {}).values():
            parts = re.split(r"(\{\+?\w+\})", spec["path"])
            pattern = "".join(
                f"(?P<{p.strip('{+}')}>{'.+' if '+' in p else '[^/]+'})"
                if p.startswith("{")
                else re.escape(p)
                for p in parts
            )
            literal = sum(len(p) for p in parts if not p.startswith("{"))
            self.methods.append((re.compile(pattern + "$"), spec, literal))
        for child in resource.get("resources", {}).values():
            self._collect(child)

    def route(self, http_method: str, uri: str) -> Route:
        if not uri.startswith(self.base):
            raise ApiError(404, f"Requested entity was not found. ({uri.split('?')[0]})")
        path = urlsplit(uri).path.removeprefix(urlsplit(self.base).path)
        for pattern, spec, _ in self.methods:
            match = pattern.match(path)
            if match and spec["httpMethod"] == http_method:
                params = {k: unquote(v) for k, v in match.groupdict().items()}
                return Route(spec["id"], spec, params)
        raise ApiError(404, f"Requested entity was not found. ({http_method} /{path})")

    def query(self, route: Route, uri: str) -> dict[str, Any]:
        """The query parameters, typed; unknown names, bad types and bad enums are 400s."""
        raw = parse_qs(urlsplit(uri).query, keep_blank_values=True)
        declared = {**self.doc["parameters"], **route.spec.get("parameters", {})}
        typed: dict[str, Any] = {}
        for name, values in raw.items():
            spec = declared.get(name)
            if spec is None or spec.get("location") != "query":
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{name}": Cannot bind query '
                    f"parameter. Field '{name}' could not be found in request message.",
                    "invalidArgument",
                )
            if len(values) > 1 and not spec.get("repeated"):
                raise ApiError(400, f"Parameter '{name}' may be given only once.")
            converted = [self._scalar(spec, value, name) for value in values]
            typed[name] = converted if spec.get("repeated") else converted[0]
        for name, spec in route.spec.get("parameters", {}).items():
            if spec.get("required") and spec["location"] == "query" and name not in typed:
                raise ApiError(400, f"Required parameter '{name}' is missing.", "required")
        for name in route.spec.get("parameterOrder", []):
            if not route.path_params.get(name):
                raise ApiError(400, f"Required path parameter '{name}' is missing.", "required")
        return typed

    @staticmethod
    def _scalar(spec: Mapping[str, Any], value: str, name: str) -> Any:
        kind = spec.get("type")
        if "enum" in spec and value not in spec["enum"]:
            raise ApiError(
                400, f"Invalid value at '{name}' (TYPE_ENUM), \"{value}\"", "invalidArgument"
            )
        if kind == "boolean":
            if value not in ("true", "false"):
                raise ApiError(400, f"Invalid value at '{name}' (TYPE_BOOL), \"{value}\"")
            return value == "true"
        if kind == "integer":
            try:
                number = int(value)
            except ValueError:
                raise ApiError(400, f"Invalid value at '{name}' (TYPE_INT), \"{value}\"") from None
            low, high = _INT_RANGES.get(spec.get("format", "int32"), _INT_RANGES["int32"])
            if not low <= number <= high:
                raise ApiError(400, f"Invalid value at '{name}' ({spec.get('format')}), {value}")
            return number
        return value

    def body(self, route: Route, headers: Mapping[str, str], body: bytes | None) -> Any:
        """The JSON body checked against the method's request schema (None if it has none)."""
        request = route.spec.get("request")
        if request is None:
            if body:
                raise ApiError(400, f"{route.method_id} takes no request body.")
            return None
        if not headers.get("content-type", "").startswith("application/json"):
            raise ApiError(400, f"{route.method_id} needs a JSON body (Content-Type).")
        try:
            data = json.loads((body or b"").decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ApiError(400, f"Invalid JSON payload received. {exc}") from None
        self.check(request, data, "", route.method_id)
        return data

    def check(self, schema: Mapping[str, Any], value: Any, where: str, method: str = "") -> None:
        """Strictly check a JSON value against a discovery schema (raises ApiError 400)."""
        if "$ref" in schema:
            schema = self.doc["schemas"][schema["$ref"]]
        kind = schema.get("type")
        bad = ApiError(
            400,
            f"Invalid value at '{where or 'message'}' ({kind}/{schema.get('format', '-')}), "
            f"{json.dumps(value)[:80]}",
            "invalidArgument",
        )
        if kind == "object":
            if not isinstance(value, dict):
                raise bad
            self._check_object(schema, value, where, method)
        elif kind == "array":
            if not isinstance(value, list):
                raise bad
            for index, item in enumerate(value):
                self.check(schema["items"], item, f"{where}[{index}]", method)
        elif kind == "string":
            self._check_string(schema, value, bad)
        elif kind in _SCALARS:
            if not _SCALARS[kind](value, schema.get("format")):
                raise bad
        elif kind != "any":
            raise ApiError(500, f"the double cannot check schema type {kind!r}")

    def _check_object(
        self, schema: Mapping[str, Any], value: dict[str, Any], where: str, method: str
    ) -> None:
        properties = schema.get("properties", {})
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            at = f"{where}.{name}" if where else name
            if name in properties:
                self.check(properties[name], item, at, method)
            elif extra is not None:
                self.check(extra, item, at, method)
            else:
                place = f" at '{where}'" if where else ""
                raise ApiError(
                    400,
                    f'Invalid JSON payload received. Unknown name "{name}"{place}: '
                    "Cannot find field.",
                    "invalidArgument",
                )
        for name, item in properties.items():
            if method in item.get("annotations", {}).get("required", []) and name not in value:
                raise ApiError(400, f"'{name}' is required for {method}.", "required")

    @staticmethod
    def _check_string(schema: Mapping[str, Any], value: Any, bad: ApiError) -> None:
        fmt = schema.get("format")
        if fmt in ("int64", "uint64") and isinstance(value, int) and not isinstance(value, bool):
            return  # Google accepts a JSON number for a 64-bit integer string
        if not isinstance(value, str):
            raise bad
        if "enum" in schema and value not in schema["enum"]:
            raise bad
        if fmt in ("int64", "uint64") and not re.fullmatch(r"-?\d+", value):
            raise bad
        if fmt == "byte" and decode_base64(value) is None:
            raise bad


def decode_base64(text: str) -> bytes | None:
    """Standard or URL-safe base64, padded or not (what Google accepts for `byte` fields)."""
    cleaned = text.replace("-", "+").replace("_", "/")
    try:
        return base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except (binascii.Error, ValueError):
        return None


@dataclass
class SentMessage:
    """One message in a mailbox's Sent: what the client sent and Gmail's copy of it."""

    id: str
    thread_id: str
    mailbox: str
    received_raw: bytes
    stored: EmailMessage
    internal_date_ms: int
    labels: tuple[str, ...] = ("SENT",)

    @property
    def received(self) -> EmailMessage:
        message = BytesParser(policy=email.policy.default).parsebytes(self.received_raw)
        assert isinstance(message, EmailMessage)
        return message

    def recipients(self, *headers: str) -> list[str]:
        values = [str(v) for h in headers for v in self.stored.get_all(h, [])]
        return [address.lower() for _, address in getaddresses(values) if address]


@dataclass
class Fault:
    remaining: int
    method: str | None
    status: int | None = None
    error: BaseException | None = None
    after_effect: bool = False
    retry_after: float | None = None

    def applies(self, method_id: str | None, after_effect: bool) -> bool:
        return (
            self.remaining > 0
            and self.after_effect == after_effect
            and self.method in (None, method_id)
        )


@dataclass(frozen=True)
class Recorded:
    http_method: str
    uri: str
    method_id: str | None
    status: int | None  # None: the request raised instead of answering


@dataclass
class ServiceAccount:
    email: str
    key_id: str
    public_key_pem: str
    delegation_allowed: bool = True


class GmailDouble:
    """An httplib2-compatible `Http` that answers as Gmail (and Google's token endpoint)."""

    def __init__(
        self,
        mailbox: str = "robot@example.com",
        *,
        rewrite_message_id: bool = True,
        require_auth: bool = False,
        discovery: Discovery | None = None,
    ) -> None:
        self.mailbox = mailbox.lower()
        self.rewrite_message_id = rewrite_message_id
        self.require_auth = require_auth
        self.discovery = discovery or Discovery()
        self.sent: list[SentMessage] = []
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self.service_accounts: dict[str, ServiceAccount] = {}
        self.tokens: dict[str, tuple[str, str]] = {}  # access token → (account, subject)
        self.grants: list[dict[str, Any]] = []  # the verified JWT claims of each token request
        self._ids = itertools.count(0x18C0FFEE0000)
        # What httplib2.Http exposes and google_auth_httplib2.AuthorizedHttp proxies.
        self.timeout: float | None = None
        self.follow_redirects = True
        self.redirect_codes = frozenset({300, 301, 302, 303, 307})
        self.connections: dict[str, Any] = {}

    # -- test controls ---------------------------------------------------------------------
    def add_service_account(self, email: str, key_id: str, public_key_pem: str) -> None:
        self.service_accounts[email] = ServiceAccount(email, key_id, public_key_pem)

    def deny_delegation(self, email: str) -> None:
        """As if the Workspace admin never authorised this account's client ID."""
        self.service_accounts[email].delegation_allowed = False

    def fail_next(
        self,
        count: int = 1,
        *,
        status: int = 500,
        method: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        """The next `count` requests (for `method`, a discovery id) get `status`, no effect."""
        self.faults.append(Fault(count, method, status=status, retry_after=retry_after))

    def raise_next(
        self, error: BaseException, *, count: int = 1, method: str | None = None
    ) -> None:
        """The next `count` requests raise `error` (a dropped connection), no effect."""
        self.faults.append(Fault(count, method, error=error))

    def crash_after_send(
        self, *, status: int = 500, error: BaseException | None = None, count: int = 1
    ) -> None:
        """The next `count` sends are stored and sent, but the client gets an error."""
        fault = Fault(count, IMPLEMENTED[0], status=status, error=error, after_effect=True)
        self.faults.append(fault)

    def count(self, method: str | None = None) -> int:
        """Requests received (for one discovery method id, or all)."""
        return sum(1 for r in self.requests if method is None or r.method_id == method)

    def sent_with_key(self, key: str) -> list[SentMessage]:
        return [m for m in self.sent if m.stored.get("X-Sheetflow-Key") == key]

    # -- httplib2.Http ---------------------------------------------------------------------
    def request(
        self,
        uri: str,
        method: str = "GET",
        body: bytes | str | None = None,
        headers: Mapping[str, str] | None = None,
        redirections: int = 5,
        connection_type: Any = None,
    ) -> tuple[httplib2.Response, bytes]:
        lowered = {k.lower(): v for k, v in (headers or {}).items()}
        data = body.encode("utf-8") if isinstance(body, str) else body
        method_id: str | None = None
        try:
            if uri.split("?")[0] == TOKEN_URI and method == "POST":
                method_id = "oauth2.token"
                return self._answer(method, uri, method_id, 200, self._token(data))
            route = self.discovery.route(method, uri)
            method_id = route.method_id
            self._inject(method_id, after_effect=False)
            if method_id not in IMPLEMENTED:
                raise ApiError(404, f"{method_id} is not implemented by the Gmail test double.")
            query = self.discovery.query(route, uri)
            payload = self.discovery.body(route, lowered, data)
            mailbox = self._authorise(route, lowered)
            result = self._dispatch(route, query, payload, mailbox)
            self.discovery.check(route.spec["response"], result, "response")
            self._inject(method_id, after_effect=True)
            return self._answer(method, uri, method_id, 200, result)
        except ApiError as exc:
            return self._answer(method, uri, method_id, exc.code, exc.body(), exc)
        except BaseException:
            self.requests.append(Recorded(method, uri, method_id, None))
            raise

    def close(self) -> None:
        """httplib2.Http API; nothing to close."""

    # -- internals -------------------------------------------------------------------------
    def _answer(
        self,
        method: str,
        uri: str,
        method_id: str | None,
        status: int,
        payload: Any,
        error: ApiError | None = None,
    ) -> tuple[httplib2.Response, bytes]:
        self.requests.append(Recorded(method, uri, method_id, status))
        response = httplib2.Response(
            {"status": str(status), "content-type": "application/json; charset=UTF-8"}
        )
        response.reason = "OK" if status == 200 else (error.status if error else "Error")
        if error is not None and error.retry_after is not None:
            response["retry-after"] = str(error.retry_after)
        return response, json.dumps(payload).encode("utf-8")

    def _inject(self, method_id: str, *, after_effect: bool) -> None:
        for fault in self.faults:
            if fault.applies(method_id, after_effect):
                fault.remaining -= 1
                if fault.error is not None:
                    raise fault.error
                code = fault.status or 500
                error = ApiError(code, _MESSAGES.get(code, "Error"))
                error.retry_after = fault.retry_after
                raise error

    def _authorise(self, route: Route, headers: Mapping[str, str]) -> str:
        """The mailbox the request acts on: `userId`, which must be the token's subject."""
        user = route.path_params["userId"]
        subject = self.mailbox
        if self.require_auth:
            token = headers.get("authorization", "").removeprefix("Bearer ").strip()
            if token not in self.tokens:
                raise ApiError(
                    401,
                    "Request had invalid authentication credentials. Expected OAuth 2 access "
                    "token, login cookie or other valid authentication credential.",
                    "authError",
                )
            subject = self.tokens[token][1]
        if user != "me" and user.lower() != subject:
            raise ApiError(403, f"Delegation denied for {subject}", "forbidden")
        return subject

    def _dispatch(
        self, route: Route, query: Mapping[str, Any], payload: Any, mailbox: str
    ) -> dict[str, Any]:
        if query.get("alt", "json") != "json":
            raise ApiError(400, "The Gmail test double answers only alt=json.")
        if route.method_id == "gmail.users.messages.send":
            return self._send(payload, mailbox)
        if route.method_id == "gmail.users.messages.list":
            return self._list(query, mailbox)
        return self._get(route.path_params["id"], query, mailbox)

    def _send(self, payload: Mapping[str, Any], mailbox: str) -> dict[str, Any]:
        raw = decode_base64(payload["raw"])
        assert raw is not None  # the schema check decoded it already
        try:
            stored = BytesParser(policy=email.policy.default).parsebytes(raw)
            recipients = getaddresses(
                [str(v) for h in ("To", "Cc", "Bcc") for v in stored.get_all(h, [])]
            )
        except (ValueError, TypeError, IndexError) as exc:
            raise ApiError(400, f"Invalid To header ({exc})", "invalidArgument") from None
        if not any(address for _, address in recipients):
            raise ApiError(400, "Recipient address required", "invalidArgument")
        assert isinstance(stored, EmailMessage)
        message_id = f"{next(self._ids):x}"
        if self.rewrite_message_id or stored["Message-ID"] is None:
            del stored["Message-ID"]
            stored["Message-ID"] = f"<CA+{secrets.token_hex(12)}@mail.gmail.com>"
        message = SentMessage(message_id, message_id, mailbox, raw, stored, int(time.time() * 1000))
        self.sent.append(message)
        return {"id": message.id, "threadId": message.thread_id, "labelIds": list(message.labels)}

    def _list(self, query: Mapping[str, Any], mailbox: str) -> dict[str, Any]:
        if query.get("labelIds"):
            raise ApiError(400, "labelIds is not implemented by the Gmail test double.")
        filters = [_term(term) for term in str(query.get("q", "")).split()]
        matches = [
            m for m in reversed(self.sent) if m.mailbox == mailbox and all(f(m) for f in filters)
        ]
        start = int(query.get("pageToken") or 0)
        size = min(int(query.get("maxResults", 100)), 500)
        page = matches[start : start + size]
        result: dict[str, Any] = {"resultSizeEstimate": len(page)}
        if page:
            result["messages"] = [{"id": m.id, "threadId": m.thread_id} for m in page]
        if start + size < len(matches):
            result["nextPageToken"] = str(start + size)
        return result

    def _get(self, message_id: str, query: Mapping[str, Any], mailbox: str) -> dict[str, Any]:
        fmt = query.get("format", "full")
        if fmt not in ("minimal", "metadata"):
            raise ApiError(400, f"format={fmt} is not implemented by the Gmail test double.")
        found = [m for m in self.sent if m.id == message_id and m.mailbox == mailbox]
        if not found:
            raise ApiError(404, "Requested entity was not found.")
        message = found[0]
        result: dict[str, Any] = {
            "id": message.id,
            "threadId": message.thread_id,
            "labelIds": list(message.labels),
            "internalDate": str(message.internal_date_ms),
            "sizeEstimate": len(message.received_raw),
        }
        if fmt == "metadata":
            wanted = {h.lower() for h in query.get("metadataHeaders", [])}
            result["payload"] = {
                "mimeType": message.stored.get_content_type(),
                "headers": [
                    {"name": name, "value": str(value)}
                    for name, value in message.stored.items()
                    if not wanted or name.lower() in wanted
                ],
            }
        return result

    def _token(self, body: bytes | None) -> dict[str, Any]:
        """Google's token endpoint for a service account's signed JWT (RFC 7523)."""
        form = parse_qs((body or b"").decode("ascii"))
        if form.get("grant_type") != [JWT_GRANT] or len(form.get("assertion", [])) != 1:
            raise ApiError(400, "unsupported_grant_type")
        certs = {a.key_id: a.public_key_pem for a in self.service_accounts.values()}
        try:
            claims = jwt.decode(form["assertion"][0], certs=certs, audience=TOKEN_URI)
        except (ValueError, KeyError) as exc:
            raise _OAuthError("invalid_grant", f"Invalid JWT Signature. ({exc})") from None
        account = self.service_accounts.get(claims.get("iss", ""))
        if account is None:
            raise _OAuthError("invalid_grant", "Invalid grant: account not found")
        subject = str(claims.get("sub", ""))
        if subject and subject != account.email and not account.delegation_allowed:
            raise _OAuthError(
                "unauthorized_client",
                "Client is unauthorized to retrieve access tokens using this method, or client "
                "not authorized for any of the scopes requested.",
            )
        self.grants.append(claims)
        token = f"ya29.double-{secrets.token_urlsafe(24)}"
        self.tokens[token] = (account.email, (subject or account.email).lower())
        return {"access_token": token, "expires_in": 3599, "token_type": "Bearer"}


class _OAuthError(ApiError):
    """The token endpoint's error shape: {"error": code, "error_description": text}."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(400 if error != "unauthorized_client" else 401, description)
        self.error = error

    def body(self) -> dict[str, Any]:
        return {"error": self.error, "error_description": self.message}


def _term(term: str) -> Callable[[SentMessage], bool]:
    """One Gmail search term as a filter; the double knows only the ones sheetflow uses."""
    name, _, value = term.partition(":")
    if term == "in:sent":
        return lambda m: "SENT" in m.labels
    if name == "rfc822msgid" and value:
        return lambda m: str(m.stored["Message-ID"]).strip("<>") == value.strip("<>")
    if name == "to" and value:
        return lambda m: value.lower() in m.recipients("To")
    if name == "after" and value.isdigit():
        return lambda m: m.internal_date_ms // 1000 > int(value)
    raise ApiError(400, f"search term {term!r} is not implemented by the Gmail test double.")
