"""The audit trail: who changed or tested which org, from the admin or the CLI; never a secret."""

import csv
import getpass
import io
import re
import socket
import sys

import pytest
from auditlog.models import LogEntry
from django.core.management import CommandError, call_command
from django.urls import reverse

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID
from firmware import audit, tokens
from firmware.models import ApiToken, Org
from tests.conftest import PASSWORD, make_org, text_of

CLI_ACTOR = f"CLI: {getpass.getuser()}@{socket.gethostname()}"
AUDIT_LIST = "admin:auditlog_logentry_changelist"


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", password=PASSWORD)
    client.force_login(admin)
    return client


def orgs(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    call_command("orgs", *args, stdout=io.StringIO(), stderr=io.StringIO())


def add_acme(monkeypatch, url, secret="first-secret"):  # noqa: S107
    orgs(
        monkeypatch,
        *("add", "acme", "--name", "Acme Wind", "--org-id", DEMO_ORG_ID),
        *("--gateway-url", url, "--access-key", DEMO_APP_KEY),
        stdin=secret + "\n",
    )
    return Org.objects.get(slug="acme")


def entries_of(org):
    return list(LogEntry.objects.get_for_object(org).order_by("timestamp", "pk"))


def rows_of_export(admin_client, entries) -> list[dict[str, str]]:
    response = admin_client.post(
        reverse(AUDIT_LIST),
        {"action": "export_csv", "_selected_action": [entry.pk for entry in entries]},
    )
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(b"".join(response.streaming_content).decode())))


@pytest.mark.django_db
def test_an_admin_sees_the_cli_change_with_its_os_user_and_host(admin_client, monkeypatch):
    org = add_acme(monkeypatch, "https://gw.example.com")
    orgs(monkeypatch, "add", "acme", "--disable", "--keep-secret")
    _created, disabled = entries_of(org)
    assert audit.actor_label(disabled) == CLI_ACTOR
    assert audit.what_happened(disabled) == "enabled: True → False"
    page = text_of(admin_client.get(reverse(AUDIT_LIST)))
    assert CLI_ACTOR in page
    assert "enabled: True → False" in page
    detail = text_of(
        admin_client.get(reverse("admin:auditlog_logentry_change", args=[disabled.pk]))
    )
    assert CLI_ACTOR in detail


@pytest.mark.django_db
def test_a_secret_change_is_recorded_without_the_secret(admin_client, monkeypatch, simulator):
    org = add_acme(monkeypatch, simulator.url, secret="first-secret")
    first_ciphertext = org.secret_key_encrypted
    orgs(monkeypatch, "add", "acme", stdin="second-secret\n")
    org.refresh_from_db()
    admin_client.post(
        reverse("admin:firmware_org_change", args=[org.pk]),
        {
            "name": "Acme Wind",
            "slug": "acme",
            "org_id": DEMO_ORG_ID,
            "gateway_url": simulator.url,
            "access_key": DEMO_APP_KEY,
            "secret_key": "third-secret",
            "enabled": "on",
        },
    )
    created, by_cli, by_admin = entries_of(org)
    assert audit.what_happened(created).startswith("created; ")
    assert audit.what_happened(created).endswith("; secret key set")
    assert audit.what_happened(by_cli) == "secret key replaced"
    assert audit.what_happened(by_admin) == "secret key replaced"
    assert by_admin.actor.username == "admin"
    assert by_admin.remote_addr == "127.0.0.1"
    assert re.fullmatch(r"[0-9a-f]{32}", by_admin.cid)  # the request id its log lines carry
    org.refresh_from_db()
    secrets = ["first-secret", "second-secret", "third-secret"]
    secrets += [first_ciphertext, org.secret_key_encrypted]
    stored = [repr(e.changes) + repr(e.additional_data) for e in LogEntry.objects.all()]
    pages = [
        text_of(admin_client.get(reverse(AUDIT_LIST))),
        *(
            text_of(admin_client.get(reverse("admin:auditlog_logentry_change", args=[e.pk])))
            for e in (created, by_cli, by_admin)
        ),
        repr(rows_of_export(admin_client, [created, by_cli, by_admin])),
    ]
    for secret in secrets:
        for text in stored + pages:
            assert secret not in text
            assert secret[-10:] not in text  # not even half of it, as auditlog's default mask


