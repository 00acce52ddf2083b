"""GmailSender through the real googleapiclient against the Gmail test double."""

from __future__ import annotations

import json
import traceback
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from google.auth import iam
from google.oauth2 import service_account
from googleapiclient.discovery import build
from googleapiclient.errors import HttpError

from functions.adapters.mail import gmail as mail_gmail
from functions.adapters.mail.factory import sender_from_url
from functions.adapters.mail.gmail import (
    READ_SCOPE,
    SEND_SCOPE,
    GmailSender,
    gmail_sender_from_credentials,
)
from functions.adapters.sqlite.state import SqliteState
from functions.errors import ConfigError, MailError
from functions.model import EmailIntent, Recipient, RenderedEmail
from functions.notify import EmailRenderer
from functions.schema import load_schema
from functions.tick.engine import Engine, TickReport
from tests.fakes import FakeBook
from tests.google_double.gmail import GmailDouble

SEND = "gmail.users.messages.send"
LIST = "gmail.users.messages.list"
GET = "gmail.users.messages.get"
ROBOT = "robot@acme.example"
ACCOUNT = "sheetflow@demo-project.iam.gserviceaccount.com"


class Killed(BaseException):
    """The process dies (SIGKILL, instance recycled) in the middle of a request."""


def rendered(key: str = "invoices:INV-000042:signer_request:r1:dana@example.com") -> RenderedEmail:
    invoice = dict.fromkeys(
        (
            "id manager supplier supplier_email invoice_date currency invoice_file signer "
            "decision comment accountant paid_on closing_docs status"
        ).split(),
        "x",
    )
    invoice.update(invoice_no="NW-7781", amount="1 234.50", supplier="Northwind Ltd")
    intent = EmailIntent(
        key=key,
        template="signer_request",
        to=(Recipient("Дана Директор", "dana@example.com"),),
        context={"company": "Acme", "recipient_name": "Dana", "invoice": invoice},
        record="INV-000042",
    )
    return EmailRenderer().render(
        intent,
        locale="ru",
        sender=f"Acme Robot <{ROBOT}>",
        sent_at=datetime(2024, 5, 1, 12, 30, tzinfo=UTC),
    )


@pytest.fixture
def double() -> GmailDouble:
    return GmailDouble(ROBOT)


@pytest.fixture
def sleeps() -> list[float]:
    return []


def service_for(double: GmailDouble) -> Any:
    return build("gmail", "v1", http=double, static_discovery=True, cache_discovery=False)


@pytest.fixture
def sender(double: GmailDouble, sleeps: list[float]) -> GmailSender:
    return GmailSender(service_for(double), sleep=sleeps.append)


# -- sending ---------------------------------------------------------------------------------


def test_an_email_reaches_gmail_as_a_valid_raw_message(
    double: GmailDouble, sender: GmailSender
) -> None:
    mail = rendered()

    sender.send(mail)

    [stored] = double.sent
    received = stored.received
    assert received["Subject"] == mail.subject
    assert "NW-7781" in received["Subject"]
    assert received["To"].addresses[0].addr_spec == "dana@example.com"
    assert received["To"].addresses[0].display_name == "Дана Директор"
    assert received["Message-ID"] == mail.message_id
    assert received["X-Sheetflow-Key"] == mail.key
    assert stored.received_raw == mail.raw
    assert double.count(SEND) == 1
    assert double.count() == 1


@pytest.mark.parametrize("rewrite", [True, False], ids=["new-message-id", "kept-message-id"])
def test_was_sent_finds_a_sent_email_whatever_message_id_gmail_gave_it(
    sleeps: list[float], rewrite: bool
) -> None:
    double = GmailDouble(ROBOT, rewrite_message_id=rewrite)
    sender = GmailSender(service_for(double), sleep=sleeps.append)
    mail, other = rendered(), rendered("invoices:INV-000043:signer_request:r1:dana@example.com")

    sender.send(mail)

    assert sender.was_sent(mail) is True
    assert sender.was_sent(other) is False
    assert (double.sent[0].stored["Message-ID"] != mail.message_id) is rewrite


def test_was_sent_cannot_tell_when_gmail_keeps_failing(
    double: GmailDouble, sender: GmailSender
) -> None:
    double.fail_next(10, status=503)

    assert sender.was_sent(rendered()) is None
    assert double.count(LIST) == sender.attempts


