"""The workbook's fast write path must give the same book as openpyxl's full load and save.

The differential cases live in bench/check_workbook_fast.py and check_workbook_scenario.py
(`make bench` runs them first); here they guard every change to the fast path, on our own
book and on one LibreOffice saved.
"""

from __future__ import annotations

import os
import shutil

import pytest

from bench.check_workbook_fast import CASES, check


def test_fast_path_writes_what_openpyxl_writes() -> None:
    """Every case (typed dates and amounts, queues, Lists, new rows, Settings, the bench's
    own first and busy ticks) gives the same cells, formats, fonts, fills, locks and
    comments on both paths, and the fast path takes each of them."""
    lines: list[str] = []
    assert check(lines.append), "\n".join(lines)
    same = [line for line in lines if line.strip().startswith("same:")]
    assert len(same) == len(CASES) + 1, "\n".join(lines)  # + the bench's busy tick


def test_fast_path_on_a_book_libreoffice_saved() -> None:
    if shutil.which("soffice") is None:
        message = "LibreOffice (soffice) is not on PATH; .ci/run installs it"
        if os.environ.get("CI") == "true":
            pytest.fail(message, pytrace=False)
        pytest.skip(message)
    lines: list[str] = []
    # The bench's own ticks (the scenario cases) start from our book, not LibreOffice's:
    # the test above runs them already.
    assert check(lines.append, libreoffice=True, scenario=False), "\n".join(lines)
    same = [line for line in lines if line.strip().startswith("same:")]
    assert len(same) == len(CASES), "\n".join(lines)
