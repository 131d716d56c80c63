"""Caching, single-flight and stale fallback in front of the client, against the simulator."""

import threading
import time
from functools import partial

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enos_simulator import Fault
from firmware import services
from firmware.enos.errors import NotFound, Unreachable, UpstreamError
from firmware.search import FirmwareFilters

TURBINE = "fw-turbine-ctrl-3.2.1"


@pytest.mark.django_db
def test_a_cached_firmware_costs_one_upstream_call(org, simulator):
    first = services.get_firmware(org, TURBINE)
    second = services.get_firmware(org, TURBINE)
    assert simulator.counters["get"] == 1
    assert second.value == first.value
    assert not second.stale


@pytest.mark.django_db
def test_refresh_bypasses_the_cache(org, simulator):
    services.get_firmware(org, TURBINE)
    refreshed = services.get_firmware(org, TURBINE, refresh=True)
    assert simulator.counters["get"] == 2
    assert services.get_firmware(org, TURBINE).fetched_at == refreshed.fetched_at


@pytest.mark.django_db
def test_the_cache_expires_after_its_ttl(org, simulator, settings):
    settings.FIRMWARE_CACHE_SECONDS = 1
    services.get_firmware(org, TURBINE)
    time.sleep(1.1)
    services.get_firmware(org, TURBINE)
    assert simulator.counters["get"] == 2


@pytest.mark.django_db
def test_already_fetched_answers_from_the_cache_only_in_one_read(org, simulator):
    firmware = partial(services.get_firmware, org, TURBINE)
    count = partial(services.count_tasks, org, "job-bx-271-rollout", "succeeded")
    assert services.already_fetched([firmware, count]) == [None, None]
    assert simulator.counters["business"] == 0
    fetched, counted = firmware(), count()
    with CaptureQueriesContext(connection) as queries:
        assert services.already_fetched([firmware, count]) == [fetched, counted]
    assert len(queries) <= 1  # one read of the shared cache (none with a memory cache)
    refreshed = partial(services.get_firmware, org, TURBINE, refresh=True)
    assert services.already_fetched([refreshed, count]) == [None, counted]
    assert services.already_fetched([]) == []
    with pytest.raises(TypeError):
        services.already_fetched([lambda: fetched])
    assert simulator.counters["business"] == 2


@pytest.mark.django_db
def test_fetch_missing_fetches_once_and_then_the_cache_answers(org, simulator):
    fetched = services.fetch_missing(partial(services.get_firmware, org, TURBINE))
    assert simulator.counters["get"] == 1
    assert services.get_firmware(org, TURBINE) == fetched
    assert simulator.counters["get"] == 1


@pytest.mark.django_db(transaction=True)
def test_twenty_simultaneous_requests_make_one_upstream_call(org, simulator):
    simulator.latency = 0.3
    barrier = threading.Barrier(20)
    results = []

    def fetch():
        barrier.wait()
        results.append(services.get_firmware(org, TURBINE))

    threads = [threading.Thread(target=fetch) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert len(results) == 20
    assert simulator.counters["get"] == 1
    assert len({r.fetched_at for r in results}) == 1


@pytest.mark.django_db
def test_last_good_copy_is_served_stale_when_enos_is_down(org, simulator):
    fresh = services.get_firmware(org, TURBINE)
    simulator.stop()
    stale = services.get_firmware(org, TURBINE, refresh=True)
    assert stale.stale
    assert stale.value == fresh.value
    assert stale.fetched_at == fresh.fetched_at
    assert stale.age_seconds >= 0


@pytest.mark.django_db
def test_last_good_copy_is_served_on_upstream_errors(org, simulator):
    services.get_firmware(org, TURBINE)
    simulator.fault = Fault("http500")
    assert services.get_firmware(org, TURBINE, refresh=True).stale


@pytest.mark.django_db
def test_without_a_last_good_copy_the_outage_is_raised(org, simulator):
    simulator.stop()
    with pytest.raises(Unreachable):
        services.get_firmware(org, TURBINE)


@pytest.mark.django_db
def test_not_found_is_never_hidden_by_a_stale_copy(org, simulator, settings):
    settings.ENOS_FAILURE_SECONDS = 0  # ask again at once
    with pytest.raises(NotFound):
        services.get_firmware(org, "no-such-firmware")
    simulator.fault = Fault("error_code", code=50000)
    with pytest.raises(UpstreamError):
        services.get_firmware(org, "no-such-firmware")


@pytest.mark.django_db
def test_enos_comes_back_and_pages_are_fresh_again(org, simulator):
    services.get_firmware(org, TURBINE)
    simulator.stop()
    assert services.get_firmware(org, TURBINE, refresh=True).stale
    simulator.start()
    assert not services.get_firmware(org, TURBINE, refresh=True).stale


@pytest.mark.django_db
def test_search_results_feed_the_detail_cache(org, simulator):
    page = services.search_firmware(org, page_size=10).value
    for item in page.items:
        services.get_firmware(org, item.firmware_id)
    assert simulator.counters["search"] == 1
    assert simulator.counters["get"] == 0


@pytest.mark.django_db
def test_editing_the_org_credentials_bypasses_the_old_cache(org, simulator):
    services.get_firmware(org, TURBINE)
    org.org_id = "o16000000000002"
    org.save()
    assert services.get_firmware(org, TURBINE).value.version == "3.3.0"
    assert simulator.counters["get"] == 2


@pytest.mark.django_db
def test_a_page_beyond_the_last_says_so(org):
    page = services.search_firmware(org, page=99, page_size=10).value
    assert page.beyond_last_page
    assert page.items == []
    assert page.last_page == -(-page.total_size // 10)


@pytest.mark.django_db
def test_every_firmware_walks_every_page_at_the_largest_size(org, simulator):
    every = services.EveryFirmware(org, FirmwareFilters(), limit=1000)
    ids = [firmware.firmware_id for firmware in every]
    assert len(ids) == len(set(ids)) == every.total > 50
    assert simulator.counters["search"] == 1  # all fit in one page of 200
    assert not every.limited


@pytest.mark.django_db
def test_every_firmware_pages_through_filters_and_stops_at_the_limit(org, simulator):
    verified = FirmwareFilters(verified=True)
    every = services.EveryFirmware(org, verified, limit=1000, page_size=10)
    listed = [firmware.firmware_id for firmware in every]
    assert len(listed) == every.total
    assert simulator.counters["search"] == -(-every.total // 10)
    simulator.reset_counters()
    limited = services.EveryFirmware(org, verified, limit=15, page_size=10)
    assert [firmware.firmware_id for firmware in limited] == listed[:15]
    assert limited.limited
    assert simulator.counters["search"] == 2