def test_a_rate_limited_send_is_retried_with_backoff(
    double: GmailDouble, sender: GmailSender, sleeps: list[float]
) -> None:
    double.fail_next(2, status=429, method=SEND)

    sender.send(rendered())

    assert double.count(SEND) == 3
    assert len(double.sent) == 1
    assert len(sleeps) == 2
    assert all(0 <= s <= sender.max_wait for s in sleeps)
    assert double.count(LIST) == 0  # a 429 was refused before sending: nothing to look up


def test_a_retry_waits_at_least_as_long_as_retry_after_says(
    double: GmailDouble, sender: GmailSender, sleeps: list[float]
) -> None:
    double.fail_next(1, status=429, method=SEND, retry_after=3)

    sender.send(rendered())

    assert sleeps[0] >= 3


def test_a_persistent_server_error_becomes_a_readable_mail_error(
    double: GmailDouble, sender: GmailSender, sleeps: list[float]
) -> None:
    double.fail_next(100, status=500, method=SEND)
    mail = rendered()

    with pytest.raises(MailError) as caught:
        sender.send(mail)

    assert str(caught.value) == (
        f"could not send email {mail.subject!r} to dana@example.com: "
        "Gmail answered 500 Backend Error (Gmail API as me)"
    )
    assert isinstance(caught.value.__cause__, HttpError)
    assert double.count(SEND) == sender.attempts
    assert len(sleeps) == sender.attempts - 1
    assert sum(sleeps) <= sender.max_wait * (sender.attempts - 1)
    assert double.sent == []


def test_a_send_that_failed_after_gmail_sent_it_is_not_sent_again(
    double: GmailDouble, sender: GmailSender
) -> None:
    double.crash_after_send(status=500)

    sender.send(rendered())

    assert double.count(SEND) == 1
    assert len(double.sent) == 1


def test_a_dropped_connection_is_retried_after_checking_sent(
    double: GmailDouble, sender: GmailSender
) -> None:
    double.raise_next(ConnectionResetError(104, "Connection reset by peer"), method=SEND)

    sender.send(rendered())

    assert double.count(SEND) == 2
    assert len(double.sent) == 1
    assert double.count(LIST) >= 1  # looked in Sent before sending again


def test_a_message_gmail_refuses_is_a_mail_error_without_retrying(
    double: GmailDouble, sender: GmailSender
) -> None:
    mail = rendered()
    no_recipients = replace(mail, raw=mail.raw.replace(b"\r\nTo:", b"\r\nX-Was-To:", 1))

    with pytest.raises(MailError, match="Gmail answered 400 Recipient address required"):
        sender.send(no_recipients)
    assert double.count(SEND) == 1


# -- exactly once through the engine's ledger ------------------------------------------------


def engine_for(state_path: Path, sender: GmailSender) -> tuple[Engine, SqliteState]:
    state = SqliteState(state_path)
    return Engine(FakeBook(), state, sender, EmailRenderer(), load_schema()), state


def queue(state_path: Path, mail: RenderedEmail) -> None:
    state = SqliteState(state_path)
    state.save_journal({}, [mail])
    state.commit_journal({}, {})
    state.close()


@pytest.mark.parametrize("rewrite", [True, False], ids=["new-message-id", "kept-message-id"])
def test_a_send_killed_after_gmail_sent_it_is_marked_sent_not_sent_twice(
    tmp_path: Path, rewrite: bool
) -> None:
    double = GmailDouble(ROBOT, rewrite_message_id=rewrite)
    sender = GmailSender(service_for(double), sleep=lambda _: None)
    mail, path = rendered(), tmp_path / "state.sqlite"
    queue(path, mail)
    double.crash_after_send(error=Killed("instance recycled"))
    engine, state = engine_for(path, sender)

    with pytest.raises(Killed):
        engine.deliver(TickReport())
    assert state.ledger_entry(mail.key) == (mail, "sending")
    state.close()

    engine, state = engine_for(path, sender)
    report = TickReport()
    engine.deliver(report)

    assert state.ledger_entry(mail.key) == (mail, "sent")
    assert double.count(SEND) == 1
    assert len(double.sent_with_key(mail.key)) == 1
    assert report.emails == []
    assert report.problems == []


def test_a_send_killed_before_reaching_gmail_is_sent_once_on_the_next_tick(
    double: GmailDouble, sender: GmailSender, tmp_path: Path
) -> None:
    mail, path = rendered(), tmp_path / "state.sqlite"
    queue(path, mail)
    double.raise_next(Killed("instance recycled"), method=SEND)
    engine, state = engine_for(path, sender)
    with pytest.raises(Killed):
        engine.deliver(TickReport())
    state.close()

    for _ in range(2):
        engine, state = engine_for(path, sender)
        engine.deliver(TickReport())

    assert state.ledger_entry(mail.key) == (mail, "sent")
    assert len(double.sent) == 1
    assert double.count(SEND) == 2  # the killed request and the one that went through


