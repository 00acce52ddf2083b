"""One exception root for everything sheetflow reports to a person.

    SheetflowError
    ├── ConfigError            bad command-line flag, environment variable or Settings value
    ├── CrmError               Bitrix24 refused, failed or cannot be reached (`kind` says which)
    ├── SchemaError            a tab or header the automation needs is missing or renamed
    │   └── NotAWorkbookError  the file is not a sheetflow workbook (or not a workbook at all)
    ├── BookBusyError          the workbook is open in LibreOffice/Excel: nothing written
    ├── BookChangedError       the workbook changed between the tick's read and its write
    ├── RefusedError           the spreadsheet refused part of a write for good
    ├── LockHeldError          another tick holds the lock
    ├── StateMismatchError     the state is missing or belongs to another book
    └── MailError              an email could not be handed to the mail server

Each carries the tab / column / record it is about, so the CLI and the Cloud Function can
say exactly where the problem is.
"""

from __future__ import annotations


class SheetflowError(Exception):
    """Root of every error sheetflow explains to a person instead of a traceback."""

    def __init__(
        self,
        message: str,
        *,
        tab: str | None = None,
        column: str | None = None,
        record: str | None = None,
    ) -> None:
        super().__init__(message)
        self.tab = tab
        self.column = column
        self.record = record


class ConfigError(SheetflowError):
    """A flag, environment variable or Settings value is wrong."""


class CrmError(SheetflowError):
    """Bitrix24 answered with an error or not at all; the message never holds the webhook.

    `kind`: auth (wrong or revoked webhook), permission, down, limit, refused, field.
    """

    def __init__(self, message: str, *, kind: str = "refused", **where: str | None) -> None:
        super().__init__(message, **where)
        self.kind = kind


class SchemaError(SheetflowError):
    """The spreadsheet does not have the tabs or headers sheetflow needs."""


class NotAWorkbookError(SchemaError):
    """The file is not a sheetflow workbook."""


class BookBusyError(SheetflowError):
    """Someone has the workbook open; writing now would clobber their work."""


class BookChangedError(SheetflowError):
    """The workbook was saved by someone else after the tick read it."""


class RefusedError(SheetflowError):
    """The spreadsheet refused part of a tick's write: sending it again would not help.

    `part` names what was refused within the SheetChanges (("writes", 3), ("queues", 0)),
    None when the backend cannot tell; `request` is how the backend names it.
    """

    def __init__(
        self, message: str, *, part: tuple[str, int] | None = None, request: str = ""
    ) -> None:
        super().__init__(message)
        self.part, self.request = part, request


class LockHeldError(SheetflowError):
    """Another tick is running on this book."""


class MailError(SheetflowError):
    """The mail server refused or could not be reached.

    `maybe_sent` is True when the message may have arrived anyway (the connection was lost
    while handing it over): the ledger then checks before any resend.
    """

    def __init__(self, message: str, *, maybe_sent: bool = False, **where: str | None) -> None:
        super().__init__(message, **where)
        self.maybe_sent = maybe_sent


class StateMismatchError(SheetflowError):
    """The state is missing or belongs to another book: a tick would replay history."""
