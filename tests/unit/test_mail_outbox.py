"""The outbox folder sender: one .eml per email key, written atomically, never twice."""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from pathlib import Path

import pytest

from functions.adapters.mail.factory import sender_from_url
from functions.adapters.mail.outbox import OutboxSender
from functions.errors import ConfigError, MailError
from functions.model import EmailIntent, Recipient, RenderedEmail
from functions.notify import EmailRenderer

SENT_AT = datetime(2024, 5, 1, 12, 30, 5, tzinfo=UTC)


def rendered(
    key: str = "invoices:INV-000042:manager_paid:1", sent_at: datetime = SENT_AT
) -> RenderedEmail:
    invoice = {
        name: f"{name} value"
        for name in (
            "id manager supplier supplier_email invoice_date currency invoice_file signer "
            "decision comment accountant paid_on closing_docs status"
        ).split()
    }
    invoice.update(invoice_no="NW-7781", amount="1 234.50")
    intent = EmailIntent(
        key=key,
        template="manager_paid",
        to=(Recipient("Mike Manager", "mike@example.com"),),
        context={"company": "Acme", "recipient_name": "Mike Manager", "invoice": invoice},
        record="INV-000042",
    )
    return EmailRenderer().render(intent, locale="en", sender="robot@acme.example", sent_at=sent_at)


def eml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml"))


def test_sending_writes_one_parseable_eml_named_by_date_and_key(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    mail = rendered()

    outbox.send(mail)

    [path] = eml_files(tmp_path / "outbox")
    assert path.name.startswith("20240501-123005-invoices-inv-000042-manager-paid-1-")
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["Subject"] == mail.subject
    assert message["Message-ID"] == mail.message_id
    assert path.read_bytes() == mail.raw


def test_sending_the_same_email_twice_writes_one_file_and_rewrites_nothing(
    tmp_path: Path,
) -> None:
    outbox = OutboxSender(tmp_path)
    mail = rendered()
    outbox.send(mail)
    [path] = eml_files(tmp_path)
    path.write_bytes(b"touched by a person")

    outbox.send(mail)

    assert eml_files(tmp_path) == [path]
    assert path.read_bytes() == b"touched by a person"


def test_the_same_key_rendered_at_another_time_is_still_written_once(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)

    outbox.send(rendered(sent_at=SENT_AT))
    outbox.send(rendered(sent_at=datetime(2024, 6, 1, tzinfo=UTC)))

    assert len(eml_files(tmp_path)) == 1


def test_different_keys_write_files_that_sort_by_date(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)
    outbox.send(rendered("b-later", datetime(2024, 5, 2, tzinfo=UTC)))
    outbox.send(rendered("a-earlier", datetime(2024, 5, 1, tzinfo=UTC)))

    names = [p.name for p in eml_files(tmp_path)]

    assert len(names) == 2
    assert "a-earlier" in names[0]
    assert "b-later" in names[1]


def test_keys_that_slug_alike_still_get_their_own_files(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path)

    outbox.send(rendered("invoices:INV-1"))
    outbox.send(rendered("invoices/INV 1"))

    assert len(eml_files(tmp_path)) == 2


def test_was_sent_tells_whether_the_file_exists(tmp_path: Path) -> None:
    outbox = OutboxSender(tmp_path / "outbox")
    mail = rendered()

    assert outbox.was_sent(mail) is False
    assert not (tmp_path / "outbox").exists(), "asking must not create the folder"
    outbox.send(mail)
    assert outbox.was_sent(mail) is True
    assert outbox.was_sent(rendered("another key")) is False


def test_sending_leaves_no_temporary_files(tmp_path: Path) -> None:
    OutboxSender(tmp_path).send(rendered())

    assert [p.suffix for p in tmp_path.iterdir()] == [".eml"]


def test_a_folder_that_cannot_be_created_gives_a_mail_error(tmp_path: Path) -> None:
    blocker = tmp_path / "outbox"
    blocker.write_text("a file, not a folder")

    with pytest.raises(MailError, match="could not write email"):
        OutboxSender(blocker).send(rendered())


def test_description_names_the_folder(tmp_path: Path) -> None:
    assert str(tmp_path) in OutboxSender(tmp_path).description


@pytest.mark.parametrize("spec", ["outbox:{dir}", "  outbox: {dir} "])
def test_sender_from_url_gives_an_outbox_for_a_folder(spec: str, tmp_path: Path) -> None:
    sender = sender_from_url(spec.format(dir=tmp_path / "mail"))

    assert isinstance(sender, OutboxSender)
    assert sender.folder == tmp_path / "mail"


@pytest.mark.parametrize("spec", ["garbage", "{dir}", "smpt.example.com"])
def test_sender_from_url_refuses_a_bare_word_instead_of_creating_a_folder(
    spec: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="is not a mail sender: use outbox:FOLDER"):
        sender_from_url(spec.format(dir=tmp_path / "mail"))
    assert list(tmp_path.iterdir()) == []


def test_sender_from_url_refuses_a_file_as_outbox(tmp_path: Path) -> None:
    (tmp_path / "mail").write_text("")

    with pytest.raises(ConfigError, match="is a file"):
        sender_from_url(f"outbox:{tmp_path / 'mail'}")


@pytest.mark.parametrize("spec", ["", "   ", "outbox:", "ftp://user:hunter2@host/"])
def test_sender_from_url_explains_what_it_accepts(spec: str) -> None:
    with pytest.raises(ConfigError, match="outbox:FOLDER") as caught:
        sender_from_url(spec)

    assert "hunter2" not in str(caught.value)
