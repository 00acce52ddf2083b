"""The text layer of a supplier's PDF (pypdf), and what kind of file a file is.

pypdf, not pdfplumber: the invoice fields are found by labels in the text, not by where the
characters sit on the page, so pdfplumber's layout analysis (pdfminer.six, plus pypdfium2
and Pillow: ~30 MB, a slower cold start) buys nothing here; pypdf is pure Python, has no
dependencies, reads from an open file by seeking (never the whole file), and says when a PDF
is encrypted. A file is read only up to MAX_BYTES and its first MAX_PAGES pages.
"""

from __future__ import annotations

import logging
from typing import BinaryIO

MAX_BYTES = 20 * 1024 * 1024  # larger "invoices" are noted as too big, never read
MAX_PAGES = 5  # the fields of an invoice are on its first pages
_IMAGES = (
    b"\x89PNG",
    b"\xff\xd8\xff",  # JPEG
    b"II*\x00",  # TIFF (little endian)
    b"MM\x00*",  # TIFF (big endian)
    b"GIF8",
)
_IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".tif", ".tiff", ".gif", ".heic", ".webp", ".bmp")


def file_kind(head: bytes, name: str) -> str:
    """pdf | image | other, from the first bytes (the name's suffix only for rarer images)."""
    if b"%PDF-" in head[:1024]:
        return "pdf"
    if head.startswith(_IMAGES) or (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
        return "image"
    return "image" if name.lower().endswith(_IMAGE_SUFFIXES) else "other"


def pdf_text(stream: BinaryIO, size: int) -> tuple[str, str | None]:
    """(text, None), or ("", why): too_big | protected | corrupt | no_text."""
    if size > MAX_BYTES:
        return "", "too_big"
    from pypdf import PdfReader  # loaded by the ticks that read a PDF only
    from pypdf.errors import PyPdfError

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # a damaged file is our Note, not a log
    try:
        reader = PdfReader(stream)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):  # many "protected" PDFs open without a password
                    return "", "protected"
            except (PyPdfError, NotImplementedError):
                return "", "protected"
        pages = [page.extract_text() or "" for page in reader.pages[:MAX_PAGES]]
    except PyPdfError:
        return "", "corrupt"
    except Exception:  # noqa: BLE001 — a hostile file may break the parser in any way
        return "", "corrupt"
    text = "\n".join(pages)
    return (text, None) if text.strip() else ("", "no_text")
