"""Structured logs: LOG_FORMAT=json gives one JSON object a line; every line of a request carries
its request id (sent back in X-Request-ID), user and org, and an EnOS call's line its requestId,
operation, duration and outcome."""

import io
import json
import logging
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.urls import reverse

from fwportal.logs import JsonFormatter, RequestContextFilter
from tests.conftest import text_of

ROOT = Path(__file__).resolve().parent.parent
LIST_URL = reverse("firmware:firmware_list", kwargs={"slug": "demo"})


@pytest.fixture
def json_lines():
    """What the root logger writes while the test runs, as fwportal's JSON handler writes it."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestContextFilter())
    root = logging.getLogger()
    root.addHandler(handler)
    old_level = root.level
    root.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.django_db
def test_a_json_line_carries_the_request_id_of_the_page(operator_client, json_lines):
    response = operator_client.get(LIST_URL)
    assert response.status_code == 200
    request_id = response["X-Request-ID"]
    assert re.fullmatch(r"[0-9a-f]{32}", request_id)
    shown = re.search(r"EnOS request ID: <span[^>]*>(?:<bdi[^>]*>)?([^<]+)", text_of(response))[1]
    enos = [line for line in json_lines() if line.get("enos_operation")]
    assert [line["enos_operation"] for line in enos] == ["token_get", "search"]
    search = enos[1]
    assert search["request_id"] == request_id
    assert search["user"] == "operator"
    assert search["org"] == "demo"
    assert search["enos_request_id"] == shown
    assert search["outcome"] == "ok"
    assert isinstance(search["duration_ms"], int)
    assert search["level"] == "INFO" and search["logger"] == "firmware.enos.client"


@pytest.mark.django_db
def test_threads_of_a_page_log_with_its_request_id(operator_client, org, json_lines):
    response = operator_client.get(
        reverse(
            "firmware:firmware_detail",
            kwargs={"slug": "demo", "firmware_id": "fw-turbine-ctrl-3.2.1"},
        )
    )
    assert response.status_code == 200
    enos = [line for line in json_lines() if line.get("enos_operation")]
    assert len(enos) >= 3  # the firmware, its jobs and their counts, several in threads
    assert {line["request_id"] for line in enos} == {response["X-Request-ID"]}


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("given", "kept"),
    [("lb-2f6c1a9e-1234", True), ("short", False), ("x" * 65, False), ("a b\nc=1234567", False)],
)
def test_a_safe_incoming_request_id_is_kept_and_any_other_replaced(client, given, kept):
    response = client.get("/healthz", HTTP_X_REQUEST_ID=given)
    assert (response["X-Request-ID"] == given) is kept
    assert re.fullmatch(r"[A-Za-z0-9._:-]{8,64}", response["X-Request-ID"])


def test_log_format_json_makes_every_line_json(tmp_path):
    """The settings wire it: a process started with LOG_FORMAT=json writes JSON lines."""
    script = (
        "import django, logging; django.setup(); "
        "logging.getLogger('firmware.services').warning('org=%s is slow', 'demo')"
    )
    env = {**os.environ, "LOG_FORMAT": "json", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    (line,) = [json.loads(text) for text in done.stderr.splitlines() if text.strip()]
    assert line["message"] == "org=demo is slow"
    assert line["level"] == "WARNING"
    assert "request_id" not in line  # outside a request


def test_an_unknown_log_format_stops_the_start():
    env = {**os.environ, "LOG_FORMAT": "xml", "DJANGO_SETTINGS_MODULE": "tests.settings"}
    done = subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0
    assert "LOG_FORMAT must be plain or json" in done.stderr
