"""Whether an email can be rendered in every locale the book may use: its template file (the
English texts are its message ids) and, for every other locale, the gettext catalog.

The flow's definition is checked against this at import (a few file lookups, nothing read),
so a transition naming an email nobody wrote fails before any row reaches it.
"""

from __future__ import annotations

from pathlib import Path

from functions.schema import LOCALES
from functions.text.catalog import (
    DEFAULT_TEMPLATES_DIR,
    SOURCE_LOCALE,
    TEMPLATE_SUFFIXES,
    catalog_path,
)


def missing_locales(template: str, templates_dir: Path = DEFAULT_TEMPLATES_DIR) -> list[str]:
    """The locales in which `template` cannot be rendered (empty when it can in all)."""
    files = all((templates_dir / f"{template}{suffix}").is_file() for suffix in TEMPLATE_SUFFIXES)
    return [
        locale
        for locale in LOCALES
        if not files
        or (locale != SOURCE_LOCALE and not catalog_path(templates_dir, locale).is_file())
    ]
