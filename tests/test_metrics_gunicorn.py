"""/metrics under real gunicorn with 2 workers: the counts of both add up (prometheus-client's
multiprocess mode, set up by gunicorn.conf.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from prometheus_client.parser import text_string_to_metric_families

from bench.stack import Stack, worker_pids

pytestmark = pytest.mark.load

TOKEN = "gunicorn-scrape-token-42"
REQUESTS = 24


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("metrics-site")
    (work / "metrics").mkdir()  # the manage.py commands before gunicorn count there too
    env = {
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(work / "metrics"),
    }
    with Stack(work, "fwportal.settings", env, workers=2, threads=2) as stack:
        stack.start_simulator()
        stack.set_up_demo()
        stack.start_gunicorn()
        yield stack


def scrape(stack: Stack, **headers: str) -> requests.Response:
    return requests.get(stack.web_url + "/metrics", headers=headers, timeout=30)


def value(text: str, name: str, **labels: str) -> float:
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name and sample.labels == labels:
                return sample.value
    return 0


def test_metrics_need_the_token_under_gunicorn(stack: Stack) -> None:
    assert scrape(stack).status_code == 403
    assert scrape(stack, Authorization="Bearer nope").status_code == 403


def test_the_counts_of_both_workers_add_up(stack: Stack) -> None:
    before = scrape(stack, Authorization=f"Bearer {TOKEN}").text
    for _ in range(REQUESTS):  # a new connection each: gunicorn hands them to both workers
        assert requests.get(stack.web_url + "/healthz", timeout=30).status_code == 200
    after = scrape(stack, Authorization=f"Bearer {TOKEN}").text
    name = "fwportal_http_requests_total"
    counted = value(after, name, view="firmware:healthz", status="200") - value(
        before, name, view="firmware:healthz", status="200"
    )
    assert counted == REQUESTS
    files = {path.name for path in Path(stack.env["PROMETHEUS_MULTIPROC_DIR"]).iterdir()}
    for pid in worker_pids(stack.master):
        assert f"counter_{pid}.db" in files, "both workers counted requests"