# -- the double is strict --------------------------------------------------------------------


def test_the_double_rejects_an_unknown_field_in_the_send_body(double: GmailDouble) -> None:
    messages = service_for(double).users().messages()

    with pytest.raises(HttpError) as caught:
        messages.send(userId="me", body={"raw": "VG86IGFAYi5j", "priority": "high"}).execute()

    assert caught.value.status_code == 400
    assert 'Unknown name "priority"' in caught.value.reason
    assert json.loads(caught.value.content)["error"]["status"] == "INVALID_ARGUMENT"
    assert double.sent == []


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"raw": 42}, "Invalid value at 'raw'"),
        ({"raw": "not base64!"}, "Invalid value at 'raw'"),
        ({"labelIds": "SENT", "raw": "VG86IGFAYi5j"}, "Invalid value at 'labelIds'"),
        ({"threadId": "t1"}, "'raw' is required"),
        ({"raw": "VG86IGFAYi5j", "payload": {"headerz": []}}, 'Unknown name "headerz" at'),
    ],
)
def test_the_double_checks_body_types_and_required_fields(
    double: GmailDouble, body: dict[str, Any], message: str
) -> None:
    with pytest.raises(HttpError, match=message) as caught:
        service_for(double).users().messages().send(userId="me", body=body).execute()
    assert caught.value.status_code == 400


def test_the_double_rejects_methods_it_does_not_implement(double: GmailDouble) -> None:
    users = service_for(double).users()

    with pytest.raises(HttpError, match="gmail.users.getProfile is not implemented") as caught:
        users.getProfile(userId="me").execute()
    assert caught.value.status_code == 404
    with pytest.raises(HttpError, match="gmail.users.messages.trash is not implemented"):
        users.messages().trash(userId="me", id="1").execute()
    with pytest.raises(HttpError, match="format=full is not implemented"):
        users.messages().get(userId="me", id="1").execute()
    with pytest.raises(HttpError, match="search term 'subject:x' is not implemented"):
        users.messages().list(userId="me", q="subject:x").execute()


def test_the_double_rejects_unknown_urls_and_query_parameters(double: GmailDouble) -> None:
    base = "https://gmail.googleapis.com/gmail/v1/users/me/messages"

    unknown_path, _ = double.request(base + "/send/now", "POST", b"{}", {})
    unknown_param, body = double.request(base + "?alt=json&sort=date", "GET")
    bad_type, _ = double.request(base + "?maxResults=many", "GET")
    repeated, _ = double.request(base + "?q=in:sent&q=to:x", "GET")
    wrong_method, _ = double.request(base + "/send", "PUT", b"{}", {})

    assert unknown_path.status == 404
    assert unknown_param.status == 400
    assert 'Unknown name "sort"' in json.loads(body)["error"]["message"]
    assert bad_type.status == 400
    assert repeated.status == 400
    assert wrong_method.status == 404
    assert double.count() == 5


# -- credentials, delegation and secrets -----------------------------------------------------


@pytest.fixture(scope="module")
def key_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


@pytest.fixture
def key_file(tmp_path: Path, key_pair: tuple[str, str]) -> Path:
    path = tmp_path / "sheetflow-key.json"
    info = {
        "type": "service_account",
        "project_id": "demo-project",
        "private_key_id": "k1",
        "private_key": key_pair[0],
        "client_email": ACCOUNT,
        "client_id": "100000000000000000001",
        "token_uri": "https://oauth2.googleapis.com/token",
    }
    path.write_text(json.dumps(info), encoding="utf-8")
    return path


@pytest.fixture
def authed(key_pair: tuple[str, str]) -> GmailDouble:
    double = GmailDouble(ROBOT, require_auth=True)
    double.add_service_account(ACCOUNT, "k1", key_pair[1])
    return double


def secrets_in(double: GmailDouble, key_pair: tuple[str, str]) -> list[str]:
    body = key_pair[0].splitlines()[1:-1]
    return [*double.tokens, *body, "ya29.", "Bearer", "assertion="]


def full_text(exc: BaseException) -> str:
    return "".join(traceback.format_exception(exc)) + repr(exc) + repr(exc.__cause__)


