"""deploy.sh --bitrix24: the webhook goes from the environment to Secret Manager, nowhere else."""

from __future__ import annotations

import pytest

from tests.integration.test_deploy_script import BASE, PASSWORD, dry_run, flags

HOOK = "https://co.bitrix24.com/rest/1/w3bh00kc0de/"


def test_the_webhook_goes_to_secret_manager_and_reaches_every_function_unprinted(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEETFLOW_BITRIX24_WEBHOOK", HOOK)
    run = dry_run(
        *BASE, "--smtp-url", "smtps://u@smtp.example.com:465", "--bitrix24", password=PASSWORD
    )
    assert run.returncode == 0, run.stderr
    assert run.find("gcloud", "secrets", "create", "sheetflow-bitrix24-webhook")
    add = run.one("gcloud", "secrets", "versions", "add", "sheetflow-bitrix24-webhook")
    assert flags(add)["data-file"] == "-"
    assert "w3bh00kc0de" not in run.stdout + run.stderr
    deploys = run.find("gcloud", "functions", "deploy")
    assert len(deploys) == 3
    for deploy in deploys:
        assert flags(deploy)["set-secrets"] == (
            "SHEETFLOW_SMTP_PASSWORD=sheetflow-smtp-password:latest,"
            "SHEETFLOW_BITRIX24_WEBHOOK=sheetflow-bitrix24-webhook:latest"
        )


def test_bitrix24_without_an_https_webhook_stops_before_any_command(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SHEETFLOW_BITRIX24_WEBHOOK", "http://co.bitrix24.com/rest/1/abc/")
    run = dry_run(*BASE, "--sender", "billing@example.com", "--bitrix24")
    assert run.returncode != 0
    assert "SHEETFLOW_BITRIX24_WEBHOOK" in run.stderr
    assert "gcloud" not in run.stdout


def test_without_bitrix24_no_webhook_secret_is_made(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SHEETFLOW_BITRIX24_WEBHOOK", HOOK)
    run = dry_run(*BASE, "--sender", "billing@example.com")
    assert not run.find("gcloud", "secrets", "create", "sheetflow-bitrix24-webhook")