@pytest.mark.django_db
def test_grants_and_connection_tests_are_recorded_from_the_cli(monkeypatch, simulator, operator):
    org = add_acme(monkeypatch, simulator.url, secret="wrong")
    orgs(monkeypatch, "grant", "acme", "--user", "operator")
    with pytest.raises(CommandError):
        orgs(monkeypatch, "test", "acme")
    orgs(monkeypatch, "add", "acme", stdin=f"{DEMO_APP_SECRET}\n")
    orgs(monkeypatch, "test", "acme")
    orgs(monkeypatch, "revoke", "acme", "--user", "operator")
    orgs(monkeypatch, "rotate-keys")
    lines = [audit.what_happened(entry) for entry in entries_of(org)]
    assert lines[1:] == [
        "users who may see it: added operator",
        lines[2],
        "secret key replaced",
        "connection test; result: OK",
        "users who may see it: removed operator",
        "secret key re-encrypted with the newest key",
    ]
    assert lines[2].startswith("connection test; result: failed: EnOS 1003")
    assert {audit.actor_label(entry) for entry in entries_of(org)} == {CLI_ACTOR}


@pytest.mark.django_db
def test_admin_connection_tests_name_the_admin(admin_client, org):
    admin_client.post(
        reverse("admin:firmware_org_changelist"),
        {"action": "test_connection", "_selected_action": [org.pk]},
    )
    admin_client.post(reverse("admin:firmware_org_test_connection", args=[org.pk]))
    tests = [e for e in entries_of(org) if (e.additional_data or {}).get("event")]
    assert [(audit.actor_label(e), audit.what_happened(e)) for e in tests] == [
        ("admin", "connection test; result: OK"),
        ("admin", "connection test; result: OK"),
    ]


@pytest.mark.django_db
def test_the_audit_trail_is_read_only_filterable_and_exported_as_csv(admin_client, simulator):
    org = make_org(simulator.url, slug="formula", name="=2+3")
    audit.record("connection_test", org, {"result": "OK"})
    changelist = reverse(AUDIT_LIST)
    entry = LogEntry.objects.latest("pk")
    assert admin_client.get(reverse("admin:auditlog_logentry_add")).status_code == 403
    delete = reverse("admin:auditlog_logentry_delete", args=[entry.pk])
    assert admin_client.post(delete, {"post": "yes"}).status_code == 403
    assert LogEntry.objects.filter(pk=entry.pk).exists()
    filtered = text_of(admin_client.get(changelist, {"action__exact": "3"}))
    assert "connection test" in filtered and "secret key set" not in filtered
    (row,) = rows_of_export(admin_client, [entry])
    assert row["who"] == "system"
    assert row["object"] == "'=2+3"  # a spreadsheet shows it as text, never runs it
    assert row["what happened"] == "connection test; result: OK"


@pytest.mark.django_db
def test_staff_without_the_view_permission_see_no_audit_trail(client, django_user_model):
    staff = django_user_model.objects.create_user("staff", password=PASSWORD, is_staff=True)
    client.force_login(staff)
    assert client.get(reverse(AUDIT_LIST)).status_code == 403


@pytest.mark.django_db
def test_api_tokens_made_and_revoked_are_recorded_without_the_token(operator):
    new = tokens.create(operator, "ci")
    tokens.revoke(ApiToken.objects.filter(pk=new.token.pk))
    events = [
        entry.additional_data["event"]
        for entry in LogEntry.objects.get_for_object(new.token).order_by("timestamp")
    ]
    assert events == ["api_token_created", "api_token_revoked"]
    assert all(
        new.raw not in str(entry.additional_data) and new.token.token_hash not in str(entry.changes)
        for entry in LogEntry.objects.all()
    )


@pytest.mark.django_db
def test_a_download_is_recorded_with_its_user(operator_client, org, settings, tmp_path):
    settings.FIRMWARE_FILES_DIR = tmp_path
    response = operator_client.get(
        reverse("firmware:firmware_download", args=[org.slug, "fw-quote-name"])
    )
    assert response.status_code == 200
    [entry] = LogEntry.objects.filter(additional_data__event="file_downloaded")
    assert entry.actor.username == "operator"
    assert entry.additional_data["firmware"] == "fw-quote-name"
    assert entry.additional_data["outcome"] == "served"
