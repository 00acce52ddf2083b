"""The one place that turns configuration (flags, environment) into wired adapters."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .adapters.mail_factory import sender_from_url
from .adapters.sqlite_state import SqliteState
from .adapters.workbook import WorkbookBook
from .engine import Checkpoint, Engine, _no_checkpoint
from .errors import ConfigError
from .notify import EmailRenderer
from .schema import load_schema


@dataclass(frozen=True)
class Config:
    book: str
    mail: str | None = None
    state: str | None = None


def book_path(spec: str) -> Path:
    if spec.startswith(("gsheet:", "https://")):
        raise ConfigError(f"{spec}: Google Sheets are not supported by this build yet")
    path = Path(spec).expanduser()
    if path.suffix.lower() != ".xlsx":
        raise ConfigError(f"{spec}: the workbook must be an .xlsx file")
    return path


def default_mail(path: Path) -> str:
    return f"outbox:{path.parent / 'outbox'}"


def default_state(path: Path) -> Path:
    """`sheetflow.xlsx` keeps its state in `sheetflow.state.sqlite` beside it."""
    return path.with_name(path.stem + ".state.sqlite")


def build_engine(config: Config, checkpoint: Checkpoint = _no_checkpoint) -> Engine:
    path = book_path(config.book)
    if not path.exists():
        raise ConfigError(f"{path} does not exist; create it with: sheetflow init --book {path}")
    schema = load_schema()
    state = SqliteState(Path(config.state) if config.state else default_state(path))
    return Engine(
        book=WorkbookBook(path, schema),
        state=state,
        mail=sender_from_url(config.mail or default_mail(path)),
        renderer=EmailRenderer(),
        schema=schema,
        checkpoint=checkpoint,
    )
