"""Bitrix24 REST over HTTP: the webhook, the leaky bucket, retries, errors in plain words.

Plain `requests` + `tenacity` rather than an SDK: the webhook's secret code is part of every
URL, and this module is the only place that sees it (every message is redacted here).

Pages of the docs each behaviour follows (../shared/reference/bitrix24-rest/):
- settings/how-to-call-rest-api/general-principles.md — POST JSON to /rest/USER/CODE/method;
- limits.md — leaky bucket: 2 requests/s with a burst of 50 (Enterprise 5/s, 250); beyond
  it HTTP 503 `QUERY_LIMIT_EXCEEDED`, and HTTP 429 `OPERATION_TIME_LIMIT`: retry later, slower;
- settings/how-to-call-rest-api/batch.md — up to 50 commands as `method?query` strings, answers
  in result / result_error / result_next / result_total.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, urlsplit

import requests
from tenacity import RetryCallState, Retrying, retry_if_exception, stop_after_attempt

from functions.errors import CrmError

WEBHOOK_ENV = "SHEETFLOW_BITRIX24_WEBHOOK"
BATCH_SIZE = 50
_AUTH = {"INVALID_CREDENTIALS", "NO_AUTH_FOUND", "expired_token", "invalid_token", "WRONG_AUTH"}
_DENIED = {"insufficient_scope", "ACCESS_DENIED", "allowed_only_intranet_user", "user_access_error"}
_SLOW_DOWN = {"QUERY_LIMIT_EXCEEDED", "OPERATION_TIME_LIMIT"}
JSON = dict[str, Any]


@dataclass(frozen=True)
class Webhook:
    """An inbound webhook URL `https://PORTAL/rest/USER/CODE/`; `shown` hides the code."""

    base: str
    shown: str

    @property
    def portal(self) -> str:
        return urlsplit(self.base).netloc


def parse_webhook(url: str) -> Webhook:
    """Check the address; https only, except http to a loopback address (tests, the demo)."""
    parts = urlsplit(url.strip())
    segments = [s for s in parts.path.split("/") if s]
    if len(segments) >= 4 and "." in segments[-1]:
        segments = segments[:3]  # someone pasted the address with a method name at the end
    host = parts.hostname or ""
    if parts.scheme == "http" and not _loopback(host):
        raise CrmError(
            "the Bitrix24 webhook must be an https:// address (http:// only for this computer)"
        )
    if parts.scheme not in ("http", "https") or len(segments) != 3 or segments[0] != "rest":
        raise CrmError(
            "the Bitrix24 webhook does not look like https://YOUR-PORTAL.bitrix24.com/rest/1/CODE/"
            " (copy it from Developer resources → Other → Inbound webhook)"
        )
    user, code = segments[1], segments[2]
    root = f"{parts.scheme}://{parts.netloc}/rest/{user}/"
    return Webhook(base=root + quote(code) + "/", shown=root + "…/")


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


class LeakyBucket:
    """The portal's request counter as we model it: +1 per request, drains `rate` per second.

    Staying under `capacity` means the portal never answers QUERY_LIMIT_EXCEEDED (limits.md).
    """

    def __init__(
        self,
        rate: float = 2.0,
        capacity: float = 50.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.rate, self.capacity = rate, capacity
        self.clock, self.sleep = clock, sleep
        self.level = 0.0
        self.last = clock()
        self.waited = 0.0

    def _drain(self) -> None:
        now = self.clock()
        self.level = max(0.0, self.level - (now - self.last) * self.rate)
        self.last = now

    def take(self) -> None:
        self._drain()
        # One request of headroom: other clients of the portal may share the counter.
        over = self.level + 1 - (self.capacity - 1)
        if over > 0:
            pause = over / self.rate
            self.waited += pause
            self.sleep(pause)
            self._drain()
        self.level += 1

    def full(self) -> None:
        """The portal said slow down: assume its counter is at the threshold."""
        self._drain()
        self.level = max(self.level, self.capacity - 1)


def php_query(params: Mapping[str, Any], prefix: str = "") -> str:
    """Parameters as PHP's http_build_query writes them (`filter[>id]=5&select[0]=id`)."""
    parts: list[str] = []
    for key, value in params.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            parts.append(php_query(value, name))
        elif isinstance(value, list | tuple):
            parts.append(php_query({str(i): v for i, v in enumerate(value)}, name))
        else:
            text = value if isinstance(value, str) else _scalar(value)
            # `$result[...]` references must reach the portal as written (batch.md).
            safe = "[]$" if text.startswith("$result[") else ""
            parts.append(f"{quote(name, safe='[]')}={quote(text, safe=safe)}")
    return "&".join(p for p in parts if p)


def _scalar(value: Any) -> str:
    if value is True:
        return "Y"
    if value is False:
        return "N"
    return "" if value is None else str(value)


@dataclass
class BatchAnswer:
    """One `batch` call's answer, by command key."""

    result: dict[str, Any] = field(default_factory=dict)
    errors: dict[str, JSON] = field(default_factory=dict)
    time: JSON = field(default_factory=dict)


