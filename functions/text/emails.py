"""What the email templates call: Babel filters, gettext catalogs and the plain/HTML helpers.

The English texts in `templates/*.j2` are the message ids; `templates/locale/ru/LC_MESSAGES/
messages.po` holds the Russian ones. The catalog is read from the `.po` file itself (compiled
in memory), so the repository keeps no generated `.mo` files.
"""

from __future__ import annotations

import gettext
from collections.abc import Callable, Iterable
from functools import cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from markupsafe import Markup, escape

from functions.errors import ConfigError
from functions.text.catalog import SOURCE_LOCALE, catalog_path
from functions.text.formats import date_text, default_currency, money_text, percent_text

__all__ = ["default_currency", "filters", "helpers", "translations"]


def translations(templates_dir: Path, locale: str, record: str = "") -> gettext.NullTranslations:
    """The locale's catalog; English is the templates' own language."""
    if locale == SOURCE_LOCALE:
        return gettext.NullTranslations()
    path = catalog_path(templates_dir, locale)
    if not path.is_file():
        raise ConfigError(
            f"no email texts for the locale {locale!r}: {path} is missing", record=record or None
        )
    return _compiled(path, path.stat().st_mtime_ns)


@cache
def _compiled(path: Path, mtime: int) -> gettext.GNUTranslations:
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=path.parent.parent.name)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def filters(locale: str) -> dict[str, Callable[..., str]]:
    """`{{ amount|money(currency) }}`, `{{ date|day }}`, `{{ pct|percent }}` in the locale."""
    return {
        "money": lambda value, currency="": money_text(value, currency, locale),
        "day": lambda value: date_text(value, locale),
        "percent": lambda value: percent_text(value, locale),
        # one changed value, as the flow describes it: {label, old, new} (already formatted)
        "change": lambda c: f"{c['label']}: {c['old']} → {c['new']}",
    }


def helpers(*, html: bool, locale: str) -> dict[str, Callable[..., Any]]:
    """Paragraphs, quotes, lists, table rows and links, for the plain part or the HTML part."""
    return _HTML if html else _TEXT


def _is_link(value: str) -> bool:
    return value.startswith(("https://", "http://"))


def _html_link(value: object) -> Markup:
    shown = str(value or "")
    if _is_link(shown):
        return Markup('<a href="{0}">{0}</a>').format(shown)
    return escape(shown)


def _html_bullets(items: Iterable[object]) -> Markup:
    return Markup("<ul>\n{}\n</ul>").format(
        Markup("\n").join(Markup("<li>{}</li>").format(i) for i in items)
    )


_HTML: dict[str, Callable[..., Any]] = {
    "para": lambda text: Markup("<p>{}</p>").format(text),
    "quote": lambda text: Markup(
        '<blockquote style="margin:0 0 12px 0; padding:8px 12px; border-left:3px solid #cccccc;'
        ' white-space:pre-line;">{}</blockquote>'
    ).format(text),
    "bullets": _html_bullets,
    "row": lambda label, value: Markup('<tr><th align="left">{}</th><td>{}</td></tr>').format(
        label, value
    ),
    "link": _html_link,
    "lines": lambda *parts: Markup("<br>").join(escape(p) for p in parts),
}
_TEXT: dict[str, Callable[..., Any]] = {
    "para": lambda text: f"{text}\n",
    "quote": lambda text: f"{text}\n",
    "bullets": lambda items: "".join(f"- {item}\n" for item in items),
    "row": lambda label, value: f"{label}: {value}",
    "link": lambda value: str(value or ""),
    "lines": lambda *parts: "\n".join(str(p) for p in parts),
}
