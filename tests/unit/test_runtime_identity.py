"""The account the ticks run as is a real service account, known before the first write."""

from __future__ import annotations

import json
from typing import Any

import pytest
from google.auth import compute_engine, impersonated_credentials
from google.oauth2 import credentials as user_credentials

from functions.adapters.google_calls import api_root
from functions.errors import ConfigError
from functions.wiring.google import is_service_account, runtime_account

RUNTIME = "sheetflow-runtime@acme-books.iam.gserviceaccount.com"


class MetadataServer:
    """The Compute Engine metadata server as google-auth's transport sees it."""

    def __init__(self, email: str = RUNTIME) -> None:
        self.email = email
        self.urls: list[str] = []

    def __call__(self, url: str, method: str = "GET", **kwargs: Any) -> Any:
        self.urls.append(url)
        if "/token" in url:
            body: dict[str, Any] = {"access_token": "ya29.x", "expires_in": 3600}
        else:
            body = {
                "email": self.email,
                "scopes": ["https://www.googleapis.com/auth/cloud-platform"],
            }
        return _Response(body)


class _Response:
    status = 200
    headers = {"content-type": "application/json", "metadata-flavor": "Google"}

    def __init__(self, body: dict[str, Any]) -> None:
        self.data = json.dumps(body).encode()


def test_cloud_function_credentials_say_default_until_the_metadata_server_names_the_account() -> (
    None
):
    creds = compute_engine.Credentials()
    assert creds.service_account_email == "default"
    server = MetadataServer()
    assert runtime_account(creds, "default", None, server) == RUNTIME
    assert any("service-accounts/default" in url for url in server.urls)


def test_the_account_deploy_sh_declares_saves_asking_the_metadata_server() -> None:
    server = MetadataServer()
    assert runtime_account(compute_engine.Credentials(), "default", RUNTIME, server) == RUNTIME
    assert server.urls == []


def test_a_person_s_credentials_are_refused_with_the_way_to_impersonate() -> None:
    person = user_credentials.Credentials(token="ya29.person")
    with pytest.raises(ConfigError, match="not a service account.*impersonate-service-account"):
        runtime_account(person, "", None)


def test_impersonated_credentials_run_as_the_service_account() -> None:
    source = user_credentials.Credentials(token="ya29.person")
    creds = impersonated_credentials.Credentials(source, RUNTIME, ["scope"])
    assert runtime_account(creds, creds.service_account_email, None) == RUNTIME


def test_a_declared_account_that_is_not_the_credentials_one_is_refused() -> None:
    other = "someone-else@acme-books.iam.gserviceaccount.com"
    with pytest.raises(ConfigError, match="wrong editor"):
        runtime_account(None, other, RUNTIME)


def test_a_declared_person_email_is_refused() -> None:
    with pytest.raises(ConfigError, match="not a service account's email"):
        runtime_account(compute_engine.Credentials(), "default", "boss@acme.example")


def test_metadata_server_that_refuses_is_explained() -> None:
    def down(url: str, method: str = "GET", **kwargs: Any) -> Any:
        answer = _Response({})
        answer.status, answer.data = 403, b"no service account on this instance"
        return answer

    with pytest.raises(ConfigError, match="SHEETFLOW_SERVICE_ACCOUNT"):
        runtime_account(compute_engine.Credentials(), "default", None, down)


@pytest.mark.parametrize(
    ("email", "ok"),
    [
        (RUNTIME, True),
        ("acme-books@appspot.gserviceaccount.com", True),
        ("123456789012-compute@developer.gserviceaccount.com", True),
        ("runner@my-project.example.com.iam.gserviceaccount.com", True),
        ("default", False),
        ("boss@acme.example", False),
        ("", False),
    ],
)
def test_service_account_emails_are_told_from_other_addresses(email: str, ok: bool) -> None:
    assert is_service_account(email) is ok


@pytest.mark.parametrize(
    ("endpoint", "root"),
    [
        (None, None),
        ("https://sheets-psc.p.googleapis.com/", "https://sheets-psc.p.googleapis.com"),
        ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
    ],
)
def test_a_private_api_endpoint_is_https_or_loopback(endpoint: str | None, root: str) -> None:
    assert api_root(endpoint) == root


def test_an_api_endpoint_in_clear_text_over_the_network_is_refused() -> None:
    with pytest.raises(ConfigError, match="https://"):
        api_root("http://proxy.example.com:8080")  # the access token would travel in clear
