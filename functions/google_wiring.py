"""Wiring for Google: credentials, the gspread client, the Google Sheet and Firestore state.

Imports of Google libraries happen inside the functions, so the local workbook path never
pays for them and a cold start only loads what it uses.
"""

from __future__ import annotations

import re
from typing import Any

from .errors import ConfigError
from .schema import Schema

SCOPES = (
    "https://www.googleapis.com/auth/spreadsheets",
    "https://www.googleapis.com/auth/drive.metadata.readonly",
    "https://www.googleapis.com/auth/drive.readonly",  # the invoices folder's PDFs (issue 14)
)
_URL = re.compile(r"https://docs\.google\.com/spreadsheets/d/([A-Za-z0-9_-]{10,})")
_BARE = re.compile(r"gsheet:([A-Za-z0-9_-]{10,})")


def spreadsheet_id(spec: str) -> str | None:
    """The sheet ID of `gsheet:ID` or a Google Sheets URL; None for anything else."""
    match = _BARE.fullmatch(spec.strip()) or _URL.match(spec.strip())
    if match:
        return match.group(1)
    if spec.startswith(("gsheet:", "https://docs.google.com/")):
        raise ConfigError(f"{spec}: not a Google Sheet address (gsheet:ID or its https:// URL)")
    return None


def credentials() -> tuple[Any, str]:
    """Application Default Credentials and the service account's email (the sheet's editor)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account"
            " key file, or run inside Google Cloud with a service account"
        ) from exc
    email = getattr(creds, "service_account_email", None) or ""
    return creds, str(email)


def gspread_client(creds: Any) -> Any:
    import gspread

    return gspread.authorize(creds)


def google_book(sheet_id: str, schema: Schema) -> Any:
    from .adapters.gsheets import GoogleSheetBook

    creds, email = credentials()
    return GoogleSheetBook(sheet_id, gspread_client(creds), schema, email)


def create_google_sheet(sheet_id: str, schema: Schema, locale: str, *, force: bool) -> None:
    from .adapters.gsheets_layout import create_google_book

    creds, email = credentials()
    create_google_book(
        sheet_id,
        gspread_client(creds),
        schema,
        locale,  # type: ignore[arg-type]
        email,
        force=force,
    )


def firestore_state(sheet_id: str) -> Any:
    from google.cloud import firestore

    from .adapters.firestore_state import FirestoreState

    return FirestoreState(firestore.Client(), root=f"sheetflow/{sheet_id}")


def drive_folder() -> Any:
    """The invoices folder on Drive, read as the service account the book uses."""
    from .adapters.drive_folder import DriveFolder

    creds, email = credentials()
    return DriveFolder(gspread_client(creds).http_client, email)
