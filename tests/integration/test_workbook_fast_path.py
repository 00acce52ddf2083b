"""The workbook's fast write path must give the same book as openpyxl's full load and save.

The differential cases live in bench/check_workbook_fast.py (`make bench` runs them first);
here they guard every change to the fast path, on our own book and on one LibreOffice saved.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench.check_workbook_fast import CASES, check


def test_fast_path_writes_what_openpyxl_writes() -> None:
    lines: list[str] = []
    assert check(lines.append), "\n".join(lines)
    assert len([line for line in lines if line.strip().startswith("same:")]) == len(CASES)


def test_fast_path_on_a_book_libreoffice_saved() -> None:
    if shutil.which("soffice") is None:
        message = "LibreOffice (soffice) is not on PATH; .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    lines: list[str] = []
    assert check(lines.append, libreoffice=True), "\n".join(lines)
