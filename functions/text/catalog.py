"""Where the email templates and their translations are on disk (paths only, nothing read).

Kept apart from the renderer (Jinja2, Babel's catalog reader) so that the flow's import-time
check that every email has its template costs a tick no template engine.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_TEMPLATES_DIR = Path(__file__).parent.parent.parent / "templates"
# One file per email (`templates/<name>.j2`): its subject and blocks, in English, with every
# sentence marked for translation.
TEMPLATE_SUFFIXES: tuple[str, ...] = (".j2",)
SOURCE_LOCALE = "en"  # the templates' own language: no catalog


def catalog_path(templates_dir: Path, locale: str) -> Path:
    return templates_dir / "locale" / locale / "LC_MESSAGES" / "messages.po"