def test_the_service_account_acts_as_the_sender_with_two_scopes(
    authed: GmailDouble, key_file: Path
) -> None:
    sender = gmail_sender_from_credentials(ROBOT, str(key_file), http=authed)

    sender.send(rendered())

    [grant] = authed.grants
    assert grant["iss"] == ACCOUNT
    assert grant["sub"] == ROBOT
    assert grant["scope"].split() == [SEND_SCOPE, READ_SCOPE]
    assert authed.sent[0].mailbox == ROBOT
    assert sender.description == f"Gmail API as {ROBOT}"
    assert sender.was_sent(rendered()) is True
    assert len(authed.grants) == 1  # the token is reused


def test_no_token_or_key_appears_in_a_send_error(
    authed: GmailDouble, key_file: Path, key_pair: tuple[str, str]
) -> None:
    sender = gmail_sender_from_credentials(ROBOT, str(key_file), http=authed)
    sender._sleep = lambda _: None
    sender.send(rendered())  # a token is issued and used
    authed.fail_next(100, status=503)

    with pytest.raises(MailError) as caught:
        sender.send(rendered("invoices:INV-000044:closed:r1:dana@example.com"))

    text = full_text(caught.value)
    assert "Gmail answered 503" in text
    assert authed.tokens
    for secret in secrets_in(authed, key_pair):
        assert secret not in text
    assert sender.was_sent(rendered("x")) is None


def test_missing_delegation_is_explained_without_secrets(
    authed: GmailDouble, key_file: Path, key_pair: tuple[str, str]
) -> None:
    authed.deny_delegation(ACCOUNT)
    sender = gmail_sender_from_credentials(ROBOT, str(key_file), http=authed)

    with pytest.raises(MailError) as caught:
        sender.send(rendered())

    text = str(caught.value)
    assert "unauthorized_client" in text
    assert "Domain-wide delegation" in text
    assert authed.count(SEND) == 0
    for secret in secrets_in(authed, key_pair):
        assert secret not in full_text(caught.value)


def test_the_factory_builds_a_gmail_sender_from_the_credentials_variable(
    key_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOOGLE_APPLICATION_CREDENTIALS", str(key_file))

    sender = sender_from_url(f"gmail:{ROBOT}")

    assert isinstance(sender, GmailSender)
    assert sender.description == f"Gmail API as {ROBOT}"


@pytest.mark.parametrize("spec", ["gmail:", "gmail:robot", "gmail:a b@c.d"])
def test_a_gmail_spec_without_an_address_is_a_config_error(spec: str) -> None:
    with pytest.raises(ConfigError, match="gmail: needs the sender's address"):
        sender_from_url(spec)


def test_an_unreadable_key_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read Google credentials .*missing.json"):
        gmail_sender_from_credentials(ROBOT, str(tmp_path / "missing.json"))


def test_a_key_file_that_is_not_a_service_account_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "user.json"
    path.write_text(json.dumps({"type": "authorized_user", "refresh_token": "1//secret"}))

    with pytest.raises(ConfigError, match="is not a service account key") as caught:
        gmail_sender_from_credentials(ROBOT, str(path))
    assert "1//secret" not in str(caught.value)


@pytest.fixture
def no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.setenv("CLOUDSDK_CONFIG", str(tmp_path / "gcloud"))
    monkeypatch.setenv("NO_GCE_CHECK", "True")


@pytest.mark.usefixtures("no_credentials")
def test_no_credentials_at_all_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="no Google credentials for gmail:robot@acme.example"):
        sender_from_url(f"gmail:{ROBOT}")


class FunctionCredentials:
    """Stands in for Cloud Functions' metadata-server credentials (no key to sign with)."""

    universe_domain = "googleapis.com"

    def __init__(self) -> None:
        self.service_account_email = "default"
        self.refreshes = 0

    def refresh(self, request: Any) -> None:
        self.refreshes += 1
        self.service_account_email = ACCOUNT


def test_without_a_key_iam_signs_the_delegated_token_request() -> None:
    base = FunctionCredentials()

    credentials = mail_gmail._keyless(base, ROBOT, request=object())

    assert isinstance(credentials, service_account.Credentials)
    assert isinstance(credentials.signer, iam.Signer)
    assert credentials.service_account_email == ACCOUNT
    assert credentials._subject == ROBOT
    assert credentials._scopes == [SEND_SCOPE, READ_SCOPE]
    assert base.refreshes == 1
