"""Structured logs for Cloud Logging: one JSON object per line with `severity` and `message`."""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def log(severity: str, message: str, stream: TextIO | None = None, **fields: Any) -> None:
    """Write one entry; Cloud Logging reads `severity`, `message` and keeps the other fields."""
    entry = {"severity": severity, "message": message, **fields}
    print(json.dumps(entry, ensure_ascii=False, default=str), file=stream or sys.stdout, flush=True)
