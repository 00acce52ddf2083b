"""One tick on the Google path as its own process, for the tests that SIGKILL it.

Built like a Cloud Functions instance: a gspread client talking HTTP (to the Sheets double's
server on loopback), Firestore state on the emulator (FIRESTORE_EMULATOR_HOST), real mail
(SMTP to a loopback server, or the outbox folder). With `--stop-at POINT` it announces
`AT POINT` on stdout when the tick gets there and waits, so the test can SIGKILL it at that
exact step boundary; without it the test kills it at a random moment, or lets it finish.

    python -m tests.google_tick_process --double URL --sheet ID --root PATH --mail URL|DIR
        --now ISO --clock SECONDS [--stop-at POINT]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from datetime import datetime
from pathlib import Path

import gspread
from google.cloud import firestore

from functions.adapters.firestore.state import FirestoreState
from functions.adapters.gsheets.book import GoogleSheetBook
from functions.adapters.mail.outbox import OutboxSender
from functions.adapters.mail.smtp import SmtpSender
from functions.notify import EmailRenderer
from functions.ports import MailSender
from functions.schema import load_schema
from functions.tick.engine import Engine
from tests.crash_points import DyingSender, FiresAtPoint
from tests.firestore_emulator import PROJECT
from tests.google_double import SERVICE_ACCOUNT
from tests.google_double.http_server import session_via
from tests.google_double.people import no_sleep


class StopAt(FiresAtPoint):
    """Tells the test (stdout) that the tick reached `point`, then waits to be killed."""

    def __init__(self, point: str | None) -> None:
        self.point = point or ""
        self.emails = 0

    def fire(self) -> None:
        print(f"AT {self.point}", flush=True)
        while True:  # only SIGKILL ends this process now
            time.sleep(60)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser()
    for name in ("--double", "--sheet", "--root", "--mail", "--now", "--clock"):
        parser.add_argument(name, required=True)
    parser.add_argument("--stop-at")
    args = parser.parse_args(argv)
    stop, clock = StopAt(args.stop_at), float(args.clock)
    client = gspread.Client(None, session=session_via(args.double, SERVICE_ACCOUNT))  # type: ignore[arg-type]
    schema = load_schema()
    book = GoogleSheetBook(args.sheet, client, schema, SERVICE_ACCOUNT, sleep=no_sleep)
    state = FirestoreState(firestore.Client(project=PROJECT), args.root, clock=lambda: clock)
    mail: MailSender = (
        SmtpSender(args.mail, timeout=5)
        if args.mail.startswith("smtp://")
        else OutboxSender(Path(args.mail))
    )
    if stop.point in ("before send", "after send"):
        mail = DyingSender(mail, stop)
    engine = Engine(book, state, mail, EmailRenderer(), schema)
    engine.checkpoint = stop.checkpoint
    report = engine.tick(datetime.fromisoformat(args.now))
    print(json.dumps({"outcome": report.outcome, "emails": len(report.emails)}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
