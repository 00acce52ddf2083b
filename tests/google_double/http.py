"""The double over real HTTP on loopback, with an OAuth token endpoint, for a separate process.

A `sheetflow` process started by a test talks to it as it would to Google: its service-account
key file (made by `service_account_key`) names this server as `token_uri`, google-auth signs
a JWT and trades it here for a bearer token, and every Sheets/Drive request carries it; the
token says which user the double serves. Point the process at it with
SHEETFLOW_GOOGLE_API_ENDPOINT (loopback only, see functions/adapters/google_calls.py).
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from .server import GoogleDouble

_PREFIX = "double-token:"


def service_account_key(path: Path, email: str, token_uri: str) -> Path:
    """A service-account key file in Google's format, with a fresh RSA key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": email.split("@")[1].split(".")[0],
                "private_key_id": "0" * 40,
                "private_key": pem,
                "client_email": email,
                "client_id": "1" * 21,
                "token_uri": token_uri,
            }
        )
    )
    path.chmod(0o600)
    return path


@contextmanager
def serving(double: GoogleDouble) -> Iterator[str]:
    """Serve the double on a free loopback port; yields its root URL."""
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, status: int, payload: Any) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=UTF-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _body(self) -> bytes | None:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else None

        def _handle(self) -> None:
            body = self._body()
            if self.path == "/token":
                form = parse_qs((body or b"").decode())
                claims = form["assertion"][0].split(".")[1]
                issuer = json.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
                token = _PREFIX + issuer["iss"]
                self._answer(
                    200, {"access_token": token, "expires_in": 3600, "token_type": "Bearer"}
                )
                return
            auth = self.headers.get("Authorization", "")
            if not auth.startswith("Bearer " + _PREFIX):
                self._answer(
                    401,
                    {
                        "error": {
                            "code": 401,
                            "message": "Request had invalid authentication credentials.",
                            "status": "UNAUTHENTICATED",
                        }
                    },
                )
                return
            user = auth.removeprefix("Bearer " + _PREFIX)
            host = "sheets.googleapis.com" if self.path.startswith("/v4/") else "www.googleapis.com"
            with lock:
                status, payload = double.answer(
                    self.command, f"https://{host}{self.path}", body, user
                )
            self._answer(status, payload)

        do_GET = do_POST = do_PUT = _handle

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
