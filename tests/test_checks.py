"""Settings fwportal cannot serve with are refused before serving: by `manage.py check` (and so
`migrate`), by importing fwportal.wsgi, and by gunicorn's boot, each with one clear line."""

import contextlib
import io
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.fernet import Fernet
from django.core.management import call_command
from django.core.management.base import SystemCheckError

ROOT = Path(__file__).resolve().parent.parent
GOOD_KEY = Fernet.generate_key().decode()
BAD_KEY = "not-a-fernet-key-4f2a9c"  # never to be printed
LONG_SECRET = "s" * 32


def check() -> str:
    """`manage.py check`'s complaint, or "" when it has none."""
    try:
        call_command("check", stdout=io.StringIO(), stderr=io.StringIO())
    except SystemCheckError as exc:
        return str(exc)
    return ""


def test_the_test_settings_pass():
    assert check() == ""


@pytest.mark.parametrize(
    ("debug", "secret_key", "problem"),
    [
        (False, "", "SECRET_KEY is empty"),
        (True, "", "SECRET_KEY is empty"),
        (False, "s" * 31, "SECRET_KEY is shorter than 32 characters"),
    ],
)
def test_an_empty_or_short_secret_key_is_an_error(settings, debug, secret_key, problem):
    settings.DEBUG = debug
    settings.SECRET_KEY = secret_key
    assert f"?: (fwportal.E001) {problem}: set it to a long random string" in check()


def test_a_negative_history_length_is_an_error(settings):
    settings.FIRMWARE_HISTORY_KEEP = -1
    assert "?: (fwportal.E003) FIRMWARE_HISTORY_KEEP is -1: set it to the changes" in check()
    settings.FIRMWARE_HISTORY_KEEP = 0  # keeps no history, only the last good answer
    assert check() == ""


def test_a_short_secret_key_is_fine_with_debug_on(settings):
    settings.DEBUG = True
    settings.SECRET_KEY = "dev"
    assert check() == ""


@pytest.mark.parametrize(
    ("keys", "problem"),
    [
        ([], "CREDENTIALS_KEYS is empty"),
        (["", "  "], "CREDENTIALS_KEYS is empty"),
        ([BAD_KEY], "CREDENTIALS_KEYS entry 1 of 1 is not a Fernet key"),
        ([GOOD_KEY, f" {BAD_KEY} "], "CREDENTIALS_KEYS entry 2 of 2 is not a Fernet key"),
        ([BAD_KEY, GOOD_KEY, "x"], "CREDENTIALS_KEYS entries 1, 3 of 3 are not Fernet keys"),
    ],
)
def test_missing_or_malformed_credentials_keys_are_an_error(settings, keys, problem):
    settings.CREDENTIALS_KEYS = keys
    complaint = check()
    assert f"?: (fwportal.E002) {problem}" in complaint
    assert BAD_KEY not in complaint and GOOD_KEY not in complaint
    assert "fwportal.E001" not in complaint


def valid_env(**changes: str) -> dict[str, str]:
    """The environment of a deployment with valid settings, changed as given."""
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    valid = {
        "DJANGO_SETTINGS_MODULE": "fwportal.settings",
        "DEBUG": "0",
        "SECRET_KEY": LONG_SECRET,
        "CREDENTIALS_KEYS": GOOD_KEY,
    }
    return {**env, **valid, **changes}


def run(argv: list[str], env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *argv], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def tables_of(database: Path) -> list[str]:
    """The tables in a SQLite file (none when there is no file: a JSONField's system check, as
    django-auditlog's LogEntry has, opens the database and so may leave an empty one)."""
    if not database.exists():
        return []
    with contextlib.closing(sqlite3.connect(database)) as connection:
        return [row[0] for row in connection.execute("SELECT name FROM sqlite_master")]


@pytest.mark.parametrize("command", [["check"], ["migrate", "--noinput"]])
def test_manage_py_refuses_an_empty_secret_key(tmp_path, command):
    database = tmp_path / "db.sqlite3"
    env = valid_env(SECRET_KEY="", DATABASE_URL=f"sqlite:///{database}")
    result = run(["manage.py", *command], env)
    assert result.returncode != 0
    assert not tables_of(database), "migrate ran"
    line = "?: (fwportal.E001) SECRET_KEY is empty: set it to a long random string, "
    assert any(text.startswith(line) for text in result.stderr.splitlines()), result.stderr


def test_loading_the_wsgi_application_refuses_malformed_credentials_keys():
    load = ["-c", "import fwportal.wsgi"]
    assert run(load, valid_env()).returncode == 0
    result = run(load, valid_env(CREDENTIALS_KEYS=f"{GOOD_KEY},{BAD_KEY}"))
    assert result.returncode != 0
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith(
        "django.core.exceptions.ImproperlyConfigured: "
        "?: (fwportal.E002) CREDENTIALS_KEYS entry 2 of 2 is not a Fernet key"
    ), result.stderr
    assert BAD_KEY not in result.stderr


def test_gunicorn_does_not_boot_with_malformed_credentials_keys():
    env = valid_env(
        CREDENTIALS_KEYS=BAD_KEY,
        GUNICORN_BIND="127.0.0.1:0",
        GUNICORN_WORKERS="1",
        GUNICORN_ACCESSLOG="",
    )
    argv = ["-m", "gunicorn", "-c", "gunicorn.conf.py", "--no-control-socket", "fwportal.wsgi"]
    result = run(argv, env, timeout=30)  # booted, it would serve until the timeout
    assert result.returncode == 3, result.stderr  # gunicorn's "Worker failed to boot."
    line = "?: (fwportal.E002) CREDENTIALS_KEYS entry 1 of 1 is not a Fernet key: "
    assert any(text.startswith(line) for text in result.stderr.splitlines()), result.stderr
    assert "Reason: Worker failed to boot." in result.stderr
    assert BAD_KEY not in result.stderr
