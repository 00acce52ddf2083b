"""The sentences sheetflow writes in Notes, in the book's language (sheet_schema/messages.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from functions.schema import SCHEMA_DIR


@cache
def catalogue(directory: Path = SCHEMA_DIR) -> dict[str, dict[str, str]]:
    data = yaml.safe_load((directory / "messages.yaml").read_text(encoding="utf-8"))
    return {str(k): {str(loc): str(text) for loc, text in v.items()} for k, v in data.items()}


def say(locale: str, key: str, **fields: object) -> str:
    """One message in `locale` (English when the locale has no such message).

    Numbers and dates among the fields are written the locale's way (`1 234,5`, `28.11.2026`).
    """
    from functions.text.formats import (
        field,  # formats reads values with parsing, which says messages
    )

    texts = catalogue()[key]
    shown = {name: field(value, locale) for name, value in fields.items()}
    return texts.get(locale, texts["en"]).format(**shown)
