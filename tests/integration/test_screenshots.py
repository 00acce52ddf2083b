"""`make screenshots` renders the README's pictures with LibreOffice and poppler."""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

ROOT = Path(__file__).parent.parent.parent
PICTURES = ("invoices.png", "report.png", "email.png")
INSTALL = (
    "apt-get install -y --no-install-recommends libreoffice-calc-nogui"
    " libreoffice-writer-nogui poppler-utils"
)


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


@pytest.fixture
def tools() -> None:
    missing = [t for t in ("soffice", "pdftoppm", "pdftotext", "make") if not shutil.which(t)]
    if missing:
        message = f"{', '.join(missing)} missing; install with: {INSTALL}"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


@pytest.mark.usefixtures("tools")
def test_make_screenshots_renders_the_workbook_the_report_and_an_email(tmp_path: Path) -> None:
    done = subprocess.run(
        ["make", "-s", "screenshots", f"SCREENSHOTS={tmp_path}"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )

    assert done.returncode == 0, done.stderr[-3000:]
    for name in PICTURES:
        width, height = png_size(tmp_path / name)
        assert width > 600, (name, width)
        assert 100 < height < width, (name, height)  # cropped to what is printed, not a page
    assert png_size(tmp_path / "report.png")[1] > 300  # the chart below the table


def test_the_readme_shows_the_pictures_the_target_makes() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in PICTURES:
        assert f"](docs/img/{name})" in readme
        assert (ROOT / "docs" / "img" / name).is_file()
