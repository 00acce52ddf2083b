"""The sentences sheetflow writes in Notes, in the book's language (sheet_schema/messages.yaml)."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

from functions.text.formats import field
from functions.text.parsing import ParseProblem

# The catalogue lives beside the schema (sheet_schema/), where the book's wording is edited; this
# floor names the file itself so that it imports nothing above it.
CATALOGUE = Path(__file__).resolve().parents[2] / "sheet_schema" / "messages.yaml"
# How much of a typed value a sentence quotes: one glance, not a paragraph.
_QUOTED = 40
_QUOTED_ADDRESS = 60


@cache
def catalogue(path: Path = CATALOGUE) -> dict[str, dict[str, str]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    return {str(k): {str(loc): str(text) for loc, text in v.items()} for k, v in data.items()}


def say(locale: str, key: str, **fields: object) -> str:
    """One message in `locale` (English when the locale has no such message).

    Numbers and dates among the fields are written the locale's way (`1 234,5`, `28.11.2026`).
    """
    texts = catalogue()[key]
    shown = {name: field(value, locale) for name, value in fields.items()}
    return texts.get(locale, texts["en"]).format(**shown)


def problem_text(problem: ParseProblem, locale: str) -> str:
    """A parsing problem as the Note says it: `Amount “x” is not a number`."""
    if problem.kind == "fill_in":
        return say(locale, "fill_in", fields=problem.label)
    value = problem.value
    if isinstance(value, str):
        value = value[: _QUOTED_ADDRESS if problem.kind == "bad_email" else _QUOTED]
    return say(locale, problem.kind, label=problem.label, value=value)
