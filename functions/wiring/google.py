"""Wiring for Google: credentials, the gspread client, the Google Sheet and Firestore state.

Imports of Google libraries happen inside the functions, so the local workbook path never
pays for them and a cold start only loads what it uses.
"""

from __future__ import annotations

import os
import re
from typing import Any

from functions.errors import ConfigError
from functions.schema import Locale, Schema

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


# Service accounts: NAME@PROJECT.iam.gserviceaccount.com (a domain-scoped project has dots),
# and the default accounts PROJECT@appspot… / NUMBER-compute@developer.gserviceaccount.com.
_SERVICE_ACCOUNT = re.compile(
    r"[a-z][a-z0-9-]{4,61}[a-z0-9]@[a-z0-9.:-]+\.iam\.gserviceaccount\.com"
    r"|[a-z0-9-]+@(appspot|developer)\.gserviceaccount\.com"
)
IMPERSONATE = (
    "gcloud auth application-default login"
    " --impersonate-service-account=sheetflow-runtime@YOUR-PROJECT.iam.gserviceaccount.com"
)


def is_service_account(email: str) -> bool:
    return bool(_SERVICE_ACCOUNT.fullmatch(email.strip()))


def credentials() -> tuple[Any, str]:
    """Application Default Credentials and the email they act as ('' for a person's)."""
    import google.auth
    from google.auth.exceptions import DefaultCredentialsError

    try:
        creds, _ = google.auth.default(scopes=list(SCOPES))
    except DefaultCredentialsError as exc:
        raise ConfigError(
            "no Google credentials: set GOOGLE_APPLICATION_CREDENTIALS to a service-account"
            " key file, or run inside Google Cloud with a service account"
        ) from exc
    return creds, str(getattr(creds, "service_account_email", None) or "")


def runtime_account(creds: Any, email: str, declared: str | None, request: Any = None) -> str:
    """The service account the ticks run as: every protected range names it as an editor.

    On Cloud Functions the credentials say "default" until refreshed; deploy.sh declares the
    account (SHEETFLOW_SERVICE_ACCOUNT), else one refresh asks the metadata server. Anything
    but a service account is refused now: Google would refuse the first lock a minute later.
    """
    declared = (declared or "").strip() or None
    if declared is not None and not is_service_account(declared):
        raise ConfigError(
            f"SHEETFLOW_SERVICE_ACCOUNT={declared!r} is not a service account's email"
            " (NAME@PROJECT.iam.gserviceaccount.com)"
        )
    if email == "default" and declared is None:
        email = _refreshed_email(creds, request)
    if email == "default":
        email = declared or ""
    if not is_service_account(email):
        shown = email or "a person's account"
        raise ConfigError(
            f"the Google credentials are {shown}, not a service account: the ticks must run as"
            " the service account that owns the protected columns. Use its key"
            " (GOOGLE_APPLICATION_CREDENTIALS=key.json) or impersonate it: " + IMPERSONATE
        )
    if declared is not None and declared.casefold() != email.casefold():
        raise ConfigError(
            f"the credentials act as {email} but SHEETFLOW_SERVICE_ACCOUNT says {declared}:"
            " the protected columns would name the wrong editor"
        )
    return email


def _refreshed_email(creds: Any, request: Any) -> str:
    """Compute Engine credentials learn their email from the metadata server on refresh."""
    from google.auth.exceptions import RefreshError, TransportError

    if request is None:
        from google.auth.transport.requests import Request

        request = Request()
    try:
        creds.refresh(request)
    except (RefreshError, TransportError) as exc:
        raise ConfigError(
            f"could not ask the metadata server which service account runs sheetflow: {exc};"
            " set SHEETFLOW_SERVICE_ACCOUNT to its email"
        ) from exc
    return str(getattr(creds, "service_account_email", None) or "")


def gspread_client(creds: Any) -> Any:
    import gspread

    return gspread.authorize(creds)


def google_book(sheet_id: str, schema: Schema) -> Any:
    from functions.adapters.gsheets.book import GoogleSheetBook

    creds, email = credentials()
    robot = runtime_account(creds, email, os.environ.get("SHEETFLOW_SERVICE_ACCOUNT"))
    endpoint = os.environ.get("SHEETFLOW_GOOGLE_API_ENDPOINT")
    return GoogleSheetBook(sheet_id, gspread_client(creds), schema, robot, endpoint=endpoint)


def create_google_sheet(
    sheet_id: str, schema: Schema, locale: Locale, *, force: bool, runtime: str | None = None
) -> None:
    """Set up the tabs; `runtime` is the account that will run the ticks (init by a person)."""
    from functions.adapters.gsheets.layout import create_google_book

    creds, email = credentials()
    if runtime is None:
        try:
            email = runtime_account(creds, email, None)
        except ConfigError as exc:
            raise ConfigError(
                f"{exc}. Or name the account that will run the ticks: sheetflow init"
                " --runtime-account sheetflow-runtime@YOUR-PROJECT.iam.gserviceaccount.com"
            ) from exc
    elif not is_service_account(runtime):
        raise ConfigError(
            f"--runtime-account {runtime!r} is not a service account's email"
            " (NAME@PROJECT.iam.gserviceaccount.com)"
        )
    else:
        email = runtime.strip()
    create_google_book(
        sheet_id,
        gspread_client(creds),
        schema,
        locale,
        email,
        force=force,
        endpoint=os.environ.get("SHEETFLOW_GOOGLE_API_ENDPOINT"),
    )


def firestore_state(sheet_id: str) -> Any:
    from google.cloud import firestore

    from functions.adapters.firestore.state import FirestoreState

    return FirestoreState(firestore.Client(), root=f"sheetflow/{sheet_id}")


def drive_folder() -> Any:
    """The invoices folder on Drive, read as the service account the book uses."""
    from functions.adapters.folders.drive import DriveFolder

    creds, email = credentials()
    return DriveFolder(gspread_client(creds).http_client, email)
