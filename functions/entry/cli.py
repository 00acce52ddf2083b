"""`sheetflow`: the command line. Each command builds the objects and calls one service."""

from __future__ import annotations

import csv as csv_module
import os
import re
import signal
import sys
import threading
from datetime import datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from functions.errors import ConfigError, SheetflowError
from functions.schema import LOCALES, Locale, load_schema
from functions.text.messages import say
from functions.tick.engine import Engine
from functions.transitions import mermaid
from functions.wiring.bootstrap import Config, book_path, build_engine
from functions.wiring.console import print_report, print_report_tab
from functions.wiring.google import create_google_sheet, spreadsheet_id

app = typer.Typer(
    name="sheetflow",
    help=(
        "Invoice approval and deal payment watching on a spreadsheet.\n\n"
        "Example:  sheetflow init --book books/sheetflow.xlsx && "
        "sheetflow tick --book books/sheetflow.xlsx"
    ),
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)
# Text from a sheet or a flag is printed as typed: no `:smile:` emoji, no `[red]` markup.
out = Console(highlight=False, emoji=False)
err = Console(stderr=True, highlight=False, soft_wrap=True, emoji=False, markup=False)
# The engine a command built: once it has read the book, errors are said in the book's language.
_ENGINES: list[Engine] = []


def _engine(config: Config, *, sending: bool = True) -> Engine:
    engine = build_engine(config, sending=sending)
    _ENGINES.append(engine)
    return engine


def _locale_now() -> str:
    return _ENGINES[-1].locale if _ENGINES else "en"


BookOption = Annotated[
    str,
    typer.Option(
        "--book",
        envvar="SHEETFLOW_BOOK",
        help="The workbook (.xlsx), or a Google Sheet: gsheet:ID or its URL.",
        metavar="PATH",
        show_default=False,
    ),
]
MailOption = Annotated[
    str | None,
    typer.Option(
        "--mail",
        envvar="SHEETFLOW_MAIL",
        help="outbox:DIR (default: outbox/ beside the book), smtp://HOST:PORT or gmail:SENDER.",
        metavar="TARGET",
    ),
]
StateOption = Annotated[
    str | None,
    typer.Option(
        "--state",
        envvar="SHEETFLOW_STATE",
        help="A SQLite file (default: beside the workbook) or firestore (default for Sheets).",
        metavar="PATH",
    ),
]


def _locale(value: str, flag: str = "--locale") -> Locale:
    for known in LOCALES:
        if value == known:
            return known
    raise ConfigError(f"{flag} {value!r} is not a known locale: use {' or '.join(LOCALES)}")


def _show_version(value: bool) -> None:
    if value:
        out.print(f"sheetflow {package_version('sheetflow')}", markup=False)
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool,
        typer.Option(
            "--version", help="Print the version and exit.", callback=_show_version, is_eager=True
        ),
    ] = False,
) -> None:
    """The options every command shares (--version); the help text is the app's."""


def _parse_now(now: str | None) -> datetime | None:
    if now is None:
        return None
    try:
        moment = datetime.fromisoformat(now)
    except ValueError as exc:
        raise ConfigError(
            f"--now {now!r} is not an ISO-8601 time like 2026-11-28T09:30+03:00"
        ) from exc
    if moment.tzinfo is None:
        raise ConfigError(f"--now {now!r} needs a time zone offset, e.g. 2026-11-28T09:30+03:00")
    return moment


@app.command()
def init(
    book: BookOption,
    locale: Annotated[
        str, typer.Option(help="Headers and labels: en or ru.", metavar="LOCALE")
    ] = "en",
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
    runtime_account: Annotated[
        str | None,
        typer.Option(
            "--runtime-account",
            envvar="SHEETFLOW_SERVICE_ACCOUNT",
            metavar="EMAIL",
            help="Google Sheet: the service account that will run the ticks (the only editor"
            " of the automation columns), when init runs with a person's credentials.",
        ),
    ] = None,
) -> None:
    """Create a new sheetflow workbook with every tab, header, dropdown and protection.

    Example:  sheetflow init --book books/sheetflow.xlsx --locale en
    """
    from functions.adapters.workbook.book import create_workbook  # openpyxl: only to create

    book_locale = _locale(locale)
    sheet_id = spreadsheet_id(book)
    if sheet_id:
        create_google_sheet(
            sheet_id, load_schema(), book_locale, force=force, runtime=runtime_account
        )
        out.print(f"set up the Google Sheet {sheet_id}: fill in People and Settings", markup=False)
        return
    path = book_path(book)
    create_workbook(path, load_schema(), book_locale, force=force)
    out.print(
        f"created {path}: fill in People and Settings, then run: sheetflow tick --book {path}",
        markup=False,
    )


@app.command()
def tick(
    book: BookOption,
    mail: MailOption = None,
    state: StateOption = None,
    now: Annotated[
        str | None, typer.Option(help="Pretend it is this time (ISO-8601).", metavar="TIME")
    ] = None,
) -> None:
    """Run one pass: read the sheet, move rows on, write statuses, send emails, log.

    Example:  sheetflow tick --book books/sheetflow.xlsx --mail smtp://localhost:1025
    """
    engine = _engine(Config(book, mail, state))
    print_report(engine.tick(_parse_now(now)), out)


@app.command()
def adopt(
    book: BookOption,
    state: StateOption = None,
    now: Annotated[str | None, typer.Option(help="Pretend it is this time (ISO-8601).")] = None,
) -> None:
    """Record the book as it stands in its state: every row as it is, no email, a Log line.

    For a book whose state is missing (moved, deleted) or belongs to another book, after
    you have checked that nothing is left to send. Nothing past is sent again.

    Example:  sheetflow adopt --book books/sheetflow.xlsx
    """
    engine = _engine(Config(book, None, state), sending=False)
    details = engine.adopt(_parse_now(now))
    out.print(
        say(engine.locale, "cli_adopted", book=engine.book.name, details=details), markup=False
    )


