"""The real Firestore emulator for integration tests: started here, stopped at the end.

`gcloud emulators firestore start` comes from the Debian package
google-cloud-cli-firestore-emulator (with google-cloud-cli and a Java 17+ runtime). The
`firestore_client` fixture starts one emulator per test session on a free loopback port; each
test keeps its data under its own root document, so tests never see each other's state.
Without the emulator the tests are skipped, except on CI (CI=true), where they fail loudly.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from google.cloud import firestore

PROJECT = "sheetflow-test"
START_TIMEOUT = 60.0
INSTALL_HINT = (
    "install google-cloud-cli and google-cloud-cli-firestore-emulator from the Google Cloud SDK"
    " apt repository, and a Java 17+ runtime (openjdk-17-jre-headless)"
)


class EmulatorUnavailable(RuntimeError):
    """The emulator is not installed or did not answer in time (the message has its output)."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FirestoreEmulator:
    """One emulator process group, its host:port and its log."""

    def __init__(self, timeout: float = START_TIMEOUT) -> None:
        gcloud = shutil.which("gcloud")
        if gcloud is None:
            raise EmulatorUnavailable(f"gcloud is not installed ({INSTALL_HINT})")
        self.host = f"127.0.0.1:{free_port()}"
        self.log = Path(tempfile.mkstemp(prefix="firestore-emulator-", suffix=".log")[1])
        env = {
            **os.environ,
            "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
            "CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK": "1",
        }
        with self.log.open("wb") as out:
            self.process = subprocess.Popen(
                [gcloud, "emulators", "firestore", "start", f"--host-port={self.host}"],
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=env,
                start_new_session=True,  # its own process group: gcloud starts Java under it
            )
        started = time.monotonic()
        try:
            self._wait(timeout)
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - started

    def _wait(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise EmulatorUnavailable(
                    f"the Firestore emulator exited with code {self.process.returncode}"
                    f" ({INSTALL_HINT}):\n{self.output()}"
                )
            try:
                with urllib.request.urlopen(f"http://{self.host}/", timeout=1) as answer:
                    if answer.status == 200:
                        return
            except (urllib.error.URLError, OSError):
                pass
            time.sleep(0.25)
        raise EmulatorUnavailable(
            f"the Firestore emulator did not answer on {self.host} within"
            f" {timeout:.0f} s:\n{self.output()}"
        )

    def check(self) -> None:
        """Fail a test at once, not after the client's retries, when the emulator has died."""
        if self.process.poll() is not None:
            pytest.fail(f"the Firestore emulator died:\n{self.output()}", pytrace=False)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """End the whole process group (gcloud and the Java emulator it started)."""
        if self.process.poll() is None:
            for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
                try:
                    os.killpg(self.process.pid, sig)
                except ProcessLookupError:
                    break
                try:
                    self.process.wait(wait)
                    break
                except subprocess.TimeoutExpired:
                    continue
        else:
            try:  # gcloud may be gone while Java lives on in its group
                os.killpg(self.process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.log.unlink(missing_ok=True)


@pytest.fixture(scope="session")
def firestore_emulator() -> Iterator[FirestoreEmulator]:
    try:
        emulator = FirestoreEmulator()
    except EmulatorUnavailable as exc:
        if os.environ.get("CI") == "true":
            pytest.fail(f"Firestore emulator unavailable on CI: {exc}", pytrace=False)
        pytest.skip(f"Firestore emulator unavailable: {exc}")
    try:
        yield emulator
    finally:
        emulator.stop()


@pytest.fixture(scope="session")
def firestore_client(firestore_emulator: FirestoreEmulator) -> Iterator[firestore.Client]:
    """A client on the emulator; FIRESTORE_EMULATOR_HOST points at it for the session."""
    previous = os.environ.get("FIRESTORE_EMULATOR_HOST")
    os.environ["FIRESTORE_EMULATOR_HOST"] = firestore_emulator.host
    client = firestore.Client(project=PROJECT)
    try:
        yield client
    finally:
        client.close()
        if previous is None:
            os.environ.pop("FIRESTORE_EMULATOR_HOST", None)
        else:
            os.environ["FIRESTORE_EMULATOR_HOST"] = previous
