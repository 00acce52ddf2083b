"""`make screenshots`: the README's pictures, rendered from the demo book by LibreOffice.

Plays `sheetflow demo` into a temporary folder, has LibreOffice print the workbook and one
email to PDF (the workbook's own print setup decides the pages) and turns the pages people
would look at into PNGs with poppler's pdftoppm, cropped to what is printed on them:
    python docs/screenshots.py --out docs/img
"""

from __future__ import annotations

import argparse
import email
import email.policy
import re
import shutil
import subprocess
import sys
import tempfile
from html import escape
from pathlib import Path

from rich.console import Console

from functions.demo.story import play

DPI = 110
POINTS = 72
# Words on a page: pdftotext -bbox writes one <word xMin= yMin= xMax= yMax=> per word.
_WORD = re.compile(r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)')
_PAGE = re.compile(r"<page width=")


def run(*command: str, timeout: int = 180) -> str:
    done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    if done.returncode != 0:
        raise SystemExit(f"{command[0]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return done.stdout


def to_pdf(source: Path, folder: Path, profile: Path) -> Path:
    # An HTML email goes through Writer (Writer/Web's own export prints an empty page).
    html = ["--infilter=HTML (StarWriter)"] if source.suffix == ".html" else []
    run(
        shutil.which("soffice") or "soffice",
        f"-env:UserInstallation={profile.as_uri()}",
        "--headless",
        "--norestore",
        *html,
        "--convert-to",
        "pdf:writer_pdf_Export" if html else "pdf",
        "--outdir",
        str(folder),
        str(source),
    )
    pdf = folder / (source.stem + ".pdf")
    if not pdf.exists():
        raise SystemExit(f"LibreOffice wrote no PDF for {source}")
    return pdf


def pages(pdf: Path) -> list[list[tuple[float, float, float, float, str]]]:
    """Every page's words with their boxes, in points."""
    html = run("pdftotext", "-bbox", str(pdf), "-")
    chunks = _PAGE.split(html)[1:]
    return [
        [(float(a), float(b), float(c), float(d), w) for a, b, c, d, w in _WORD.findall(chunk)]
        for chunk in chunks
    ]


def find_page(all_pages: list[list[tuple[float, float, float, float, str]]], *words: str) -> int:
    for number, page in enumerate(all_pages, start=1):
        text = {w[4] for w in page}
        if all(word in text for word in words):
            return number
    raise SystemExit(f"no page shows {words}")


def snapshot(
    pdf: Path,
    number: int,
    words: list[tuple[float, float, float, float, str]],
    out: Path,
    extra_below: float = 12,
    until: str | None = None,
    dpi: int = DPI,
) -> None:
    """One page as PNG, cropped to its printed words (plus `extra_below` points for a chart),
    or to the columns left of the header `until`."""
    right = max(w[2] for w in words) + 8
    if until is not None:
        right = min(w[0] for w in words if w[4] == until) - 2
        words = [w for w in words if w[2] < right]
    left = min(w[0] for w in words) - 8
    top = min(w[1] for w in words) - 8
    bottom = max(w[3] for w in words) + extra_below
    scale = dpi / POINTS
    run(
        "pdftoppm",
        "-png",
        "-singlefile",
        "-r",
        str(dpi),
        "-f",
        str(number),
        "-l",
        str(number),
        "-x",
        str(int(left * scale)),
        "-y",
        str(int(top * scale)),
        "-W",
        str(int((right - left) * scale)),
        "-H",
        str(int((bottom - top) * scale)),
        str(pdf),
        str(out.with_suffix("")),
    )


def email_html(outbox: Path, template: str, folder: Path) -> Path:
    """The HTML part of the demo's first `template` email, its headers shown above it."""
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
        if template not in str(message["X-Sheetflow-Key"]):
            continue
        part = message.get_body(("html",))
        if part is None:
            raise SystemExit(f"{path} has no HTML part")
        lines = [f"{name}: {message[name]}" for name in ("From", "To", "Reply-To") if message[name]]
        header = (
            '<p style="font-family:Arial;font-size:12px;color:#555555">'
            + "<br>".join(escape(line) for line in lines)
            + f"<br><b>{escape(str(message['Subject']))}</b></p><hr>"
        )
        html = re.sub(r"(<body[^>]*>)", lambda m, h=header: m.group(1) + h, str(part.get_content()))
        target = folder / f"email-{template}.html"
        target.write_text(html, encoding="utf-8")
        return target
    raise SystemExit(f"the demo sent no {template} email")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--out", type=Path, default=Path("docs/img"))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="sheetflow-shots-") as temp:
        root = Path(temp)
        with (root / "demo.log").open("w", encoding="utf-8") as log:
            play(root / "demo", Console(file=log, width=100))
        profile = root / "profile"
        book_pdf = to_pdf(root / "demo" / "sheetflow.xlsx", root, profile)
        all_pages = pages(book_pdf)
        invoices = find_page(all_pages, "Supplier", "Signer", "Status")
        snapshot(
            book_pdf, invoices, all_pages[invoices - 1], args.out / "invoices.png", 12, "Note", 200
        )
        report = find_page(all_pages, "submitted", "Median")
        snapshot(book_pdf, report, all_pages[report - 1], args.out / "report.png", 250)
        html = email_html(root / "demo" / "outbox", "supplier_in_payment", root)
        mail_pdf = to_pdf(html, root, profile)
        mail_pages = pages(mail_pdf)
        snapshot(mail_pdf, 1, mail_pages[0], args.out / "email.png")
    for name in ("invoices.png", "report.png", "email.png"):
        print(args.out / name)


if __name__ == "__main__":
    sys.exit(main())
