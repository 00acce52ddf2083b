"""The sheetflow console script as a person runs it: the one way the end-to-end tests start it.

Every run gets this process's environment with `COLUMNS=200`, so a sentence is never wrapped at
a terminal's width, and `env` on top; `run_isolated` gives the exact environment instead.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping
from pathlib import Path

from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema

SHEETFLOW = Path(sys.executable).with_name("sheetflow")
TIMEOUT = 120  # seconds: no command of a story takes this long
# The People of the CLI story: a manager, a director and two accountants.
PEOPLE = (
    ("Maria Lopez", "maria@example.com", "manager", "Yes"),
    ("Dmitry Volkov", "dmitry@example.com", "director", "Yes"),
    ("Irina K", "irina@example.com", "accountant", "Yes"),
    ("Sergey Popov", "sergey@example.com", "accountant", "Yes"),
)


def cli_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """This process's environment, printing wide, with `extra` on top."""
    return {**os.environ, "COLUMNS": "200", **(extra or {})}


def _installed() -> Path:
    assert SHEETFLOW.exists(), "the sheetflow console script is not installed (run make)"
    return SHEETFLOW


def run(*args: str, env: Mapping[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """`sheetflow ARGS` to its end, with `env` on top of this environment."""
    return subprocess.run(
        [str(_installed()), *args],
        capture_output=True,
        text=True,
        timeout=TIMEOUT,
        env=cli_env(env),
    )


def run_isolated(*args: str, env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    """`sheetflow ARGS` with exactly `env` (a test that keeps some variables away from it)."""
    return subprocess.run(
        [str(_installed()), *args],
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=TIMEOUT,
        check=False,
    )


def start(*args: str, env: Mapping[str, str] | None = None) -> subprocess.Popen[str]:
    """`sheetflow ARGS` started, not awaited; `env` None keeps this environment as it is."""
    return subprocess.Popen(
        [str(_installed()), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=None if env is None else dict(env),
    )


def init(path: Path, *more: str) -> Path:
    """`sheetflow init --book PATH` (with `more` options), which must succeed."""
    result = run("init", "--book", str(path), *more)
    assert result.returncode == 0, result.stderr
    return path


def init_with_people(path: Path) -> Path:
    """A new English book with the story's People in it."""
    init(path)
    editor = WorkbookEditor(path, load_schema())
    for person in PEOPLE:
        editor.add_row(
            "people", dict(zip(("name", "email", "role", "active"), person, strict=True))
        )
    return path


def tick(book: Path, now: str) -> str:
    """One tick at `now`, which must succeed; what it printed."""
    result = run("tick", "--book", str(book), "--now", now)
    assert result.returncode == 0, result.stderr
    return result.stdout


def run_until_ctrl_c(book: Path) -> tuple[int | None, str, str]:
    """`sheetflow run` every second until Ctrl+C after its first tick: exit code, out, err."""
    proc = start("run", "--book", str(book), "--every", "1")
    try:
        deadline = time.monotonic() + 60
        state = book.with_name("sheetflow.state.sqlite")
        while not state.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        time.sleep(2)  # at least one tick done, maybe one running
        proc.send_signal(signal.SIGINT)
        out, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
    return proc.returncode, out, err
