"""Settings problems said once, where people look: a Note beside the value, one output line."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from functions.adapters.sqlite.state import SqliteState
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine, TickReport
from tests.builders import NOW, invoice
from tests.fakes import FakeBook, FakeMail

PEOPLE = [
    ("Maria Lopez", "maria@example.com", "manager", "Yes"),
    ("Dmitry Volkov", "dmitry@example.com", "director", "Yes"),
]
GOOD = {"Sender": "flow@example.com", "Currency": "EUR", "Time zone": "Europe/Berlin"}


def book_with(settings: dict[str, str], locale: str = "en") -> FakeBook:
    book = FakeBook(PEOPLE)
    book.locale = locale
    book.tabs["settings"] = [{"key": k, "value": v} for k, v in settings.items()]
    return book


def engine_for(book: FakeBook, tmp_path: Path) -> Engine:
    state = SqliteState(tmp_path / "state.sqlite")
    return Engine(book, state, FakeMail(), EmailRenderer(), load_schema())


def settings_row(book: FakeBook, key: str) -> dict[str, object]:
    return next(r for r in book.tabs["settings"] if r["key"] == key)


def about(report: TickReport, word: str) -> list[str]:
    return [p for p in report.problems if word in p]


def later(book: FakeBook, minutes: int) -> None:
    """Someone edits the book, so the next tick reads it again."""
    book.tabs["invoices"].append(invoice(id=None, invoice_no=f"N-{minutes}"))


def test_a_bad_sender_is_said_once_beside_its_value_and_the_note_goes_when_fixed(
    tmp_path: Path,
) -> None:
    book = book_with({**GOOD, "Sender": "billing at acme"})
    engine = engine_for(book, tmp_path)

    first = engine.tick(NOW)
    (said,) = about(first, "Sender")
    assert "“billing at acme” is not an email address" in said
    assert "sheetflow@localhost" in said, "the output says which default is used meanwhile"
    assert settings_row(book, "Sender")["note"] == said
    assert settings_row(book, "Sender")["value"] == "billing at acme", "the typed value stays"

    later(book, 1)
    second = engine.tick(NOW + timedelta(minutes=1))
    assert about(second, "Sender") == [], "said once, not on every tick"
    assert settings_row(book, "Sender")["note"] == said

    settings_row(book, "Sender")["value"] = "billing@acme.example"
    third = engine.tick(NOW + timedelta(minutes=2))
    assert about(third, "Sender") == ["Settings: Sender is fine now"]
    assert settings_row(book, "Sender")["note"] is None


def test_a_changed_problem_is_said_again_and_its_note_follows(tmp_path: Path) -> None:
    book = book_with({**GOOD, "Currency": "Euro"})
    engine = engine_for(book, tmp_path)
    (first,) = about(engine.tick(NOW), "Currency")
    assert "“Euro” is not a currency code" in first
    assert "EUR" in first

    settings_row(book, "Currency")["value"] = "Dollars"
    (second,) = about(engine.tick(NOW + timedelta(minutes=1)), "Currency")
    assert "“Dollars”" in second
    assert settings_row(book, "Currency")["note"] == second


def test_a_deleted_setting_comes_back_as_a_row_with_its_note(tmp_path: Path) -> None:
    book = book_with({"Sender": "flow@example.com", "Currency": "EUR"})
    report = engine_for(book, tmp_path).tick(NOW)
    (said,) = about(report, "Time zone")
    assert "UTC" in said
    row = settings_row(book, "Time zone")
    assert row["note"] == said
    assert not row.get("value")


def test_a_persons_text_in_the_note_column_is_never_replaced(tmp_path: Path) -> None:
    book = book_with({**GOOD, "Reply to": "the boss"})
    settings_row(book, "Reply to")["note"] = "ask Maria before changing"
    report = engine_for(book, tmp_path).tick(NOW)
    (said,) = about(report, "Reply to")
    assert "manager" in said, "the output still says it"
    assert settings_row(book, "Reply to")["note"] == "ask Maria before changing"


def test_a_russian_book_is_told_in_russian(tmp_path: Path) -> None:
    book = book_with({"Отправитель": "", "Валюта": "рубли", "Часовой пояс": "Europe/Moscow"}, "ru")
    report = engine_for(book, tmp_path).tick(NOW)
    (sender,) = about(report, "«Отправитель»")
    (currency,) = about(report, "«Валюта»")
    assert "не заполнен" in sender
    assert "«рубли» — не код валюты" in currency
    assert "RUB" in currency
    assert settings_row(book, "Валюта")["note"] == currency


def test_a_bad_deal_alert_recipient_is_a_note_on_its_setting(tmp_path: Path) -> None:
    book = book_with({**GOOD, "Deal alerts to": "Dmitry Volkov, the board"})
    engine = engine_for(book, tmp_path)
    (said,) = about(engine.tick(NOW), "the board")
    assert settings_row(book, "Deal alerts to")["note"] == said
    later(book, 1)
    assert about(engine.tick(NOW + timedelta(minutes=1)), "the board") == []


def test_good_settings_say_nothing_and_write_no_note(tmp_path: Path) -> None:
    book = book_with(GOOD)
    report = engine_for(book, tmp_path).tick(NOW)
    assert about(report, "Settings") == []
    assert all(r.get("note") is None for r in book.tabs["settings"])
