"""/metrics: refused without the token or an allowed address, and exact counts of what happened."""

import ipaddress
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.urls import reverse
from prometheus_client import REGISTRY
from prometheus_client.parser import text_string_to_metric_families

from enos_simulator.faults import Fault
from firmware import services

TOKEN = "scrape-token-0123456789"
COALESCED, HITS = "fwportal_enos_coalesced_waits_total", "fwportal_enos_cache_hits_total"
LIST_URL = reverse("firmware:firmware_list", kwargs={"slug": "demo"})


def scrape(client) -> dict[tuple, float]:
    """Every sample of /metrics (histogram buckets and creation times left out)."""
    response = client.get("/metrics", HTTP_AUTHORIZATION=f"Bearer {TOKEN}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=")
    samples = {}
    for family in text_string_to_metric_families(response.content.decode()):
        for sample in family.samples:
            if sample.name.endswith(("_bucket", "_created")):
                continue
            samples[key(sample.name, **sample.labels)] = sample.value
    return samples


def key(name: str, **labels: str) -> tuple:
    return (name, *sorted(labels.items()))


def growth(before: dict, after: dict) -> dict[tuple, float]:
    return {
        key: value - before.get(key, 0)
        for key, value in after.items()
        if value != before.get(key, 0)
    }


@pytest.fixture
def metrics_on(settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = []
    return settings


@pytest.mark.django_db
def test_metrics_are_off_without_a_token_or_allowlist(client, settings):
    settings.METRICS_TOKEN = ""
    settings.METRICS_ALLOWED_IPS = []
    assert client.get("/metrics", HTTP_AUTHORIZATION="Bearer anything").status_code == 404


@pytest.mark.django_db
@pytest.mark.parametrize(
    "authorization", [None, "Bearer wrong", f"Basic {TOKEN}", f"Bearer {TOKEN}x", "Bearer "]
)
def test_metrics_refuse_without_the_token_and_never_redirect_to_login(
    client, metrics_on, authorization
):
    headers = {"HTTP_AUTHORIZATION": authorization} if authorization else {}
    response = client.get("/metrics", **headers)
    assert response.status_code == 403
    assert "fwportal_" not in response.content.decode()


@pytest.mark.django_db
def test_an_allowed_address_may_scrape_without_a_token(client, settings):
    settings.METRICS_TOKEN = TOKEN
    settings.METRICS_ALLOWED_IPS = [ipaddress.ip_network("127.0.0.0/8")]
    assert client.get("/metrics").status_code == 200
    assert client.get("/metrics", REMOTE_ADDR="10.1.2.3").status_code == 403
    # A forged X-Forwarded-For is not the client's address (PROXY_COUNT is 0).
    forged = client.get("/metrics", REMOTE_ADDR="10.1.2.3", HTTP_X_FORWARDED_FOR="127.0.0.1")
    assert forged.status_code == 403


@pytest.mark.django_db
def test_metrics_count_a_known_sequence_exactly(client, operator_client, metrics_on, simulator):
    metrics_on.FIRMWARE_CACHE_SECONDS = 1
    before = scrape(client)
    assert operator_client.get(LIST_URL).status_code == 200  # a token, then a search
    assert operator_client.get(LIST_URL).status_code == 200  # from the cache
    time.sleep(1.2)  # the fresh copy expires; the last good copy stays
    simulator.fault = Fault("http500", scope="firmware")
    assert operator_client.get(LIST_URL).status_code == 200  # EnOS fails: the stale copy
    after = scrape(client)
    grown = {
        key: value
        for key, value in growth(before, after).items()
        if key[0].startswith("fwportal_") and not key[0].endswith("_sum")
    }
    assert grown == {
        key("fwportal_enos_calls_total", org="demo", operation="token_get", outcome="ok"): 1,
        key("fwportal_enos_calls_total", org="demo", operation="search", outcome="ok"): 1,
        key(
            "fwportal_enos_calls_total", org="demo", operation="search", outcome="UpstreamError"
        ): 1,
        key("fwportal_enos_call_seconds_count", org="demo", operation="token_get"): 1,
        key("fwportal_enos_call_seconds_count", org="demo", operation="search"): 2,
        key("fwportal_enos_token_fetches_total", org="demo", operation="token_get"): 1,
        key("fwportal_enos_cache_hits_total"): 1,
        key("fwportal_enos_stale_served_total"): 1,
        key("fwportal_http_requests_total", view="firmware:firmware_list", status="200"): 3,
        key("fwportal_http_requests_total", view="metrics", status="200"): 1,
    }
    assert simulator.counters["token_get"] == 1


def sample(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0


@pytest.mark.django_db
def test_bulkhead_rejections_are_counted(operator_client, org, settings):
    slots = services.client_for(org)._slots  # the process's one set of slots for this org
    held = [slots.acquire(0) for _ in range(settings.ENOS_MAX_CALLS_PER_ORG)]
    before = sample("fwportal_enos_bulkhead_rejections_total", org="demo")
    try:
        assert operator_client.get(LIST_URL).status_code == 503  # Busy, and no copy to show
    finally:
        for slot in held:
            slots.release(slot)
    assert sample("fwportal_enos_bulkhead_rejections_total", org="demo") == before + 1


@pytest.mark.django_db
def test_waiters_on_one_call_are_counted_as_coalesced(org, simulator):
    simulator.configure({"latency": 0.3})
    services.client_for(org).check_credentials()  # the token first: only the search is shared
    before = {name: sample(name) for name in (COALESCED, HITS)}
    with ThreadPoolExecutor(max_workers=5) as pool:
        pages = list(pool.map(lambda _: services.search_jobs(org), range(5)))
    assert {page.value.total_size for page in pages} == {pages[0].value.total_size}
    assert simulator.counters["search_jobs"] == 1
    assert sample(COALESCED) - before[COALESCED] == 4
    assert sample(HITS) == before[HITS]
