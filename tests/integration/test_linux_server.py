"""sheetflow on a Linux server without Google Cloud: `sheetflow run --book gsheet:ID --every N`.

The real command line in its own process, as the systemd unit starts it: a service-account
key file (google-auth signs a JWT and trades it for a token), state in SQLite, mail through a
real SMTP server (aiosmtpd); the Google Sheet is the double served over HTTP on loopback.
The unit itself is checked by `systemd-analyze verify`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from functions.adapters.gsheets.book import create_google_book
from functions.schema import load_schema
from tests.google_double import GoogleDouble
from tests.google_double.http import service_account_key, serving
from tests.google_double.people import SheetEditor, no_sleep
from tests.local_backend import PEOPLE, SETTINGS, typed_invoice
from tests.smtp_server import running_smtp_server

ROOT = Path(__file__).resolve().parents[2]
SHEETFLOW = Path(sys.executable).with_name("sheetflow")
RUNTIME = "sheetflow-runtime@acme-books.iam.gserviceaccount.com"
SCHEMA = load_schema()


def test_sheetflow_run_ticks_a_google_sheet_with_a_key_sqlite_and_smtp(tmp_path: Path) -> None:
    double = GoogleDouble(RUNTIME)
    writers = [email for _n, email, _r, _a in PEOPLE]
    with serving(double) as root, running_smtp_server() as (smtp, port):
        sid = double.create_spreadsheet("books", editors=(RUNTIME, *writers))
        client = double.client(RUNTIME)
        create_google_book(sid, client, SCHEMA, "en", RUNTIME, PEOPLE, SETTINGS, sleep=no_sleep)
        SheetEditor(double, sid, SCHEMA).add_row("invoices", typed_invoice("A-1"))
        key = service_account_key(tmp_path / "key.json", RUNTIME, f"{root}/token")
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("SHEETFLOW_")},
            "GOOGLE_APPLICATION_CREDENTIALS": str(key),
            "SHEETFLOW_GOOGLE_API_ENDPOINT": root,
            "SHEETFLOW_BOOK": f"gsheet:{sid}",
            "SHEETFLOW_STATE": str(tmp_path / "state.sqlite"),
            "SHEETFLOW_MAIL": f"smtp://127.0.0.1:{port}",
        }
        mark = double.mark()
        process = subprocess.Popen(
            [str(SHEETFLOW), "run", "--every", "1"],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        try:
            deadline = time.monotonic() + 20
            while not smtp.envelopes and time.monotonic() < deadline:
                assert process.poll() is None, process.communicate()
                time.sleep(0.3)
        finally:
            process.send_signal(signal.SIGTERM)
            out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        assert "stopped" in out, (out, err)
        (message,) = smtp.messages()
        assert "dmitry@example.com" in str(message["To"])
        assert "INV-000001" in str(message["Subject"])
        row = SheetEditor(double, sid, SCHEMA).row("invoices", "INV-000001")
        assert row["status"] == "Awaiting decision"
        assert (tmp_path / "state.sqlite").exists()
        # the process's own requests, authenticated as the key's service account
        assert double.count(since=mark, user=RUNTIME, kind="sheets.spreadsheets.batchUpdate")
        assert "BEGIN PRIVATE KEY" not in out + err


@pytest.mark.skipif(
    shutil.which("systemd-analyze") is None and os.environ.get("CI") != "true",
    reason="systemd-analyze (Debian package systemd) is not installed",
)
def test_the_systemd_unit_passes_systemd_analyze_verify(tmp_path: Path) -> None:
    install = tmp_path / "opt"
    (install / ".venv" / "bin").mkdir(parents=True)
    (install / ".venv" / "bin" / "sheetflow").symlink_to(SHEETFLOW)
    unit = (ROOT / "deploy" / "sheetflow.service").read_text()
    assert "ExecStart=/opt/sheetflow/.venv/bin/sheetflow run --every 60" in unit
    copy = tmp_path / "sheetflow.service"
    copy.write_text(unit.replace("/opt/sheetflow", str(install)))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "", result.stderr  # warnings count as failures
