"""The double served over real HTTP on loopback, for code running in another process.

`serving(double)` starts a threaded HTTP server answering every request through
`GoogleDouble.answer` and yields its base URL; `session_via(url, user)` is a requests session
(for gspread) that sends what it would send to Google to that server instead, over a socket.
The caller's identity travels in a header, as a token would. Requests are answered one at a
time (a lock), so the double sees them in the order it would from one Sheets backend.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import HTTPAdapter

from .server import GoogleDouble

USER_HEADER = "X-Double-User"
DRIVE, SHEETS = "www.googleapis.com", "sheets.googleapis.com"


def locked(double: GoogleDouble) -> threading.Lock:
    """Make every call to `double.answer` (HTTP or in-process) take one lock."""
    lock = threading.Lock()
    real = double.answer

    def answer(method: str, url: str, body: bytes | None, user: str) -> tuple[int, Any]:
        with lock:
            return real(method, url, body, user)

    double.answer = answer  # type: ignore[method-assign]
    return lock


class _Handler(BaseHTTPRequestHandler):
    double: GoogleDouble

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        host = DRIVE if self.path.startswith("/drive/") else SHEETS
        user = self.headers.get(USER_HEADER) or self.double.service_account
        status, payload = self.double.answer(self.command, f"https://{host}{self.path}", body, user)
        data = json.dumps(payload).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    do_GET = do_POST = do_PUT = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        """Quiet: the double counts requests itself."""


@contextmanager
def serving(double: GoogleDouble) -> Iterator[str]:
    handler = type("Handler", (_Handler,), {"double": double})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


class _Redirect(HTTPAdapter):
    """Sends Google-bound requests to the double's server (real HTTP over a socket)."""

    def __init__(self, base: str, user: str) -> None:
        super().__init__()
        self.base, self.user = urlsplit(base), user

    def send(  # type: ignore[override]
        self, request: requests.PreparedRequest, **kwargs: Any
    ) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname not in (DRIVE, SHEETS):
            raise requests.ConnectionError(f"the Google double does not serve {parts.hostname}")
        request.url = urlunsplit(parts._replace(scheme="http", netloc=self.base.netloc))
        request.headers[USER_HEADER] = self.user
        return super().send(request, **kwargs)


def session_via(base: str, user: str) -> requests.Session:
    session = requests.Session()
    adapter = _Redirect(base, user)
    session.mount("https://", adapter)
    session.mount("http://", adapter)
    return session
