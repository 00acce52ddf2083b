"""The command line speaks plainly: one-line errors naming the file or value and the cause."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.e2e.cli import SHEETFLOW, init, run


def one_error_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: "), lines[0]
    assert "unexpected" not in lines[0]
    assert "Traceback" not in result.stderr
    return lines[0]


def test_version_prints_the_package_version() -> None:
    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == "sheetflow 0.1.0"


@pytest.mark.parametrize("command", ["init", "tick", "run", "report", "demo", "diagram"])
def test_help_names_what_options_take_instead_of_python_types(command: str) -> None:
    result = run(command, "--help")
    assert result.returncode == 0
    for python_type in ("<bool>", "<str>", "<float>", "<path>"):
        assert python_type not in result.stdout


def test_tick_help_shows_placeholders_for_values() -> None:
    shown = run("tick", "--help").stdout
    for placeholder in ("--book PATH", "--mail TARGET", "--state PATH", "--now TIME"):
        assert placeholder in shown


def test_user_text_is_never_turned_into_emoji_or_markup() -> None:
    line = one_error_line(run("tick", "--book", "gsheet:abc:smile:[bold]x", "--mail", "x"))
    assert "gsheet:abc:smile:[bold]x" in line
    assert "😄" not in line


def test_an_unknown_locale_is_one_line_naming_it() -> None:
    assert one_error_line(run("diagram", "--locale", "de")) == (
        "error: --locale 'de' is not a known locale: use en or ru"
    )
    assert "'fr'" in one_error_line(run("init", "--book", "x.xlsx", "--locale", "fr"))


def test_a_mail_target_that_is_no_sender_is_refused_and_creates_nothing(
    tmp_path: Path,
) -> None:
    book = tmp_path / "book.xlsx"
    init(book)
    before = sorted(p.name for p in tmp_path.iterdir())
    line = one_error_line(
        subprocess.run(
            [str(SHEETFLOW), "tick", "--book", str(book), "--mail", "garbage"],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
    )
    assert "'garbage' is not a mail sender: use outbox:FOLDER" in line
    assert not (tmp_path / "garbage").exists()
    assert set(before) <= {p.name for p in tmp_path.iterdir()}


def test_a_bad_state_path_names_the_file_and_the_cause(tmp_path: Path) -> None:
    book = tmp_path / "book.xlsx"
    init(book)
    missing = tmp_path / "nowhere" / "state.sqlite"
    line = one_error_line(run("tick", "--book", str(book), "--state", str(missing)))
    assert line == f"error: state file {missing}: the folder {missing.parent} does not exist"
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("shopping list\n" * 100)
    line = one_error_line(run("tick", "--book", str(book), "--state", str(not_sqlite)))
    assert line.startswith(f"error: state file {not_sqlite}: it is not a sheetflow state file")
    assert one_error_line(run("tick", "--book", str(book), "--state", str(tmp_path))).endswith(
        "it is a folder, not a file"
    )


def make_read_only(folder: Path, read_only: bool) -> None:
    """chmod for a user; root ignores modes, so there the folder is made immutable (chattr)."""
    if os.geteuid() != 0:
        folder.chmod(0o555 if read_only else 0o755)
        return
    subprocess.run(["chattr", "+i" if read_only else "-i", str(folder)], check=True)


@pytest.fixture
def read_only_folder(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "books"
    folder.mkdir()
    init(folder / "book.xlsx")
    make_read_only(folder, True)
    try:
        yield folder
    finally:
        make_read_only(folder, False)


def test_a_read_only_folder_is_named_in_one_line(read_only_folder: Path) -> None:
    book = read_only_folder / "book.xlsx"
    line = one_error_line(run("tick", "--book", str(book)))
    state = read_only_folder / "book.state.sqlite"
    assert line == (
        f"error: state file {state}: the folder {read_only_folder} is read-only"
        " (sheetflow keeps its state there; use --state)"
    )
    line = one_error_line(
        run("tick", "--book", str(book), "--state", str(book.parent.parent / "s"))
    )
    assert line == f"error: cannot write {book}: the folder {read_only_folder} is read-only"
    new_book = read_only_folder / "new.xlsx"
    line = one_error_line(run("init", "--book", str(new_book)))
    assert line == f"error: cannot write {new_book}: the folder {read_only_folder} is read-only"
