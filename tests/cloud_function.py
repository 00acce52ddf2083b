"""A real functions-framework process serving one of main.py's entry points, as Cloud Run would."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS_FRAMEWORK = Path(sys.executable).with_name("functions-framework")


@contextmanager
def cloud_function(
    target: str, env: dict[str, str], printed: list[str]
) -> Iterator[tuple[str, int]]:
    """Serve `target` with `env` on top of this environment (e.g. the Secret Manager password);
    yields its URL and port, and adds all it printed to `printed` once it has stopped."""
    port = free_port()
    process = subprocess.Popen(
        [
            str(FUNCTIONS_FRAMEWORK),
            "--target",
            target,
            "--source",
            str(ROOT / "main.py"),
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.communicate()
                assert time.monotonic() < deadline, "functions-framework did not start"
                time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/", port
    finally:
        process.terminate()
        out, err = process.communicate(timeout=30)
        printed += [out, err]
