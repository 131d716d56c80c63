"""Deployment checks, security headers, login throttling and the health check."""

import os
import re
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.cache.backends.redis import RedisCache
from django.db import DatabaseError
from django.urls import reverse

from firmware import health
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parent.parent


def test_check_deploy_reports_no_issues_with_debug_off():
    # The browser tests' DJANGO_ALLOW_ASYNC_UNSAFE belongs to the test process, not to a deployment.
    env = {
        **{k: v for k, v in os.environ.items() if k != "DJANGO_ALLOW_ASYNC_UNSAFE"},
        "DEBUG": "0",
        "HTTPS_ONLY": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "fwportal.example.com",
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues (0 silenced)." in result.stdout


@pytest.mark.django_db
def test_pages_carry_security_headers_and_a_strict_csp(operator_client):
    response = operator_client.get(
        reverse("firmware:firmware_detail", args=["demo", "fw-xss-tags"])
    )
    csp = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'"
    assert "unsafe-inline" not in csp
    assert response["X-Frame-Options"] == "DENY"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [
        "/",
        "/orgs/demo/firmware/",
        "/orgs/demo/firmware/?q=3.2.1&sort=-version",
        "/orgs/demo/firmware/?q=fw-nowhere&verified=maybe",
        "/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/",
        "/orgs/demo/firmware/fw-nowhere/",
        "/find/?org=&firmware_id=fw-nowhere",
    ],
)
def test_no_inline_script_or_style_in_our_pages(operator_client, url):
    page = operator_client.get(url).content.decode()
    scripts = re.findall(r"<script\b[^>]*>", page)
    assert scripts and all(" src=" in tag for tag in scripts), scripts
    assert not re.search(r"\son[a-z]+\s*=", page)
    assert not re.search(r"\sstyle\s*=", page)


@pytest.mark.django_db
def test_session_and_csrf_cookies_are_http_only(client, granted):
    client.get(reverse("login"))
    assert client.cookies["csrftoken"]["httponly"]
    client.post(reverse("login"), {"username": "operator", "password": PASSWORD})
    assert client.cookies["sessionid"]["httponly"]


@pytest.mark.django_db
@pytest.mark.parametrize("login_url", ["/accounts/login/", "/admin/login/"])
def test_failed_logins_are_throttled(client, operator, login_url):
    for _ in range(4):
        response = client.post(login_url, {"username": "operator", "password": "wrong"})
        assert response.status_code == 200
    fifth = client.post(login_url, {"username": "operator", "password": "wrong"})
    assert fifth.status_code == 429
    locked = client.post(login_url, {"username": "operator", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Too many failed logins" in locked.content.decode()
    assert "_auth_user_id" not in client.session


@pytest.mark.django_db
def test_a_success_before_the_limit_resets_the_count(client, operator):
    for _ in range(4):
        client.post(reverse("login"), {"username": "operator", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "operator", "password": PASSWORD}).status_code
        == 302
    )
    client.post(reverse("logout"))
    for _ in range(4):
        client.post(reverse("login"), {"username": "operator", "password": "wrong"})
    assert (
        client.post(reverse("login"), {"username": "operator", "password": PASSWORD}).status_code
        == 302
    )


@pytest.mark.django_db
def test_healthz_answers_ok_without_login_and_without_secrets(client, org):
    response = client.get("/healthz")
    assert response.status_code == 200
    checks = {"database": True, "cache": True, "credential_keys": True}
    assert response.json() == {"status": "ok", "checks": checks}
    assert response["Cache-Control"].startswith("max-age=0")


@pytest.mark.django_db
def test_healthz_is_503_when_the_cache_does_not_answer(client, monkeypatch):
    unreachable = RedisCache("redis://127.0.0.1:9/0", {"OPTIONS": {"socket_connect_timeout": 0.2}})
    monkeypatch.setattr(health, "cache", unreachable)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "cache": False, "credential_keys": True}


@pytest.mark.django_db
def test_healthz_is_503_when_a_credential_key_is_malformed(client, settings):
    settings.CREDENTIALS_KEYS = [*settings.CREDENTIALS_KEYS, "not-a-fernet-key-7d1e"]
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": True, "cache": True, "credential_keys": False}
    assert "7d1e" not in response.content.decode()


@pytest.mark.django_db
def test_healthz_is_503_when_the_database_does_not_answer(client, monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise DatabaseError("connection refused")

    monkeypatch.setattr(health.connection, "cursor", broken_cursor)
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"] == {"database": False, "cache": True, "credential_keys": True}
