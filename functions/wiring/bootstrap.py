"""The one place that turns configuration (flags, environment) into wired adapters."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from functions.adapters.mail.factory import sender_from_url
from functions.adapters.sqlite.state import SqliteState
from functions.errors import ConfigError, CrmError
from functions.notify import EmailRenderer
from functions.ports import DealSource, InvoiceFolder, SpreadsheetBook, StateStore
from functions.schema import load_schema
from functions.tick.engine import Checkpoint, Engine, _no_checkpoint
from functions.wiring.google import drive_folder, firestore_state, google_book, spreadsheet_id


@dataclass(frozen=True)
class Config:
    book: str
    mail: str | None = None
    state: str | None = None


def book_path(spec: str) -> Path:
    path = Path(spec).expanduser()
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(f"{spec}: the book must be an .xlsx file, gsheet:ID or a Sheets URL")
    return path


def default_mail(path: Path) -> str:
    return f"outbox:{path.parent / 'outbox'}"


def default_state(path: Path) -> Path:
    """`sheetflow.xlsx` keeps its state in `sheetflow.state.sqlite` beside it."""
    return path.with_name(path.stem + ".state.sqlite")


def state_location(config: Config) -> str:
    """Where a book's state is expected, as a person would look for it."""
    sheet_id = spreadsheet_id(config.book)
    if config.state and config.state != "firestore":
        return str(Path(config.state.removeprefix("sqlite:")).expanduser())
    if sheet_id:
        return f"Firestore document sheetflow/{sheet_id}"
    return str(default_state(Path(config.book).expanduser()))


def open_state(spec: str | None, default: Callable[[], StateStore]) -> StateStore:
    """`firestore`, `sqlite:PATH` or a plain PATH; the backend's default when not given."""
    if not spec:
        return default()
    if spec == "firestore":
        raise ConfigError("--state firestore needs a Google Sheet as --book")
    return SqliteState(Path(spec.removeprefix("sqlite:")).expanduser())


def build_engine(
    config: Config, checkpoint: Checkpoint = _no_checkpoint, *, sending: bool = True
) -> Engine:
    """Wire the engine; `sending=False` for commands that never send (adopt)."""
    if not sending:
        # Never used: an outbox is the one sender that needs no account or server.
        config = Config(
            config.book, f"outbox:{tempfile.gettempdir()}/sheetflow-unsent", config.state
        )
    schema = load_schema()
    sheet_id = spreadsheet_id(config.book)
    book: SpreadsheetBook
    folder: InvoiceFolder
    if sheet_id:
        book = google_book(sheet_id, schema)
        if config.state == "firestore":
            state = firestore_state(sheet_id)
        else:
            state = open_state(config.state, lambda: firestore_state(sheet_id))
        if not config.mail:
            raise ConfigError("a Google Sheet needs --mail (gmail:SENDER or an smtp:// URL)")
        mail = config.mail
        folder = drive_folder()
    else:
        path = book_path(config.book)
        if not path.exists():
            raise ConfigError(
                f"{path} does not exist; create it with: sheetflow init --book {path}"
            )
        # Here, not at the top: a Cloud Function never loads openpyxl (~25 MB, cold start).
        from functions.adapters.workbook.book import WorkbookBook

        book = WorkbookBook(path, schema)
        state = open_state(config.state, lambda: SqliteState(default_state(path)))
        mail = config.mail or default_mail(path)
        from functions.adapters.folders.local import LocalFolder  # as openpyxl: local only

        folder = LocalFolder(path.parent)
    return Engine(
        book=book,
        state=state,
        mail=sender_from_url(mail),
        renderer=EmailRenderer(),
        schema=schema,
        checkpoint=checkpoint,
        book_spec=config.book,
        state_location=state_location(config),
        folder=folder,
        crm=bitrix24_source(),
    )


def bitrix24_source(webhook: str | None = None) -> DealSource | None:
    """Bitrix24 feeds the Deals tab when its webhook is set (env or Secret Manager, never
    the sheet); without it, deals are typed or pasted by hand as before."""
    # Here, not at the top: only the commands that build an engine load the HTTP client.
    from functions.adapters.bitrix24.client import (
        WEBHOOK_ENV,
        Bitrix24Client,
        LeakyBucket,
        parse_webhook,
    )
    from functions.adapters.bitrix24.deals import Bitrix24Deals, UnusableWebhook

    url = webhook if webhook is not None else os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return None
    # limits.md: 2 requests/s with a burst of 50; Enterprise 5/s with 250.
    plan = os.environ.get("SHEETFLOW_BITRIX24_PLAN", "").strip().casefold()
    if plan not in ("", "standard", "enterprise"):
        raise ConfigError("SHEETFLOW_BITRIX24_PLAN must be enterprise or standard")
    bucket = LeakyBucket(5.0, 250.0) if plan == "enterprise" else LeakyBucket(2.0, 50.0)
    try:
        hook = parse_webhook(url)
    except CrmError as exc:  # told in Settings and the Log by every tick; invoices carry on
        return UnusableWebhook(str(exc))
    return Bitrix24Deals(Bitrix24Client(hook, bucket=bucket))
