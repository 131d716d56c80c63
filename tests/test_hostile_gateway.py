"""A slow, dishonest or malicious gateway, over real HTTP: pages answer within the deadline, with
a clear failure and a proper status, never a 500; one org's trouble stays with that org."""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.test import Client
from django.urls import reverse

from enos_simulator import DEMO_ORG_ID_2, Fault, Simulator
from firmware import services
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.models import RecentlyViewed
from tests.conftest import make_org, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
LEGACY = "fw-legacy-inverter-1.0.4"
# Deadlines are short here; each timed assertion allows the deadline plus generous slack, so
# they tell "bounded" from "hung" (the hostile faults run up to 120 s), not fast from slow.
SLACK = 3.0


def detail(firmware_id: str, slug: str = "demo") -> str:
    return reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": firmware_id})


def timed_get(client: Client, url: str, **params):
    started = time.monotonic()
    response = client.get(url, params)
    return response, time.monotonic() - started


@pytest.fixture
def short_deadline(settings):
    settings.ENOS_TOTAL_TIMEOUT = 1.0
    settings.ENOS_READ_TIMEOUT = 0.8
    return settings


@pytest.mark.django_db
@pytest.mark.parametrize("kind", ["drip", "drip_chunked", "slow_headers"])
@pytest.mark.parametrize("scope", ["business", "token"])
def test_a_dripping_gateway_is_cut_off_at_the_total_deadline(
    operator_client, simulator, short_deadline, kind, scope
):
    # One byte every 0.3 s never trips the 0.8 s read timeout: only the total deadline ends it.
    simulator.fault = Fault(kind, delay=0.3, scope=scope, max_seconds=30)
    response, took = timed_get(operator_client, detail(TURBINE))
    assert response.status_code == 504
    assert "EnOS did not answer in time" in text_of(response)
    assert took < 1.0 + SLACK


@pytest.mark.django_db(transaction=True)
def test_waiters_get_the_failure_of_the_call_they_waited_on_at_once(
    granted, simulator, short_deadline
):
    simulator.fault = Fault("drip", delay=0.3, max_seconds=30)
    clients = []
    for _ in range(6):
        clients.append(Client())
        clients[-1].force_login(granted)
    barrier = threading.Barrier(len(clients))

    def view(client: Client) -> tuple[int, float]:
        barrier.wait(timeout=10)
        response, took = timed_get(client, detail(TURBINE))
        return response.status_code, took

    with ThreadPoolExecutor(len(clients)) as pool:
        answers = list(pool.map(view, clients))
    assert [status for status, _ in answers] == [504] * 6
    # Before, each waiter retried after the one before it: 504s came at 1, 1, 2, 2, 3, 3 s.
    assert max(took for _, took in answers) < 1.0 + SLACK
    # One Get Firmware File and one Search OTA Job (the page asks both at once) for all six.
    once = {"get": 1, "search_jobs": 1, "business": 2}
    assert {name: simulator.counters[name] for name in once} == once
    late = Client()
    late.force_login(granted)
    assert late.get(detail(TURBINE)).status_code == 504
    after = {name: simulator.counters[name] for name in once}
    assert after == once, "a request right after the failure knocked again"


def held_call(org, firmware_id: str) -> str:
    try:
        services.get_firmware(org, firmware_id, use_database=False)
    except EnosError as exc:
        return describe(exc).kind.name
    return "answered"


@pytest.mark.django_db(transaction=True)
def test_one_slow_org_cannot_take_every_thread_of_the_others(granted, simulator, settings):
    settings.ENOS_TOTAL_TIMEOUT = 3.0
    settings.ENOS_MAX_CALLS_PER_ORG = 2
    settings.ENOS_SLOT_WAIT_SECONDS = 0.1
    settings.ENOS_FAILURE_SECONDS = 0
    settings.FIRMWARE_CACHE_SECONDS = 0  # every view asks EnOS; last good copies are kept

    def client_of_granted() -> Client:
        client = Client()
        client.force_login(granted)
        return client

    with Simulator(host="127.0.0.1", port=0) as hostile_gateway:
        hostile = make_org(hostile_gateway.url, slug="hostile", name="Hostile")
        hostile.granted_users.add(granted)
        good = make_org(simulator.url, slug="good", name="Good", org_id=DEMO_ORG_ID_2)
        good.granted_users.add(granted)
        client = client_of_granted()
        assert client.get(detail(LEGACY, "hostile")).status_code == 200  # a last good copy
        hostile_gateway.fault = Fault("drip", delay=0.5, max_seconds=30)
        in_flight = ThreadPoolExecutor(2)
        # Two calls that hold the hostile org's slots, made as pages make them but off the
        # database (threads writing the test's in-memory SQLite would lock its tables).
        held = [
            in_flight.submit(held_call, hostile, firmware_id)
            for firmware_id in (TURBINE, "fw-no-name")
        ]
        for _ in range(50):
            if hostile_gateway.counters["faults"] >= 2:
                break
            time.sleep(0.05)
        busy, took = timed_get(client, detail("fw-unverified", "hostile"))
        assert busy.status_code == 503
        assert "EnOS is busy for this organization" in text_of(busy)
        assert took < 1.0, "a request beyond the bulkhead waited for a slot"
        stale = client.get(detail(LEGACY, "hostile"))
        assert stale.status_code == 200 and 'id="stale-banner"' in stale.content.decode()
        assert client.get(detail(TURBINE, "good")).status_code == 200
        assert [future.result() for future in held] == ["timeout", "timeout"]
        in_flight.shutdown()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("scope", "field", "value", "named"),
    [
        ("token", "data.expire", "Infinity", "expire"),
        ("token", "data.expire", "1e999", "expire"),
        ("token", "status", '"²"', "code"),
        ("business", "code", '"²"', "code"),
        ("business", "code", "9" * 5000, "code"),
        ("business", "data.fileSize", "Infinity", "fileSize"),
        ("business", "data.fileSize", "-5", "fileSize"),
        ("business", "data.createTime", "1" + "0" * 30, "createTime"),
        ("business", "data.isVerified", '"maybe"', "isVerified"),
        ("business", "data.name", "[1, 2]", "name"),
        ("business", "data.firmwareId", '"fw-another"', "firmwareId"),
    ],
)
def test_a_value_no_gateway_should_send_is_a_bad_answer_naming_it(
    operator_client, simulator, scope, field, value, named
):
    simulator.fault = Fault("odd_value", field=field, value=value, scope=scope)
    response = operator_client.get(detail(TURBINE))
    assert response.status_code == 502
    page = text_of(response)
    assert "EnOS sent an answer fwportal cannot read" in page
    assert named in page


