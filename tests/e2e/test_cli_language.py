"""The CLI speaks the book's language: a Russian book gets Russian output, an English one English.

Driven as a person drives it: `sheetflow init`, edits in the workbook, `sheetflow tick` and
`sheetflow run` in their own processes. Only what is said before any book is known (a bad
flag, a missing file) stays English.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import Locale, load_schema
from tests.builders import typed_invoice
from tests.e2e.cli import init, run, run_until_ctrl_c

SCHEMA = load_schema()
PEOPLE = {
    "en": [("Maria Lopez", "manager", "Yes"), ("Dmitry Volkov", "director", "Yes")],
    "ru": [("Мария Лопес", "менеджер", "Да"), ("Дмитрий Волков", "директор", "Да")],
}
# Words of the English output that must not appear in a Russian book's output.
ENGLISH = re.compile(
    r"\b(tick|done|idle|record|from|to|Settings|row|conflict|skipped|nothing|written|"
    r"stopping|stopped|error|state|book)\b"
)


def make_book(tmp_path: Path, locale: Locale) -> Path:
    path = init(tmp_path / "sheetflow.xlsx", "--locale", locale)
    editor = WorkbookEditor(path, SCHEMA, locale)
    for number, (name, role, active) in enumerate(PEOPLE[locale]):
        email = ("maria", "dmitry")[number] + "@example.com"
        editor.add_row("people", {"name": name, "email": email, "role": role, "active": active})
    manager, signer = PEOPLE[locale][0][0], PEOPLE[locale][1][0]
    typed = typed_invoice("A-17", manager, supplier_email="b@acme.example", amount="1 234,50")
    editor.add_row("invoices", {**typed, "signer": signer})
    return path


def tick(book: Path, *more: str) -> subprocess.CompletedProcess[str]:
    return run("tick", "--book", str(book), *more)


def joined(text: str) -> str:
    return " ".join(text.split())


def test_a_russian_book_gets_every_tick_line_in_russian(tmp_path: Path) -> None:
    book = make_book(tmp_path, "ru")

    first = tick(book)
    assert first.returncode == 0, first.stderr
    out = joined(first.stdout)
    assert out.startswith("запуск: готово")
    for word in ("запись", "было", "стало", "INV-000001", "Ожидает решения"):
        assert word in out
    assert "Настройки: не заполнен «Отправитель», поэтому письма уходят с адреса" in out
    assert not ENGLISH.search(first.stdout), first.stdout

    idle = tick(book)
    assert joined(idle.stdout) == "запуск: без изменений: в книге ничего не менялось"

    WorkbookEditor(book, SCHEMA, "ru").set("invoices", "INV-000001", {"status": "Закрыт"})
    restored = tick(book)
    assert "⚠ конфликт" in restored.stdout
    assert "Отправитель" not in restored.stdout, "a Settings problem is said once"
    assert not ENGLISH.search(restored.stdout), restored.stdout

    lock = book.with_name(f".~lock.{book.name}#")
    lock.write_text("someone,host,2026")
    try:
        busy = joined(tick(book).stdout)
    finally:
        lock.unlink()
    assert busy.startswith("запуск: ничего не записано: книга открыта в LibreOffice")


def test_an_error_after_the_book_is_read_is_one_russian_line(tmp_path: Path) -> None:
    book = make_book(tmp_path, "ru")
    assert tick(book).returncode == 0
    result = tick(book, "--state", str(tmp_path / "elsewhere.sqlite"))
    assert result.returncode == 1
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith("ошибка: в этой книге уже есть счета с номерами, но её состояния")
    assert "sheetflow adopt --book" in line


def printed_until_ctrl_c(book: Path) -> str:
    """What `sheetflow run` printed before Ctrl+C stopped it, cleanly."""
    returncode, out, err = run_until_ctrl_c(book)
    assert returncode == 0, err
    return out


@pytest.mark.parametrize(
    ("locale", "stopping", "stopped"),
    [
        ("ru", "остановка после этого запуска…", "остановлено"),
        ("en", "stopping after this tick…", "stopped"),
    ],
)
def test_run_says_its_ticks_and_its_stop_in_the_books_language(
    tmp_path: Path, locale: Locale, stopping: str, stopped: str
) -> None:
    out = printed_until_ctrl_c(make_book(tmp_path, locale))
    assert stopping in out
    assert out.strip().endswith(stopped)
    if locale == "ru":
        assert ": готово" in out  # the first tick's headline
        assert "запуск каждые 1 с; остановить — Ctrl-C" in " ".join(out.split())
        assert not ENGLISH.search(out.replace(str(tmp_path), "")), out
    else:
        assert "every 1 s; Ctrl-C to stop" in out


def test_an_english_book_gets_english_output(tmp_path: Path) -> None:
    book = make_book(tmp_path, "en")
    out = joined(tick(book).stdout)
    assert out.startswith("tick: done")
    for words in ("record from to", "Awaiting decision", "Settings: Sender is empty"):
        assert words in out
    assert not re.search("[а-яё]", out, re.IGNORECASE), out
    assert joined(tick(book).stdout) == "tick: idle: nothing changed"


def test_report_and_adopt_speak_russian_to_a_russian_book(tmp_path: Path) -> None:
    book = make_book(tmp_path, "ru")
    assert tick(book).returncode == 0
    report = run("report", "--book", str(book), "--month", "2026-11")
    assert report.returncode == 0, report.stderr
    assert f"записано на вкладку «Отчёт 2026-11» книги {book}" in joined(report.stdout)

    adopted = run("adopt", "--book", str(book), "--state", str(tmp_path / "new.sqlite"))
    assert adopted.returncode == 0, adopted.stderr
    assert joined(adopted.stdout).startswith(f"книга {book.name} принята как есть: ")
    assert not ENGLISH.search(adopted.stdout.replace(book.name, "")), adopted.stdout