class _Retry(Exception):
    """A temporary refusal (limit, 5xx, network): tried again with a growing pause."""

    def __init__(self, error: CrmError) -> None:
        super().__init__(str(error))
        self.error = error


class Bitrix24Client:
    """Calls REST methods through one webhook, within the rate limit, retrying what may pass."""

    def __init__(
        self,
        webhook: Webhook,
        *,
        bucket: LeakyBucket | None = None,
        session: requests.Session | None = None,
        attempts: int = 6,
        timeout: float = 55.0,  # a REST request may run up to 60 s (limits.md)
    ) -> None:
        self.webhook = webhook
        self.bucket = bucket or LeakyBucket()
        self.session = session or requests.Session()
        self.attempts, self.timeout = attempts, timeout
        self.requests = 0  # HTTP requests sent, retries included
        self.retries = 0

    def call(self, method: str, params: Mapping[str, Any] | None = None) -> JSON:
        """The whole answer of one method (result, total, next, time)."""
        retrying = Retrying(
            stop=stop_after_attempt(self.attempts),
            wait=self._pause,
            sleep=self.bucket.sleep,
            retry=retry_if_exception(lambda e: isinstance(e, _Retry)),
            reraise=True,
        )
        try:
            for attempt in retrying:
                with attempt:
                    return self._post(method, dict(params or {}))
        except _Retry as exc:
            raise exc.error from None
        raise AssertionError("unreachable")  # pragma: no cover

    def batch(
        self, commands: Mapping[str, tuple[str, Mapping[str, Any]]], halt: bool
    ) -> BatchAnswer:
        """Up to 50 commands in one HTTP request (batch.md)."""
        if len(commands) > BATCH_SIZE:
            raise ValueError(f"a batch holds at most {BATCH_SIZE} commands")
        cmd = {key: f"{method}?{php_query(params)}" for key, (method, params) in commands.items()}
        answer = self.call("batch", {"halt": 1 if halt else 0, "cmd": cmd})
        inner = answer.get("result") or {}
        errors = inner.get("result_error") or {}
        return BatchAnswer(
            result=dict(inner.get("result") or {}),
            errors=dict(errors) if isinstance(errors, dict) else {},
            time=dict(answer.get("time") or {}),
        )

    def _pause(self, state: RetryCallState) -> float:
        self.retries += 1
        return float(min(60, 2 ** (state.attempt_number - 1)))  # 1, 2, 4, 8, 16 s

    def _post(self, method: str, params: JSON) -> JSON:
        self.bucket.take()
        self.requests += 1
        try:
            response = self.session.post(
                self.webhook.base + method,
                json=params,
                headers={"Accept": "application/json", "User-Agent": "sheetflow/1.0"},
                timeout=self.timeout,
            )
        except requests.RequestException as exc:
            why = (
                "did not answer in time"
                if isinstance(exc, requests.Timeout)
                else "cannot be reached"
            )
            raise _Retry(
                CrmError(f"the Bitrix24 portal {self.webhook.portal} {why}", kind="down")
            ) from None
        try:
            body = response.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            body = {}
        code = str(body.get("error", "")) if "error" in body else ""
        if code in _SLOW_DOWN or response.status_code in (429, 503):
            self.bucket.full()
            raise _Retry(self._error(method, response.status_code, code, body))
        if response.status_code >= 500:
            raise _Retry(self._error(method, response.status_code, code, body))
        if code or response.status_code >= 400 or "result" not in body:
            raise self._error(method, response.status_code, code, body)
        return body

    def _error(self, method: str, status: int, code: str, body: JSON) -> CrmError:
        """One sentence a person understands; never the webhook's code."""
        portal = self.webhook.portal
        detail = str(body.get("error_description") or "").replace(self.webhook.base, "…")
        detail = detail.replace(self.webhook.base.rstrip("/"), "…")[:200]
        if code in _AUTH or (status == 401 and code not in _DENIED):
            return CrmError(
                f"Bitrix24 ({portal}) does not accept the webhook: it is wrong, was deleted or"
                " its user was dismissed; create a new inbound webhook",
                kind="auth",
            )
        if code in _DENIED or status == 403:
            return CrmError(
                f"the Bitrix24 webhook's user may not call {method} ({code or status}): give the"
                " webhook the crm and user permissions and the user read access to deals",
                kind="permission",
                record=method,
            )
        if code in _SLOW_DOWN or status in (429, 503):
            return CrmError(
                f"Bitrix24 ({portal}) keeps refusing requests as too frequent ({code or status});"
                " sheetflow will try again at the next tick",
                kind="limit",
            )
        if status >= 500:
            return CrmError(
                f"the Bitrix24 portal {portal} is not working (HTTP {status})", kind="down"
            )
        if status == 404 and not code:
            return CrmError(
                f"{portal} has no Bitrix24 REST API at this address: check the webhook URL",
                kind="auth",
            )
        return CrmError(
            f"Bitrix24 refused {method}: {code or status} {detail}".strip(), kind="refused"
        )