@app.command()
def run(
    book: BookOption,
    every: Annotated[
        float, typer.Option(help="Seconds between ticks.", min=1, metavar="SECONDS")
    ] = 60,
    mail: MailOption = None,
    state: StateOption = None,
) -> None:
    """Tick every N seconds until Ctrl-C (which stops cleanly between ticks).

    Example:  sheetflow run --book books/sheetflow.xlsx --every 60
    """
    engine = _engine(Config(book, mail, state))
    stop = threading.Event()

    def interrupted(signum: int, frame: object) -> None:
        # A tick is never cut in half: Ctrl-C takes effect once the current tick is done.
        said = "cli_stopping" if not stop.is_set() else "cli_stopping_now"
        out.print(say(engine.locale, said), markup=False)
        stop.set()

    previous = signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    started = False
    try:
        while not stop.is_set():
            try:
                print_report(engine.tick(), out, title=datetime.now().strftime("%H:%M:%S"))
            except SheetflowError as exc:  # a bad edit must not stop the loop: say it, go on
                err.print(say(engine.locale, "cli_error", message=_one_line(str(exc))))
            if not started:  # said once the first tick has told the book's language
                said = say(engine.locale, "cli_ticking", book=book, every=f"{every:g}")
                out.print(said, markup=False)
                started = True
            stop.wait(every)
    finally:
        signal.signal(signal.SIGINT, previous)
    out.print(say(engine.locale, "cli_stopped"), markup=False)


@app.command()
def report(
    book: BookOption,
    month: Annotated[
        str, typer.Option(help="The month, YYYY-MM.", show_default=False, metavar="YYYY-MM")
    ],
    csv: Annotated[bool, typer.Option("--csv", help="Print the table as CSV.")] = False,
    state: StateOption = None,
) -> None:
    """Write (or rewrite) the monthly per-manager report tab `Report YYYY-MM`.

    Example:  sheetflow report --book books/sheetflow.xlsx --month 2026-11 --csv
    """
    if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", month):
        raise ConfigError(f"--month {month!r} must look like 2026-11")
    engine = _engine(Config(book, None, state))
    tab = engine.monthly_report(month)
    if csv:
        writer = csv_module.writer(sys.stdout, lineterminator="\n")
        writer.writerow(tab.headers)
        writer.writerows(tab.rows)
        return
    print_report_tab(tab, out, engine.locale)
    out.print(say(engine.locale, "cli_report_written", title=tab.title, book=book), markup=False)


@app.command()
def demo(
    directory: Annotated[
        Path, typer.Option("--dir", help="Where to create the demo.", metavar="DIR")
    ] = Path("demo"),
    bitrix24: Annotated[
        bool,
        typer.Option(
            "--bitrix24", help="Then let a stand-in Bitrix24 portal on this computer feed Deals."
        ),
    ] = False,
) -> None:
    """Play the whole invoice story on a new workbook and show what happened.

    Example:  sheetflow demo --dir demo   (then open demo/sheetflow.xlsx and demo/outbox/)
    """
    from functions.demo.story import play

    play(directory, out, bitrix24=bitrix24)


@app.command()
def diagram(
    locale: Annotated[str, typer.Option(help="Status names: en or ru.", metavar="LOCALE")] = "en",
) -> None:
    """Print the invoice state diagram (Mermaid), generated from the transition table.

    Example:  sheetflow diagram --locale ru
    """
    lang = _locale(locale)
    labels = {k: v[lang] for k, v in load_schema().labels.statuses.items()}
    out.print(mermaid(labels), markup=False)


bitrix24_app = typer.Typer(
    help=(
        "Bitrix24: the CRM that feeds the Deals tab (webhook in SHEETFLOW_BITRIX24_WEBHOOK).\n\n"
        "Example:  sheetflow bitrix24 check"
    ),
    no_args_is_help=True,
)
app.add_typer(bitrix24_app, name="bitrix24")


@bitrix24_app.command("check")
def bitrix24_check() -> None:
    """Say whether the webhook works and what it may read (deals, users, pipelines, fields).

    Example:  SHEETFLOW_BITRIX24_WEBHOOK=https://co.bitrix24.com/rest/1/CODE/ \
              sheetflow bitrix24 check
    """
    from functions.adapters.bitrix24.client import WEBHOOK_ENV, Bitrix24Client, parse_webhook
    from functions.adapters.bitrix24.deals import Bitrix24Deals

    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        raise ConfigError(
            f"set {WEBHOOK_ENV} to your inbound webhook (Bitrix24 → Developer resources →"
            " Other → Inbound webhook, with the crm and user permissions)"
        )
    source = Bitrix24Deals(Bitrix24Client(parse_webhook(url), attempts=3))
    for line in source.check():
        out.print(line, markup=False)


def main() -> None:
    """Console entry: one-line errors, no tracebacks (SHEETFLOW_DEBUG=1 shows them)."""
    try:
        app()  # typer reports usage errors and exits by itself
    except SheetflowError as exc:
        err.print(say(_locale_now(), "cli_error", message=_one_line(str(exc))))
        sys.exit(1)
    except KeyboardInterrupt:
        err.print("aborted")
        sys.exit(130)
    except Exception as exc:  # the last line of defence for a person at a terminal
        if os.environ.get("SHEETFLOW_DEBUG"):
            raise
        err.print(
            f"error: unexpected {type(exc).__name__}: {_one_line(str(exc))}"
            " (SHEETFLOW_DEBUG=1 shows details)"
        )
        sys.exit(2)


def _one_line(message: str) -> str:
    return " ".join(message.split())
