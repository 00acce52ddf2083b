"""The Cloud Functions say a Settings problem once, in the book's language, and note it there."""

from __future__ import annotations

from pathlib import Path

import pytest

from functions.adapters.workbook.book import create_workbook
from functions.adapters.workbook.editor import WorkbookEditor
from functions.schema import load_schema
from tests.integration.test_cloud_functions import call

SCHEMA = load_schema()


@pytest.fixture
def russian_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "книга.xlsx"
    people = [("Мария Лопес", "maria@example.com", "менеджер", True)]
    create_workbook(path, SCHEMA, "ru", people=people, settings={"currency": "рубли"})
    monkeypatch.setenv("SHEETFLOW_BOOK", str(path))
    monkeypatch.setenv("SHEETFLOW_MAIL", f"outbox:{tmp_path / 'outbox'}")
    monkeypatch.setenv("SHEETFLOW_LOCK_WAIT_SECONDS", "0")
    return path


def test_both_functions_say_a_settings_problem_once_and_note_it_in_settings(
    russian_book: Path,
) -> None:
    body, status = call("invoice_flow")
    assert status == 200
    problems = body["problems"]
    assert any(p.startswith("Настройки: не заполнен «Отправитель»") for p in problems)
    (currency,) = [p for p in problems if "«рубли» — не код валюты" in p]
    assert "RUB" in currency, "what is used meanwhile"

    edit = WorkbookEditor(russian_book, SCHEMA, "ru")
    assert edit.row("settings", "Валюта")["note"] == currency
    edit.add_row("invoices", {"supplier": "Acme"})
    again, _ = call("deal_watch")
    assert not any("Настройки" in p for p in again.get("problems", []))
    later, _ = call("invoice_flow")
    assert not any("Настройки" in p for p in later.get("problems", []))
