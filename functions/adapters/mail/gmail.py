"""Deliver emails through the Gmail API as a Google Workspace user (domain-wide delegation).

A service account acts as SENDER@DOMAIN: it asks Google for a token whose subject is that user,
with two scopes a Workspace admin grants to its client ID (Admin console → Security → API
controls → Domain-wide delegation):

    gmail.send       users.messages.send
    gmail.readonly   users.messages.list with `q` and users.messages.get (headers only), to
                     look for an interrupted send in Sent (gmail.metadata allows both
                     methods but not list's `q`; no narrower scope allows searching)

Tokens, keys and signed assertions never appear in a description, a log line or an error.
"""

from __future__ import annotations

import base64
import json
import logging
import os
import re
import time
from collections.abc import Callable
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from typing import Any, TypeVar

import google.auth
import google_auth_httplib2
import httplib2
from google.auth import iam
from google.auth.exceptions import DefaultCredentialsError, GoogleAuthError, RefreshError
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import Error as ApiClientError
from googleapiclient.errors import HttpError
from googleapiclient.http import build_http
from tenacity import RetryCallState, Retrying, retry_if_exception, wait_random_exponential
from tenacity.stop import stop_after_attempt, stop_after_delay

from functions.errors import ConfigError, MailError
from functions.model import RenderedEmail

SEND_SCOPE = "https://www.googleapis.com/auth/gmail.send"
READ_SCOPE = "https://www.googleapis.com/auth/gmail.readonly"
SCOPES = (SEND_SCOPE, READ_SCOPE)
# What a keyless service account (Cloud Functions) needs to have IAM sign its token request.
CLOUD_PLATFORM_SCOPE = "https://www.googleapis.com/auth/cloud-platform"
TOKEN_URI = "https://oauth2.googleapis.com/token"
CREDENTIALS_ENV = "GOOGLE_APPLICATION_CREDENTIALS"
# The header notify.EmailRenderer writes on every email; Gmail keeps it in the Sent copy.
STAMP = "X-Sheetflow-Key"
# How many recent emails to one recipient an interrupted send's lookup reads at most.
MAX_CANDIDATES = 50
DELEGATION_HINT = (
    "a Workspace admin must allow the service account's client ID the scopes "
    f"{SEND_SCOPE} and {READ_SCOPE} (Admin console → Security → API controls → "
    "Domain-wide delegation)"
)
_RATE_LIMITS = {"rateLimitExceeded", "userRateLimitExceeded"}
_FAILURES = (ApiClientError, GoogleAuthError, OSError, httplib2.HttpLib2Error)
_ADDRESS = re.compile(r"[^@\s<>,;\"]+@[^@\s<>,;\"]+\.[^@\s<>,;\"]+")
_SECRETS = re.compile(
    r"(Bearer\s+\S+|ya29\.[\w.-]+|(?:access_token|assertion|refresh_token)=[^&\s\"']+)"
)

log = logging.getLogger(__name__)
T = TypeVar("T")


