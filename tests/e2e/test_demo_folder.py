"""`make demo` starts with an invoice dropped into the invoices folder."""

from __future__ import annotations

from io import StringIO
from pathlib import Path

from rich.console import Console

from functions.demo.story import FOLDER_FILE, play
from tests.local_backend import rows_by_header


def test_the_demo_starts_with_an_invoice_from_the_folder_that_ends_closed(tmp_path: Path) -> None:
    out = StringIO()
    play(tmp_path, Console(file=out, width=120))
    first = rows_by_header(tmp_path / "sheetflow.xlsx", "Invoices")[0]
    assert (first["ID"], first["Invoice file"], first["Manager"]) == (
        "INV-000001",
        FOLDER_FILE,
        "Maria Lopez",
    )
    assert (first["Supplier"], first["Invoice no."], first["Amount"]) == (
        "Acme Steel GmbH",
        "A-1017",
        1234.5,
    )
    assert first["Status"] == "Closed"
    assert "INV-000001: Acme A-1017.pdf → Read from the file: Supplier" in out.getvalue()
