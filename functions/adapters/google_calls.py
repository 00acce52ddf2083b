"""What every Google API call of sheetflow shares, Sheets and Drive alike: where calls go,
which failures pass (and are retried), and the errors a failed call becomes."""

from __future__ import annotations

from urllib.parse import urlsplit

import requests
from gspread.exceptions import APIError

from functions.errors import ConfigError, SheetflowError

TRANSIENT = frozenset({408, 429, 500, 502, 503, 504})
RATE_LIMITED = frozenset({"rateLimitExceeded", "userRateLimitExceeded", "RATE_LIMIT_EXCEEDED"})


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


class GoogleApiError(SheetflowError):
    """Google refused a request (or kept failing): the message says what to do."""


def error_message(code: int, answer: object) -> str:
    """Google's own explanation of an error answer, with the status code."""
    message = ""
    if isinstance(answer, dict) and isinstance(answer.get("error"), dict):
        message = str(answer["error"].get("message", ""))
    return f"Google answered {code}: {message or 'no explanation'}"


def status_of(exc: BaseException) -> int | None:
    if isinstance(exc, APIError):
        return int(exc.response.status_code)
    return None


def rate_limited(exc: BaseException) -> bool:
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
    status = status_of(exc)
    if status is not None:
        return status in TRANSIENT or rate_limited(exc)
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


class ApiFailure(GoogleApiError):
    """A request that failed for good; `status` is Google's HTTP status (None: no answer)."""

    def __init__(self, cause: Exception) -> None:
        self.status = status_of(cause)
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
