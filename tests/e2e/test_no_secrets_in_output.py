"""No secret ever reaches a terminal, the workbook, the state or an email.

The CLI story is played with an SMTP password in SHEETFLOW_SMTP_PASSWORD, sending through a
real SMTP server on loopback that requires STARTTLS and a login (so the password is really
used), and with GOOGLE_APPLICATION_CREDENTIALS naming a fake service account key. Then the
things that go wrong are played too: a wrong password, a server that is down, a password put
in the URL, Gmail with the fake key. Every byte printed and every file left behind (the
workbook's cells, the Log, the SQLite state and its WAL, the outbox) is searched for the
secrets, also base64-encoded as an SMTP login would carry them.
"""

from __future__ import annotations

import base64
import datetime as dt
import ipaddress
import json
import ssl
import subprocess
import urllib.error
import urllib.request
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.builders import typed_invoice
from tests.cloud_function import cloud_function
from tests.e2e.cli import run
from tests.local_backend import PEOPLE, Edit, edit_book, new_book
from tests.smtp_server import Authenticator, RecordingHandler, free_port, running_smtp_server

ROOT = Path(__file__).resolve().parents[2]
USER = "robot@northwind.example"
PASSWORD = "Pw-7f3c9a1e-SMTP-SECRET-d41d8cd9"
WRONG_PASSWORD = "Pw-0b6e22aa-WRONG-SECRET-98f00b20"
KEY_MARK = "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcFAKEKEY4f1c2b7e"


def _variants(secret: str) -> list[bytes]:
    """The secret as text and the ways an SMTP login would encode it."""
    raw = secret.encode()
    return [
        raw,
        base64.b64encode(raw),
        base64.b64encode(b"\0" + USER.encode() + b"\0" + raw),
        secret[8:24].encode(),  # a distinctive middle part, in case the rest was cut
    ]


SECRETS = {
    s: _variants(s) for s in (PASSWORD, WRONG_PASSWORD, KEY_MARK, KEY_MARK.replace("FAKE", ""))
}


