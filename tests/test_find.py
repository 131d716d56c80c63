"""Finding a firmware id in every org the user may see."""

import re
import threading
import time

import pytest
from django.urls import reverse

from enos_simulator import DEMO_ORG_ID_2, Fault, Simulator
from tests.conftest import make_org, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"  # in both demo orgs
LEGACY = "fw-legacy-inverter-1.0.4"  # in the first only


@pytest.fixture
def solar(simulator, granted):
    org = make_org(simulator.url, slug="solar", name="Solar Park", org_id=DEMO_ORG_ID_2)
    org.granted_users.add(granted)
    return org


def find(client, firmware_id):
    response = client.get(
        reverse("firmware:find_firmware"), {"org": "", "firmware_id": firmware_id}
    )
    return response, text_of(response)


def words(page):
    """The page's text as a reader sees it: no tags, single spaces."""
    return " ".join(re.sub(r"<[^>]+>", " ", page).split()).replace(" :", ":")


@pytest.mark.django_db
def test_home_form_offers_all_orgs(operator_client, solar):
    page = text_of(operator_client.get(reverse("firmware:home")))
    assert '<option value="" selected>All my organizations</option>' in page


@pytest.mark.django_db
def test_exactly_one_org_has_it_redirects_there(operator_client, solar):
    response, _ = find(operator_client, LEGACY)
    assert response.status_code == 302
    assert response["Location"] == f"/orgs/demo/firmware/{LEGACY}/"


@pytest.mark.django_db
def test_several_orgs_have_it_lists_the_matches(operator_client, solar, simulator):
    response, page = find(operator_client, TURBINE)
    assert response.status_code == 200
    assert "Found in 2 organizations" in page
    assert f'href="/orgs/demo/firmware/{TURBINE}/">Demo</a>' in page
    assert f'href="/orgs/solar/firmware/{TURBINE}/">Solar Park</a>' in page
    assert "version <bdi>3.3.0</bdi>" in page and "version <bdi>3.2.1</bdi>" in page
    assert "Turbine controller" in page
    zh = text_of(
        operator_client.get(
            reverse("firmware:find_firmware"),
            {"org": "", "firmware_id": TURBINE},
            HTTP_ACCEPT_LANGUAGE="zh-hans",
        )
    )
    assert "风机控制器" in zh
    assert simulator.counters["get"] == 2


@pytest.mark.django_db
def test_no_org_has_it(operator_client, solar):
    response, page = find(operator_client, "fw-nowhere")
    assert response.status_code == 200
    assert "Not found in any of your 2 organizations." in page
    assert 'id="unasked"' not in page


@pytest.mark.django_db
def test_orgs_that_could_not_be_asked_are_listed_with_the_reason(
    operator_client, solar, granted, simulator
):
    make_org("http://127.0.0.1:9", slug="down", name="Down Org").granted_users.add(granted)
    make_org(simulator.url, slug="badkey", name="Bad Key", secret="x").granted_users.add(granted)
    response, page = find(operator_client, "fw-nowhere")
    assert response.status_code == 200
    assert "Not found in any of your 4 organizations." in page
    assert "Bad Key: EnOS rejected its credentials (EnOS 1003)" in words(page)
    assert "Down Org: EnOS is unreachable" in words(page)


@pytest.mark.django_db
def test_one_match_with_an_org_down_shows_the_match_and_the_gap(operator_client, granted):
    make_org("http://127.0.0.1:9", slug="down", name="Down Org").granted_users.add(granted)
    response, page = find(operator_client, LEGACY)
    assert response.status_code == 200
    assert "Found in 1 organization" in page
    assert "Down Org: EnOS is unreachable" in words(page)


@pytest.mark.django_db(transaction=True)
def test_a_slow_org_is_cut_off_at_the_per_org_timeout(operator_client, granted, settings):
    settings.FIND_ORG_TIMEOUT = 0.5
    with Simulator(port=0) as slow:
        slow.fault = Fault("slow", delay=3)
        make_org(slow.url, slug="slow", name="Slow Org").granted_users.add(granted)
        started = time.monotonic()
        response, page = find(operator_client, LEGACY)
        # Not a speed check: waiting for the slow org would take its whole 3 s delay.
        assert time.monotonic() - started < 2.5
        left = [thread.name for thread in threading.enumerate() if "find-firmware" in thread.name]
        assert left == [], "a thread of the find outlived the page"
    assert response.status_code == 200
    assert "Slow Org: EnOS did not answer in time" in words(page)
    assert f'href="/orgs/demo/firmware/{LEGACY}/"' in page


@pytest.mark.django_db
def test_only_visible_orgs_are_asked(client, outsider, org, simulator):
    client.force_login(outsider)
    response, page = find(client, TURBINE)
    assert response.status_code == 200
    assert "Not found in any of your 0 organizations." in page
    assert simulator.counters["get"] == 0