@pytest.mark.django_db
def test_an_absurd_token_lifetime_is_clamped_not_fatal(operator_client, simulator):
    simulator.fault = Fault("odd_value", field="data.expire", value="1" + "0" * 30, scope="token")
    assert operator_client.get(detail(TURBINE)).status_code == 200
    assert operator_client.get(detail(LEGACY)).status_code == 200
    assert simulator.counters["token_get"] == 1


@pytest.mark.django_db
def test_text_no_database_can_hold_is_cleaned_before_it_is_kept(operator_client, simulator):
    simulator.fault = Fault("odd_value", field="data.version", value='"1.0\\u0000.4"')
    response = operator_client.get(detail(LEGACY))
    assert response.status_code == 200
    assert RecentlyViewed.objects.get(firmware_id=LEGACY).version == "1.0.4"


@pytest.mark.django_db
def test_search_values_that_make_no_sense_are_a_bad_answer(operator_client, simulator):
    url = reverse("firmware:firmware_list", kwargs={"slug": "demo"})
    simulator.fault = Fault("odd_value", field="pagination.totalSize", value="Infinity")
    response = operator_client.get(url)
    assert response.status_code == 502
    assert "totalSize" in text_of(response)


@pytest.mark.django_db
def test_rate_limiting_is_its_own_failure_and_is_honoured(operator_client, simulator):
    simulator.fault = Fault("rate_limited", retry_after="7")
    response = operator_client.get(detail(TURBINE))
    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    page = text_of(response)
    assert "EnOS is rate-limiting this organization" in page
    assert "Try again in 7 seconds" in page
    business = simulator.counters["business"]
    simulator.fault = None
    again = operator_client.get(detail(LEGACY))
    assert again.status_code == 503
    assert simulator.counters["business"] == business, "called EnOS before Retry-After passed"


@pytest.mark.django_db
@pytest.mark.parametrize("code", [301, 302, 303, 307, 308])
def test_a_redirect_is_a_bad_answer_even_with_data_in_it(operator_client, simulator, code):
    simulator.fault = Fault("redirect", code=code)
    response = operator_client.get(detail(TURBINE))
    assert response.status_code == 502
    assert f"HTTP {code}" in text_of(response)


@pytest.mark.django_db
def test_an_answer_over_the_size_cap_is_a_bad_answer(operator_client, simulator):
    simulator.fault = Fault("huge_body", size=6 * 1024 * 1024)
    response = operator_client.get(detail(TURBINE))
    assert response.status_code == 502
    assert "larger than" in text_of(response)


@pytest.mark.django_db
def test_a_huge_description_is_shown_cut_and_marked(operator_client, simulator):
    simulator.fault = Fault("huge_description", size=5_000_000)
    response = operator_client.get(detail(TURBINE))
    assert response.status_code == 200
    assert len(response.content) < 200_000
    assert response.context["page"].firmware.description_truncated


@pytest.mark.django_db(transaction=True)
def test_find_shows_a_hostile_org_as_could_not_be_asked(granted, simulator, settings):
    settings.FIND_ORG_TIMEOUT = 1.0
    with Simulator(host="127.0.0.1", port=0) as hostile_gateway:
        make_org(hostile_gateway.url, slug="hostile", name="Hostile").granted_users.add(granted)
        make_org(simulator.url, slug="good", name="Good").granted_users.add(granted)
        client = Client()
        client.force_login(granted)
        settings.ENOS_FAILURE_SECONDS = 0
        for fault in (
            Fault("drip", delay=0.3, max_seconds=30),
            Fault("odd_value", field="data.firmwareId", value='"a/b"'),
            Fault("odd_value", field="code", value="Infinity"),
        ):
            hostile_gateway.fault = fault
            response, took = timed_get(
                client, reverse("firmware:find_firmware"), org="", firmware_id=TURBINE
            )
            assert response.status_code == 200, fault
            page = text_of(response)
            assert "Organizations that could not be asked" in page
            assert 'href="/orgs/good/firmware/' in page
            assert took < 1.0 + SLACK
