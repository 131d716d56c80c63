"""Cached firmware pages: what changes per fetch and per request is never served from the cache."""

import re

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import constants
from django.contrib.messages.storage.base import Message
from django.contrib.messages.storage.cookie import CookieStorage
from django.test import Client, RequestFactory
from django.urls import reverse

from enos_simulator import DEMO_ORG_ID
from firmware.page_cache import marker
from firmware.time_zones import BROWSER_COOKIE, CHOSEN_COOKIE
from tests.conftest import PASSWORD, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
DETAIL = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": TURBINE})


def page_of(response) -> str:
    assert response.status_code == 200
    return text_of(response)


def request_id_on(page: str) -> str:
    match = re.search(r'<dd class="mono" id="request-id"><bdi>([^<]+)</bdi></dd>', page)
    assert match is not None
    return match.group(1)


def csrf_tokens_on(page: str) -> list[str]:
    return re.findall(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)


@pytest.fixture
def uncached_firmware(settings):
    settings.FIRMWARE_CACHE_SECONDS = 0


def rendered(response) -> set[str]:
    return {template.name for template in response.templates}


@pytest.mark.django_db
def test_the_page_is_rendered_once_and_no_marker_is_ever_sent(operator_client):
    first_response = operator_client.get(DETAIL)
    assert {"firmware/firmware_detail.html", "firmware/_provenance.html"} <= rendered(
        first_response
    )
    second_response = operator_client.get(DETAIL)
    assert rendered(second_response) == set()  # the same fetch: the filled-in page is reused
    first, second = page_of(first_response), page_of(second_response)
    assert first.replace(csrf_tokens_on(first)[0], "") == second.replace(
        csrf_tokens_on(second)[0], ""
    )
    for name in ("csrf_token", "provenance", "stale_banner"):
        assert marker(name) not in first and marker(name) not in second
    assert "fwportal-part-" not in first + second


@pytest.mark.django_db
def test_each_fetch_shows_its_own_request_id(operator_client, simulator, uncached_firmware):
    responses = [operator_client.get(DETAIL) for _ in range(3)]
    assert len({request_id_on(page_of(response)) for response in responses}) == 3
    # Later fetches reuse the page and render only its parts.
    assert rendered(responses[-1]) == {"firmware/_provenance.html", "firmware/_stale_banner.html"}
    assert simulator.counters["get"] == 3


def csrf_checking_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    return client


@pytest.mark.django_db
def test_a_page_from_the_cache_carries_the_csrf_token_of_whoever_asks(granted):
    # Two browsers of one user: the same cached page, each with its own CSRF cookie.
    first, second = csrf_checking_client(granted), csrf_checking_client(granted)
    page_of(first.get(DETAIL))
    response = second.get(DETAIL)
    assert rendered(response) == set()  # served from the cache
    tokens = csrf_tokens_on(page_of(response))
    assert len(tokens) == 3  # language, log out, refresh
    assert second.post(DETAIL, {"csrfmiddlewaretoken": tokens[-1]}).status_code == 302
    assert second.post(DETAIL, {"csrfmiddlewaretoken": "x" * 64}).status_code == 403


@pytest.mark.django_db
def test_a_cached_page_is_not_shown_once_access_is_revoked(org, granted, operator_client):
    page_of(operator_client.get(DETAIL))
    org.granted_users.remove(granted)
    assert operator_client.get(DETAIL).status_code == 404


@pytest.mark.django_db
def test_head_answers_without_a_body(operator_client):
    page_of(operator_client.get(DETAIL))
    response = operator_client.head(DETAIL)
    assert response.status_code == 200
    assert response.content == b""


@pytest.mark.django_db
def test_each_user_gets_their_own_page(org, operator_client):
    other = User.objects.create_user("second-operator", password=PASSWORD, is_staff=True)
    org.granted_users.add(other)
    other_client = Client()
    other_client.force_login(other)
    assert 'title="Signed in as">operator<' in page_of(operator_client.get(DETAIL))
    other_page = page_of(other_client.get(DETAIL))
    assert 'title="Signed in as">second-operator<' in other_page
    assert reverse("admin:index") in other_page
    assert reverse("admin:index") not in page_of(operator_client.get(DETAIL))


@pytest.mark.django_db
def test_each_language_gets_its_own_page(operator_client):
    assert "Turbine controller" in page_of(operator_client.get(DETAIL, HTTP_ACCEPT_LANGUAGE="en"))
    page = page_of(operator_client.get(DETAIL, HTTP_ACCEPT_LANGUAGE="ja"))
    assert '<html lang="ja">' in page and "風車コントローラ" in page


@pytest.mark.django_db
def test_each_time_zone_gets_its_own_page(operator_client):
    """The page, its panels ({% cache %}) and its parts all show times in the viewer's zone."""
    assert "June 10, 2024, 9:39 AM UTC" in page_of(operator_client.get(DETAIL))
    operator_client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    tokyo = operator_client.get(DETAIL)
    assert "firmware/firmware_detail.html" in rendered(tokyo)
    page = page_of(tokyo)
    assert "June 10, 2024, 6:39 PM JST" in page and "UTC</time>" not in page
    assert 'aria-label="Time zone: Asia/Tokyo"' in page
    operator_client.cookies[CHOSEN_COOKIE] = "UTC"
    assert "June 10, 2024, 9:39 AM UTC" in page_of(operator_client.get(DETAIL))


@pytest.mark.django_db
def test_what_enos_says_now_replaces_the_cached_page(operator_client, simulator, uncached_firmware):
    assert "Main controller firmware" in page_of(operator_client.get(DETAIL))
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": TURBINE,
            "name": {"defaultValue": "Turbine controller", "i18nValue": {}},
            "version": "3.2.2",
            "desc": "Patched controller firmware",
        }
    )
    page = page_of(operator_client.get(DETAIL))
    assert "version <bdi>3.2.2</bdi>" in page
    description = re.search(r'<dd id="description">(.*?)</dd>', page).group(1)
    assert description == "<bdi>Patched controller firmware</bdi>"  # the old one is history


@pytest.mark.django_db
def test_renaming_the_org_shows_in_the_breadcrumbs(org, operator_client):
    page_of(operator_client.get(DETAIL))
    org.name = "Wind park north"
    org.save()
    assert "Wind park north" in page_of(operator_client.get(DETAIL))


@pytest.mark.django_db
def test_a_message_is_shown_once_and_never_cached(operator_client):
    page_of(operator_client.get(DETAIL))
    note = Message(constants.INFO, "A note for this page")
    operator_client.cookies["messages"] = CookieStorage(RequestFactory().get("/"))._encode([note])
    assert "A note for this page" in page_of(operator_client.get(DETAIL))
    assert "A note for this page" not in page_of(operator_client.get(DETAIL))


@pytest.mark.django_db
def test_the_language_form_keeps_a_query_string(operator_client):
    page = page_of(operator_client.get(DETAIL + "?from=bookmark"))
    assert f'name="next" value="{DETAIL}?from=bookmark"' in page
    assert f'name="next" value="{DETAIL}"' in page_of(operator_client.get(DETAIL))