class GmailSender:
    """The MailSender port on `users.messages` of a Gmail v1 service (googleapiclient)."""

    def __init__(
        self,
        service: Any,
        user_id: str = "me",
        *,
        account: str | None = None,
        attempts: int = 5,
        max_wait: float = 8.0,
        max_delay: float = 40.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.service = service
        self.user_id = user_id
        self.attempts, self.max_wait, self.max_delay = attempts, max_wait, max_delay
        self._sleep = sleep
        self._backoff = wait_random_exponential(multiplier=0.5, max=max_wait)
        self.description = f"Gmail API as {account or user_id}"

    def send(self, email: RenderedEmail) -> None:
        body = {"raw": base64.urlsafe_b64encode(email.raw).decode("ascii")}
        maybe_sent = False
        try:
            for attempt in self._retrying():
                with attempt:
                    # A 5xx or a dropped connection may come after Gmail sent the message:
                    # send again only once Sent confirms it is not there.
                    if maybe_sent and self._in_sent(email) is True:
                        log.info("Gmail had sent %s despite the error", email.key)
                        return
                    try:
                        self._messages().send(userId=self.user_id, body=body).execute()
                    except _FAILURES as exc:
                        maybe_sent = maybe_sent or _may_have_arrived(exc)
                        raise
        except _FAILURES as exc:
            raise MailError(
                f"could not send email {email.subject!r} to {', '.join(email.to)}: "
                f"{_reason(exc)} ({self.description})"
            ) from exc

    def was_sent(self, email: RenderedEmail) -> bool | None:
        try:
            return self._call(lambda: self._in_sent(email))
        except _FAILURES as exc:
            log.warning("could not look for %s in Gmail's Sent: %s", email.key, _reason(exc))
            return None

    def _in_sent(self, email: RenderedEmail) -> bool | None:
        """Whether the mailbox holds the email as sent; None when search cannot say.

        Gmail is reported to give a message sent through the API a Message-ID of its own, so
        a miss on `rfc822msgid:` is followed by reading the X-Sheetflow-Key header of the
        mail sent to the same first recipient since the email was rendered.
        """
        message_id = email.message_id.strip().removeprefix("<").removesuffix(">")
        if _ADDRESS.fullmatch(message_id) and self._search(f"rfc822msgid:{message_id}", 1)[0]:
            return True
        if not email.to or not _ADDRESS.fullmatch(email.to[0]):
            return None
        rendered_at = _date(email.raw)
        since = f" after:{int(rendered_at) - 3600}" if rendered_at else ""
        candidates, complete = self._search(f"to:{email.to[0]}{since}", MAX_CANDIDATES)
        key = " ".join(email.key.split())
        if any(self._stamp(candidate) == key for candidate in candidates):
            return True
        return False if complete else None

    def _search(self, terms: str, limit: int) -> tuple[list[str], bool]:
        """IDs of sent messages matching `terms`, and whether that was all of them."""
        # Trash counts: a sent message someone already deleted was still sent.
        response = (
            self._messages()
            .list(
                userId=self.user_id, q=f"in:sent {terms}", includeSpamTrash=True, maxResults=limit
            )
            .execute()
        )
        ids = [str(m["id"]) for m in response.get("messages", [])]
        return ids, not response.get("nextPageToken")

    def _stamp(self, gmail_id: str) -> str | None:
        response = (
            self._messages()
            .get(userId=self.user_id, id=gmail_id, format="metadata", metadataHeaders=[STAMP])
            .execute()
        )
        for header in response.get("payload", {}).get("headers", []):
            if str(header.get("name", "")).lower() == STAMP.lower():
                return " ".join(str(header.get("value", "")).split())
        return None

    def _messages(self) -> Any:
        return self.service.users().messages()

    def _call(self, request: Callable[[], T]) -> T:
        for attempt in self._retrying():
            with attempt:
                return request()
        raise AssertionError("unreachable: tenacity reraises the last error")

    def _retrying(self) -> Retrying:
        return Retrying(
            stop=stop_after_attempt(self.attempts) | stop_after_delay(self.max_delay),
            wait=self._wait,
            retry=retry_if_exception(_retryable),
            sleep=self._sleep,
            before_sleep=_log_retry,
            reraise=True,
        )

    def _wait(self, state: RetryCallState) -> float:
        """Full-jitter exponential backoff, but never sooner than a 429's Retry-After."""
        exc = state.outcome.exception() if state.outcome else None
        hinted = _retry_after(exc)
        return min(self.max_wait, max(hinted, self._backoff(state)))


def gmail_sender_from_credentials(
    sender_address: str, credentials_file: str | None = None, http: Any = None
) -> GmailSender:
    """A GmailSender acting as `sender_address`.

    Nothing goes over the network until the first email, except on Google Cloud without a key
    file, where the metadata server is asked which service account the function runs as.

    Credentials: `credentials_file` (a service account key), else GOOGLE_APPLICATION_CREDENTIALS,
    else Application Default Credentials; on Cloud Functions (no key) IAM signs the token
    request, which needs roles/iam.serviceAccountTokenCreator of the account on itself.
    """
    address = sender_address.strip()
    if not _ADDRESS.fullmatch(address):
        raise ConfigError("gmail: needs the sender's address, like gmail:robot@example.com")
    transport = http if http is not None else build_http()
    credentials = delegated_credentials(address, credentials_file, transport)
    authorized = google_auth_httplib2.AuthorizedHttp(credentials, http=transport)
    # `build` refuses credentials together with http: the authorised http carries them.
    service = build("gmail", "v1", http=authorized, static_discovery=True, cache_discovery=False)
    return GmailSender(service, account=address)


def delegated_credentials(sender: str, credentials_file: str | None, http: Any) -> Any:
    """Service account credentials whose tokens act as `sender` (domain-wide delegation)."""
    path = credentials_file or os.environ.get(CREDENTIALS_ENV)
    if path:
        try:
            keyed = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
                path, scopes=SCOPES
            )
        except OSError as exc:
            raise ConfigError(f"cannot read Google credentials {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise ConfigError(f"{path} is not a service account key: {_redact(exc)}") from exc
        return keyed.with_subject(sender)
    try:
        base, _ = google.auth.default(scopes=[CLOUD_PLATFORM_SCOPE])
    except DefaultCredentialsError as exc:
        raise ConfigError(
            f"no Google credentials for gmail:{sender}: set {CREDENTIALS_ENV} to a service "
            "account key file or run on Google Cloud"
        ) from exc
    if isinstance(base, service_account.Credentials):
        return base.with_scopes(list(SCOPES)).with_subject(sender)
    return _keyless(base, sender, google_auth_httplib2.Request(http))


def _keyless(base: Any, sender: str, request: Any) -> Any:
    """Delegation without a key file: IAM signBlob signs the token request as the account."""
    email = getattr(base, "service_account_email", None)
    try:
        if email in (None, "default"):
            base.refresh(request)  # the metadata server names the function's account
            email = getattr(base, "service_account_email", None)
    except GoogleAuthError as exc:
        raise ConfigError(f"cannot find this service account's email: {_reason(exc)}") from exc
    if not email or email == "default":
        raise ConfigError(
            f"gmail:{sender} needs service account credentials (these are user credentials): "
            f"set {CREDENTIALS_ENV} to a service account key file"
        )
    signer = iam.Signer(request, base, email)  # type: ignore[no-untyped-call]
    return service_account.Credentials(  # type: ignore[no-untyped-call]
        signer, email, TOKEN_URI, scopes=list(SCOPES), subject=sender
    )


def _retryable(exc: BaseException) -> bool:
    if isinstance(exc, HttpError):
        status = int(exc.status_code)
        return status == 429 or status >= 500 or (status == 403 and _rate_limited(exc))
    if isinstance(exc, RefreshError):
        return bool(exc.retryable)
    return isinstance(exc, GoogleAuthError | OSError | httplib2.HttpLib2Error)


def _may_have_arrived(exc: BaseException) -> bool:
    """Whether Gmail may have acted on a request that failed this way."""
    if isinstance(exc, HttpError):
        return int(exc.status_code) >= 500
    if isinstance(exc, ConnectionRefusedError | httplib2.ServerNotFoundError | GoogleAuthError):
        return False  # never reached Gmail (or failed getting a token first)
    return isinstance(exc, OSError | httplib2.HttpLib2Error)


def _date(raw: bytes) -> float | None:
    """The email's Date as a POSIX time (None if it has none)."""
    try:
        date = BytesHeaderParser(policy=default_policy).parsebytes(raw)["Date"]
        return float(date.datetime.timestamp()) if date is not None else None
    except (AttributeError, TypeError, ValueError):
        return None


def _rate_limited(exc: HttpError) -> bool:
    try:
        errors = json.loads(exc.content.decode("utf-8"))["error"].get("errors", [])
        return any(e.get("reason") in _RATE_LIMITS for e in errors)
    except (ValueError, KeyError, TypeError, AttributeError):
        return False


def _retry_after(exc: BaseException | None) -> float:
    if not isinstance(exc, HttpError):
        return 0.0
    try:
        return max(0.0, float(exc.resp.get("retry-after", 0)))
    except (TypeError, ValueError):
        return 0.0


def _reason(exc: BaseException) -> str:
    """Why a Google call failed, in words, with any token-looking text removed."""
    if isinstance(exc, HttpError):
        reason = f"Gmail answered {exc.status_code} {exc.reason or ''}".rstrip()
        if int(exc.status_code) in (401, 403) and not _rate_limited(exc):
            reason += f"; {DELEGATION_HINT}"
    elif isinstance(exc, RefreshError):
        detail = exc.args[0] if exc.args else type(exc).__name__
        reason = f"Google refused a token for the service account: {detail}"
        if "unauthorized_client" in str(detail) or "access_denied" in str(detail):
            reason += f"; {DELEGATION_HINT}"
    elif isinstance(exc, GoogleAuthError):
        reason = f"could not get a Google token: {exc.args[0] if exc.args else exc}"
    elif isinstance(exc, OSError):
        reason = f"could not reach Gmail: {exc.strerror or exc or type(exc).__name__}"
    else:
        reason = f"could not reach Gmail: {exc or type(exc).__name__}"
    return _redact(reason)


def _redact(text: object) -> str:
    return _SECRETS.sub("***", str(text))


def _log_retry(state: RetryCallState) -> None:
    exc = state.outcome.exception() if state.outcome else None
    delay = state.next_action.sleep if state.next_action else 0.0
    if exc is not None:
        log.warning("Gmail request failed (%s); retrying in %.1f s", _reason(exc), delay)
