"""The double as a real HTTP server on loopback: webhook auth, the rate limit, batch, faults.

Requests go to http://127.0.0.1:PORT/rest/USER/CODE/METHOD with a JSON body
(settings/how-to-call-rest-api/general-principles.md); a wrong USER/CODE answers 401
INVALID_CREDENTIALS (api-reference/crm/universal/import/crm-item-import.md).
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from functions.demo.bitrix24.methods import DEPRECATED, METHODS, REFERENCE
from functions.demo.bitrix24.portal import JSON, ApiError, Portal

BATCH_LIMIT = 50  # batch.md: "no more than 50 subqueries"


def php_parse(query: str) -> JSON:
    """`filter[>id]=5&select[0]=id` → nested dicts; `0..n` keys become lists (PHP arrays)."""
    root: JSON = {}
    for name, value in parse_qsl(query, keep_blank_values=True):
        head, _, rest = name.partition("[")
        keys = [head] + ([k.rstrip("]") for k in ("[" + rest).split("[")[1:]] if rest else [])
        node = root
        for key in keys[:-1]:
            node = node.setdefault(key, {})
        node[keys[-1]] = value
    parsed: JSON = _lists(root)
    return parsed


def _lists(node: Any) -> Any:
    if not isinstance(node, dict):
        return node
    node = {k: _lists(v) for k, v in node.items()}
    if node and all(k.isdigit() for k in node) and sorted(map(int, node)) == list(range(len(node))):
        return [node[str(i)] for i in range(len(node))]
    return node


def _resolve(value: Any, results: JSON) -> Any:
    """batch.md: `$result[cmd][field]…` takes a value from an earlier command's result."""
    if isinstance(value, dict):
        return {k: _resolve(v, results) for k, v in value.items()}
    if isinstance(value, list):
        return [_resolve(v, results) for v in value]
    if not isinstance(value, str) or "$result[" not in value:
        return value
    match = REFERENCE.fullmatch(value)
    if not match:
        return value
    node: Any = results.get(match.group(1))
    for part in [p for p in match.group(2).strip("[]").split("][") if p]:
        if isinstance(node, dict):
            node = node.get(part)
        elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        else:
            node = None
    return value if node is None else node  # unresolved: left as written (then invalid)


class BitrixDouble:
    def __init__(self, portal: Portal | None = None) -> None:
        self.portal = portal or Portal()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.issued = self.webhook  # the address as created: a test may then revoke the code

    @property
    def webhook(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host!s}:{port}/rest/{self.portal.user_id}/{self.portal.code}/"

    def methods_called(self) -> list[str]:
        return [method for method, _ in self.portal.calls]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet tests
                pass

            def do_GET(self) -> None:
                self.do_POST()

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                status, body = double.answer(self.path, raw, self.headers.get("Content-Type", ""))
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler

    def answer(self, path: str, raw: bytes, content_type: str) -> tuple[int, JSON]:
        portal = self.portal
        with portal.lock:
            portal.http_requests += 1
            try:
                if portal.down > 0:
                    portal.down -= 1
                    return 502, {}
                parts = [p for p in urlsplit(path).path.split("/") if p]
                if len(parts) != 4 or parts[0] != "rest":
                    raise ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
                if (parts[1], parts[2]) != (portal.user_id, portal.code):
                    raise ApiError(401, "INVALID_CREDENTIALS", "Invalid request credentials")
                portal.admit()
                if portal.faults:
                    raise ApiError(*portal.faults.pop(0))
                method = parts[3].removesuffix(".json")
                if raw and "json" not in content_type:
                    raise ApiError(400, "INVALID_REQUEST", "expected a JSON body")
                params = json.loads(raw or b"{}")
                if not isinstance(params, dict):
                    raise ApiError(400, "INVALID_REQUEST", "the body must be a JSON object")
                body = self._batch(params) if method == "batch" else self._one(method, params)
                body.setdefault("time", portal.time())
                return 200, body
            except ApiError as exc:
                return exc.status, exc.body()
            finally:
                for hook in list(portal.after_request):
                    hook(portal)

    def _one(self, method: str, params: JSON) -> JSON:
        self.portal.calls.append((method, params))
        if method in DEPRECATED or method not in METHODS:
            raise ApiError(404, "ERROR_METHOD_NOT_FOUND", "Method not found!")
        return METHODS[method](self.portal, params)

    def _batch(self, params: JSON) -> JSON:
        """batch.md: halt, ≤ 50 commands, no nested batch, errors per command."""
        self.portal.calls.append(("batch", params))
        commands = params.get("cmd")
        if not isinstance(commands, dict) or not commands:
            raise ApiError(400, "ERROR_BATCH_EMPTY", "Empty batch")
        halt = str(params.get("halt", 0)) in ("1", "true", "True")
        results: JSON = {}
        errors: JSON = {}
        totals: JSON = {}
        nexts: JSON = {}
        times: JSON = {}
        for index, (key, command) in enumerate(commands.items()):
            if index >= BATCH_LIMIT:
                errors[key] = {
                    "error": "ERROR_BATCH_LENGTH_EXCEEDED",
                    "error_description": "Max batch length exceeded",
                }
                continue
            method, _, query = str(command).partition("?")
            try:
                if method == "batch":
                    raise ApiError(
                        405,
                        "ERROR_BATCH_METHOD_NOT_ALLOWED",
                        "Method is not allowed for batch usage",
                    )
                body = self._one(method, _resolve(php_parse(query), results))
            except ApiError as exc:
                errors[key] = exc.body()
                if halt:
                    break
                continue
            results[key] = body["result"]
            times[key] = self.portal.time()
            if "total" in body:
                totals[key] = body["total"]
            if "next" in body:
                nexts[key] = body["next"]
        # PHP answers an empty associative array as [] (batch.md, error examples).
        return {
            "result": {
                "result": results or [],
                "result_error": errors or [],
                "result_total": totals or [],
                "result_next": nexts or [],
                "result_time": times or [],
            }
        }


@contextmanager
def bitrix_double(portal: Portal | None = None) -> Iterator[BitrixDouble]:
    double = BitrixDouble(portal)
    double.thread.start()
    try:
        yield double
    finally:
        double.server.shutdown()
        double.server.server_close()
