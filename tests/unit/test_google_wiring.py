"""Which book a --book address means."""

from __future__ import annotations

import pytest

from functions.errors import ConfigError
from functions.wiring.google import spreadsheet_id

SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789_-"


@pytest.mark.parametrize(
    "spec",
    [
        f"gsheet:{SHEET}",
        f"https://docs.google.com/spreadsheets/d/{SHEET}/edit#gid=0",
        f"https://docs.google.com/spreadsheets/d/{SHEET}",
    ],
)
def test_google_sheet_addresses_give_the_sheet_id(spec: str) -> None:
    assert spreadsheet_id(spec) == SHEET


@pytest.mark.parametrize("spec", ["books/sheetflow.xlsx", "C:/x.xlsx", "sheet.xlsx"])
def test_files_are_not_google_sheets(spec: str) -> None:
    assert spreadsheet_id(spec) is None


@pytest.mark.parametrize(
    "spec", ["gsheet:", "gsheet:short", "https://docs.google.com/document/d/x"]
)
def test_broken_google_addresses_are_explained(spec: str) -> None:
    with pytest.raises(ConfigError, match="not a Google Sheet address"):
        spreadsheet_id(spec)
