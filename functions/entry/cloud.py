"""Cloud Functions (gen2, HTTP) entry points' logic: configuration, de-duplication, responses.

Cloud Scheduler calls each function every minute (the report on the 1st). A failed tick
answers 500 so Scheduler retries; a tick that found the lock taken answers 200 "skipped".
A write the spreadsheet refused for good and set aside is logged at ERROR.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable
from dataclasses import asdict
from datetime import UTC, datetime
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from pydantic import ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from functions.entry.cloud_logging import log
from functions.errors import ConfigError, LockHeldError, SheetflowError
from functions.meta import TIME_ZONE
from functions.months import previous_month
from functions.tick.engine import Engine
from functions.wiring.bootstrap import Config, build_engine

Response = tuple[dict[str, Any], int]
# One engine per configuration and function instance: its Google clients, tab metadata and
# Firestore client are reused by every later request the instance serves.
_ENGINES: dict[tuple[object, Config], Engine] = {}
FLOWS = {"invoice_flow": frozenset({"invoice"}), "deal_watch": frozenset({"deal"})}


class Request(Protocol):
    """The part of a Flask request the entry points read."""

    @property
    def headers(self) -> Any: ...

    @property
    def args(self) -> Any: ...


class CloudConfig(BaseSettings):
    """Configuration from the function's environment variables (set by deploy.sh)."""

    model_config = SettingsConfigDict(env_prefix="SHEETFLOW_", extra="ignore")

    book: str
    mail: str | None = None
    state: str | None = None
    lock_wait_seconds: float = 25.0


def load_config() -> CloudConfig:
    try:
        return CloudConfig()  # type: ignore[call-arg]  # values come from the environment
    except ValidationError as exc:
        missing = ", ".join("SHEETFLOW_" + str(e["loc"][0]).upper() for e in exc.errors())
        raise ConfigError(f"environment variables missing or invalid: {missing}") from exc


def handle(
    name: str, request: Request, build: Callable[[Config], Engine] = build_engine
) -> Response:
    """Run the function `name` for one HTTP request and describe the outcome as JSON."""
    key: tuple[object, Config] | None = None
    try:
        config = load_config()
        key = (build, Config(config.book, config.mail, config.state))
        engine = _ENGINES.get(key) or _ENGINES.setdefault(key, build(key[1]))
        schedule = request.headers.get("X-CloudScheduler-ScheduleTime")
        if name == "monthly_report":
            # Claimed once written, not before: Scheduler's retry of a failed report reruns it
            # (rewriting a report tab is harmless; a report tab is never duplicated).
            answer = _report(engine, request, name)
            if schedule:
                engine.state.claim_scheduled_run(f"{name}:{schedule}")
            return answer
        if schedule and not engine.state.claim_scheduled_run(f"{name}:{schedule}"):
            log("INFO", f"{name}: run for {schedule} already done", function=name)
            return {"outcome": "duplicate", "schedule_time": schedule}, 200
        report = engine.tick(flows=FLOWS[name], wait_seconds=config.lock_wait_seconds)
    except LockHeldError as exc:
        return {"outcome": "skipped", "message": str(exc)}, 200
    except SheetflowError as exc:
        log("ERROR", f"{name}: {exc}", function=name, error=type(exc).__name__)
        return {"outcome": "error", "error": str(exc)}, 500
    except Exception as exc:  # Scheduler retries on 500; the log keeps the details
        if key is not None:  # the next request starts afresh (new clients, new metadata)
            _ENGINES.pop(key, None)
        log(
            "ERROR",
            f"{name}: unexpected {type(exc).__name__}: {exc}",
            function=name,
            stack_trace=traceback.format_exc(),
        )
        return {"outcome": "error", "error": f"unexpected {type(exc).__name__}"}, 500
    body = {"outcome": report.outcome, **{k: v for k, v in asdict(report).items() if v}}
    severity = "WARNING" if report.problems or report.conflicts else "INFO"
    if report.set_aside:
        severity = "ERROR"  # a write refused for good: a person has to look (README)
    fields = {k: v for k, v in body.items() if k != "message"}
    log(severity, f"{name}: {report.message or report.outcome}", function=name, **fields)
    return body, 200


def _report(engine: Engine, request: Request, name: str) -> Response:
    now = datetime.now(UTC)
    zone = ZoneInfo(str(engine.state.load_meta().get(TIME_ZONE, "UTC")))
    month = request.args.get("month") or previous_month(now, zone)
    tab = engine.monthly_report(month, now)
    log(
        "INFO", f"{name}: wrote {tab.title}", function=name, month=month, managers=len(tab.rows) - 1
    )
    return {"outcome": "done", "report": tab.title, "managers": len(tab.rows) - 1}, 200