@pytest.fixture(scope="module")
def tls_files(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1, trusted by the CLI through SSL_CERT_FILE."""
    # google-auth depends on cryptography, so it is always there: no skip.
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    folder = tmp_path_factory.mktemp("tls")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


@pytest.fixture
def login_server(
    tls_files: tuple[Path, Path],
) -> Iterator[tuple[RecordingHandler, Authenticator, int]]:
    """An SMTP server that insists on STARTTLS, then on a login with USER and PASSWORD."""
    cert, key = tls_files
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    authenticator = Authenticator(USER, PASSWORD)
    with running_smtp_server(
        tls_context=context,
        require_starttls=True,
        auth_required=True,
        authenticator=authenticator,
    ) as (handler, port):
        yield handler, authenticator, port


@pytest.fixture
def key_file(tmp_path: Path) -> Path:
    path = tmp_path / "keys" / "service-account.json"
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "type": "service_account",
                "project_id": "northwind-sheets",
                "private_key_id": "0123456789abcdef",
                "private_key": (
                    f"-----BEGIN PRIVATE KEY-----\n{KEY_MARK}\n-----END PRIVATE KEY-----\n"
                ),
                "client_email": "sheetflow@northwind-sheets.iam.gserviceaccount.com",
                "client_id": "1234567890",
                "token_uri": "https://oauth2.googleapis.com/token",
            }
        )
    )
    return path


class Cli:
    """Runs `sheetflow` with the secrets in its environment and keeps everything it printed."""

    def __init__(self, env: dict[str, str]) -> None:
        self.env = env
        self.printed: list[str] = []

    def __call__(self, *args: str, **extra_env: str) -> subprocess.CompletedProcess[str]:
        result = run(*args, env={**self.env, **extra_env})
        self.printed += [result.stdout, result.stderr]
        return result


def leaks(data: bytes) -> list[str]:
    return [secret for secret, forms in SECRETS.items() if any(f in data for f in forms)]


def files_leaking(folder: Path) -> dict[str, list[str]]:
    """Every file under `folder` (each member of a zip, such as the .xlsx) that holds a secret."""
    found: dict[str, list[str]] = {}
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        if path.name == "service-account.json":
            continue  # the key file itself
        data = path.read_bytes()
        parts = {str(path): data}
        if zipfile.is_zipfile(path):
            with zipfile.ZipFile(path) as archive:
                parts |= {f"{path}!{n}": archive.read(n) for n in archive.namelist()}
        for name, content in parts.items():
            if secrets := leaks(content):
                found[name] = secrets
    return found


def test_no_secret_appears_in_any_output_log_state_or_email(
    tmp_path: Path,
    login_server: tuple[RecordingHandler, Authenticator, int],
    key_file: Path,
    tls_files: tuple[Path, Path],
) -> None:
    handler, authenticator, port = login_server
    cli = Cli(
        {
            "SHEETFLOW_SMTP_PASSWORD": PASSWORD,
            "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
            "SSL_CERT_FILE": str(tls_files[0]),
            "SHEETFLOW_MAIL": f"smtp+starttls://{USER.replace('@', '%40')}@127.0.0.1:{port}",
        }
    )
    book = new_book(tmp_path / "books")
    assert {p[0] for p in PEOPLE} >= {"Maria Lopez", "Dmitry Volkov", "Irina K"}
    invoice = typed_invoice("A-17", amount="1 234,50")
    story: list[list[Edit]] = [
        [("invoices", "new", invoice)],
        [("invoices", "INV-000001", {"decision": "Approve"})],
        [("invoices", "INV-000001", {"accountant": "Irina K"})],
        [("invoices", "INV-000001", {"accountant": "Sergey Popov"})],
        [("invoices", "INV-000001", {"paid_on": "28.11.2026"})],
    ]
    for minute, edits in enumerate(story):
        edit_book(book, edits)
        result = cli("tick", "--book", str(book), "--now", f"2026-11-28T09:{minute:02d}+01:00")
        assert result.returncode == 0, result.stderr
    assert (USER, True) in authenticator.attempts  # the password was really used
    assert len(handler.envelopes) == 5

    # A wrong password: the server refuses the login, the tick says so and retries later.
    edit_book(book, [("invoices", "new", {**invoice, "invoice_no": "B-18"})])
    wrong = cli(
        "tick", "--book", str(book), "--now", "2026-11-28T10:00+01:00", **_password(WRONG_PASSWORD)
    )
    assert wrong.returncode == 0, wrong.stderr
    assert "535" in wrong.stdout
    assert "will retry next tick" in wrong.stdout
    assert (USER, False) in authenticator.attempts

    # The mail server is down.
    down = f"smtp+starttls://{USER.replace('@', '%40')}@127.0.0.1:{free_port()}"
    refused = cli("tick", "--book", str(book), "--mail", down)
    assert "nothing is listening" in refused.stdout

    # The password typed into the URL: refused, and not repeated.
    in_url = f"smtps://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{port}"
    config = cli("tick", "--book", str(book), "--mail", in_url)
    assert config.returncode == 1
    assert "SHEETFLOW_SMTP_PASSWORD" in config.stderr

    # Gmail with the fake service account key.
    gmail = cli("tick", "--book", str(book), "--mail", "gmail:robot@northwind.example")
    assert gmail.returncode == 1
    assert "not a service account key" in gmail.stderr

    # The rest of the story, to the outbox; then a report, with the debug switch on.
    edit_book(book, [("invoices", "INV-000001", {"closing_docs": "https://files.example/w.pdf"})])
    outbox = cli("tick", "--book", str(book), "--mail", f"outbox:{tmp_path / 'outbox'}")
    assert outbox.returncode == 0, outbox.stderr
    assert len(list((tmp_path / "outbox").glob("*.eml"))) >= 2
    report = cli("report", "--book", str(book), "--month", "2026-11", SHEETFLOW_DEBUG="1")
    assert report.returncode == 0, report.stderr

    printed = "\n".join(cli.printed)
    assert "error" in printed  # the failures above were printed, and with them no secret
    assert leaks(printed.encode()) == []
    assert files_leaking(tmp_path) == {}
    assert leaks(b"".join(e.content for e in handler.envelopes)) == []
    assert files_leaking(tmp_path / "keys") == {}  # the scan skips only the key file itself


def _password(password: str) -> dict[str, str]:
    return {"SHEETFLOW_SMTP_PASSWORD": password}


def test_the_scan_finds_a_secret_wherever_it_is_written(tmp_path: Path) -> None:
    """The search above would see a leak: in plain text, in base64, inside the xlsx zip."""
    (tmp_path / "plain.log").write_text(f"login with {PASSWORD}")
    (tmp_path / "auth.txt").write_bytes(base64.b64encode(f"\0{USER}\0{PASSWORD}".encode()))
    book = new_book(tmp_path / "books", prepared_rows=20)
    edit_book(book, [("invoices", "new", {"comment": f"key {KEY_MARK}"})])
    found = files_leaking(tmp_path)
    assert found[str(tmp_path / "plain.log")] == [PASSWORD]
    assert found[str(tmp_path / "auth.txt")] == [PASSWORD]
    assert any(name.startswith(f"{book}!xl/") for name in found)


def post(url: str, printed: list[str]) -> tuple[int, dict[str, object]]:
    """Call the function as Cloud Scheduler does; its answer is output too."""
    request = urllib.request.Request(url, method="POST", data=b"")
    try:
        with urllib.request.urlopen(request, timeout=120) as response:
            status, raw = response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        status, raw = exc.code, exc.read().decode()
    printed.append(raw)
    return status, json.loads(raw)


def test_no_secret_appears_in_the_cloud_functions_logs_or_answers(
    tmp_path: Path,
    login_server: tuple[RecordingHandler, Authenticator, int],
    key_file: Path,
    tls_files: tuple[Path, Path],
) -> None:
    """The deployed path: the password comes from Secret Manager as SHEETFLOW_SMTP_PASSWORD,
    the functions log JSON lines to stdout for Cloud Logging and answer Scheduler in JSON."""
    handler, authenticator, port = login_server
    book = new_book(tmp_path / "books")
    invoice = typed_invoice("A-17", amount=1234.5)
    edit_book(book, [("invoices", "new", invoice)])
    smtp = f"smtp+starttls://{USER.replace('@', '%40')}@127.0.0.1:{port}"
    env = {
        "SHEETFLOW_BOOK": str(book),
        "SHEETFLOW_MAIL": smtp,
        "SHEETFLOW_SMTP_PASSWORD": PASSWORD,
        "SHEETFLOW_LOCK_WAIT_SECONDS": "0",
        "GOOGLE_APPLICATION_CREDENTIALS": str(key_file),
        "SSL_CERT_FILE": str(tls_files[0]),
    }
    printed: list[str] = []

    with cloud_function("invoice_flow", env, printed) as (url, _port):
        status, body = post(url, printed)
        assert (status, body["outcome"]) == (200, "done"), body
    assert (USER, True) in authenticator.attempts  # the password was really used
    assert len(handler.envelopes) == 1

    # A wrong password from Secret Manager: refused by the server, reported, retried later.
    edit_book(book, [("invoices", "INV-000001", {"decision": "Approve"})])
    wrong = {**env, "SHEETFLOW_SMTP_PASSWORD": WRONG_PASSWORD}
    with cloud_function("invoice_flow", wrong, printed) as (url, _port):
        status, body = post(url, printed)
        assert status == 200, body
        assert "535" in json.dumps(body)
    assert (USER, False) in authenticator.attempts

    # The password put into the mail URL: a configuration error, without repeating it.
    in_url = f"smtps://{USER.replace('@', '%40')}:{PASSWORD}@127.0.0.1:{port}"
    with cloud_function("invoice_flow", {**env, "SHEETFLOW_MAIL": in_url}, printed) as (url, _):
        status, body = post(url, printed)
        assert status == 500, body
        assert "SHEETFLOW_SMTP_PASSWORD" in str(body["error"])

    # Gmail with the fake service account key; then the monthly report.
    gmail = {**env, "SHEETFLOW_MAIL": "gmail:robot@northwind.example"}
    with cloud_function("deal_watch", gmail, printed) as (url, _port):
        status, body = post(url, printed)
        assert status == 500, body
    with cloud_function("monthly_report", env, printed) as (url, _port):
        status, body = post(url + "?month=2026-11", printed)
        assert status == 200, body

    logged = [line for text in printed for line in text.splitlines() if line.startswith("{")]
    assert any('"severity": "ERROR"' in line for line in logged), logged  # failures were logged
    assert len(logged) >= 5
    assert leaks("\n".join(printed).encode()) == []
    assert files_leaking(tmp_path) == {}
    assert leaks(b"".join(e.content for e in handler.envelopes)) == []
