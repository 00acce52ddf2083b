"""The local tick lock survives its holder being killed outright (SIGKILL, power loss)."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from functions.adapters.sqlite.state import SqliteState

HOLDER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from functions.adapters.sqlite.state import SqliteState
    state = SqliteState(Path(sys.argv[1]))
    assert state.acquire_lock("killed-tick", 300)
    print("locked", flush=True)
    time.sleep(600)
    """
)


def hold_lock(path: Path) -> subprocess.Popen[str]:
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(path)], stdout=subprocess.PIPE, text=True
    )
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "locked"
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait(30)
    assert proc.stdout is not None
    proc.stdout.close()


def test_a_lock_whose_process_was_killed_is_taken_at_once(tmp_path: Path) -> None:
    path = tmp_path / "book.state.sqlite"
    holder = hold_lock(path)
    state = SqliteState(path)
    try:
        assert not state.acquire_lock("next-tick", 300)  # the holder is alive: refused
        holder.send_signal(signal.SIGKILL)
        holder.wait(30)
        assert state.acquire_lock("next-tick", 300)  # gone: no 5-minute wait
    finally:
        stop(holder)
        state.close()


def test_a_live_holder_keeps_the_lock_within_its_lease(tmp_path: Path) -> None:
    path = tmp_path / "book.state.sqlite"
    holder = hold_lock(path)
    state = SqliteState(path)
    try:
        assert not state.acquire_lock("next-tick", 300)
        assert not state.acquire_lock("next-tick", 300)
    finally:
        stop(holder)
        state.close()


def test_a_released_lock_lets_a_later_holder_of_the_os_lock_keep_its_lease(
    tmp_path: Path,
) -> None:
    path = tmp_path / "book.state.sqlite"
    first, second = SqliteState(path), SqliteState(path)
    try:
        assert first.acquire_lock("a", 300)
        first.release_lock("a")
        assert second.acquire_lock("b", 300)
        assert not first.acquire_lock("a", 300)  # b is alive and holds both locks
        second.release_lock("b")
        assert first.acquire_lock("a", 300)
    finally:
        first.close()
        second.close()
