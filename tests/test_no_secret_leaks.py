"""A full scenario, and every page, admin page, log line and CLI output it produced, searched
for the orgs' secret keys, the EnOS access tokens and the request signatures."""

import io
import logging
import sys

import pytest
from auditlog.models import LogEntry
from django.contrib.auth.models import User
from django.core.management import call_command
from django.urls import reverse

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID, Fault
from firmware.models import Org
from fwportal.logs import JsonFormatter
from tests.conftest import PASSWORD, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
WRONG_SECRET = "wrong-secret-5f1d0c"


def cli(monkeypatch, *args, stdin=""):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    try:
        call_command("orgs", *args, stdout=out, stderr=err)
    except Exception as exc:  # failing commands are part of the scenario
        err.write(str(exc))
    return out.getvalue() + err.getvalue()


@pytest.mark.django_db
def test_no_secret_token_or_signature_appears_anywhere(
    client, simulator, monkeypatch, caplog, signatures, settings
):
    caplog.set_level(logging.DEBUG)
    settings.ENOS_READ_TIMEOUT = 0.5
    texts = []
    common = ["--org-id", DEMO_ORG_ID, "--gateway-url", simulator.url, "--access-key", DEMO_APP_KEY]
    texts.append(cli(monkeypatch, "add", "demo", "--name", "Demo", *common, stdin=DEMO_APP_SECRET))
    texts.append(cli(monkeypatch, "add", "bad", "--name", "Bad", *common, stdin=WRONG_SECRET))
    User.objects.create_user("operator", password=PASSWORD)
    User.objects.create_superuser("root", password=PASSWORD)
    for slug in ("demo", "bad"):
        texts.append(cli(monkeypatch, "grant", slug, "--user", "operator"))
        texts.append(cli(monkeypatch, "test", slug))
    texts.append(cli(monkeypatch, "list"))

    client.post(reverse("login"), {"username": "operator", "password": PASSWORD})
    pages = [
        reverse("firmware:home"),
        reverse("firmware:firmware_list", args=["demo"]) + "?q=turbine",
        reverse("firmware:firmware_detail", args=["demo", TURBINE]),
        reverse("firmware:firmware_detail", args=["bad", TURBINE]),
        reverse("firmware:firmware_detail", args=["demo", "fw-nowhere"]),
        reverse("firmware:find_firmware") + f"?org=&firmware_id={TURBINE}",
    ]
    for url in pages:
        texts.append(client.get(url).content.decode())
    simulator.expire_tokens()
    texts.append(client.post(pages[2], follow=True).content.decode())
    simulator.fault = Fault("error_code", code=50000)
    texts.append(
        client.get(
            reverse("firmware:firmware_detail", args=["demo", "fw-unverified"])
        ).content.decode()
    )
    simulator.stop()
    texts.append(client.post(pages[2], follow=True).content.decode())

    client.post(reverse("logout"))
    client.post(reverse("admin:login"), {"username": "root", "password": PASSWORD})
    org_pks = dict(Org.objects.values_list("slug", "pk"))
    for url in (
        reverse("admin:firmware_org_changelist"),
        reverse("admin:firmware_org_change", args=[org_pks["demo"]]),
    ):
        response = client.get(url)
        assert response.status_code == 200 and "Demo" in response.content.decode()
        texts.append(response.content.decode())
    simulator.start()
    simulator.fault = None  # the connection test searches firmware too
    response = client.post(
        reverse("admin:firmware_org_changelist"),
        {"action": "test_connection", "_selected_action": list(org_pks.values())},
        follow=True,
    )
    tested = text_of(response)
    assert "Demo: connection OK" in tested and "Bad: connection failed" in tested
    texts.append(response.content.decode())
    audit_list = reverse("admin:auditlog_logentry_changelist")
    texts.append(client.get(audit_list).content.decode())
    export = client.post(
        audit_list,
        {
            "action": "export_csv",
            "_selected_action": list(LogEntry.objects.values_list("pk", flat=True)),
        },
    )
    texts.append(b"".join(export.streaming_content).decode())
    settings.METRICS_TOKEN = "sweep-metrics-token"
    metrics = client.get("/metrics", HTTP_AUTHORIZATION="Bearer sweep-metrics-token")
    texts.append(metrics.content.decode())
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.args) for record in caplog.records]
    texts += [JsonFormatter().format(record) for record in caplog.records]

    tokens = {token for token, _ in signatures}
    assert len(tokens) >= 2  # a token, and its renewal after expire_tokens()
    forbidden = {DEMO_APP_SECRET, WRONG_SECRET} | tokens | {sig for _, sig in signatures}
    forbidden |= set(Org.objects.values_list("secret_key_encrypted", flat=True))
    everything = "\n".join(texts)
    assert "Turbine controller" in everything and "EnOS 1003" in everything  # the scenario ran
    assert "secret key set" in everything and "fwportal_enos_calls_total" in everything
    leaks = sorted(secret for secret in forbidden if secret in everything)
    assert not leaks, f"{len(leaks)} secrets leaked"
