"""LOG_FORMAT=json under real gunicorn: every line it writes while serving is one JSON object,
its own access lines included, and they carry the request id sent back in X-Request-ID."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import requests

from bench.stack import Stack

pytestmark = pytest.mark.load

REQUEST_ID = "trace-0123456789abcdef"


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("json-logs")
    env = {"LOG_FORMAT": "json"}
    with Stack(work, "fwportal.settings", env, workers=1, threads=2) as stack:
        stack.start_simulator()
        stack.set_up_demo()
        stack.start_gunicorn()
        yield stack


def test_every_line_gunicorn_writes_is_json_with_the_request_id(stack: Stack) -> None:
    response = requests.get(
        stack.web_url + "/accounts/login/", headers={"X-Request-ID": REQUEST_ID}, timeout=30
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == REQUEST_ID
    stack.stop_gunicorn()  # its last lines written and flushed
    lines = [line for line in stack.gunicorn_log_since_boot().splitlines() if line.strip()]
    parsed = [json.loads(line) for line in lines]  # any line that is not JSON fails here
    access = [line for line in parsed if line["logger"] == "gunicorn.access"]
    assert len(access) == 1 and REQUEST_ID in access[0]["message"]
    assert any(line["logger"] == "gunicorn.error" for line in parsed)  # its shutdown lines
