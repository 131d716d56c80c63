"""Times in the viewer's time zone: the one they picked, else their browser's, else TIME_ZONE;
shown one way on every page; the time zone page; "just now"."""

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from firmware.presentation import time_ago
from firmware.templatetags.firmware_format import local_time
from firmware.time_zones import BROWSER_COOKIE, CHOSEN_COOKIE
from tests.conftest import text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
TURBINE_CREATED = "2024-06-10T09:39:05.678000+00:00"
DETAIL = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": TURBINE})
LIST = reverse("firmware:firmware_list", kwargs={"slug": "demo"})
TIME_ZONE_PAGE = reverse("firmware:time_zone")


def created_on(page: str) -> str:
    """The whole <time> element showing the turbine firmware's creation."""
    match = re.search(rf'<time datetime="{re.escape(TURBINE_CREATED)}"[^>]*>[^<]*</time>', page)
    assert match is not None, "the turbine's created time is not on the page"
    return match.group(0)


def page_of(client: Client, url: str, data=None, **headers) -> str:
    response = client.get(url, data, **headers)
    assert response.status_code == 200
    return text_of(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("zone", "language", "shown"),
    [
        ("Asia/Tokyo", "en", "June 10, 2024, 6:39 PM JST"),
        ("America/New_York", "en", "June 10, 2024, 5:39 AM EDT"),
        ("Asia/Kathmandu", "ja", "2024年6月10日15:24 UTC+0545"),
        ("Europe/Madrid", "es", "10 de junio de 2024 a las 11:39 CEST"),
    ],
)
def test_list_and_detail_show_the_created_time_the_same_in_the_browsers_zone(
    operator_client, zone, language, shown
):
    operator_client.cookies[BROWSER_COOKIE] = zone
    on_list = created_on(page_of(operator_client, LIST, HTTP_ACCEPT_LANGUAGE=language))
    on_detail = created_on(page_of(operator_client, DETAIL, HTTP_ACCEPT_LANGUAGE=language))
    assert on_list == on_detail
    assert f">{shown}</time>" in on_detail
    assert f'data-zone="{zone}"' in on_detail
    assert re.search(rf'title="{re.escape(zone)} \(UTC[+-]\d\d:\d\d\)"', on_detail)


@pytest.mark.django_db
def test_a_zone_the_viewer_picked_wins_over_the_browsers(operator_client):
    operator_client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    operator_client.cookies[CHOSEN_COOKIE] = "Europe/Madrid"
    page = page_of(operator_client, DETAIL)
    assert ">June 10, 2024, 11:39 AM CEST</time>" in created_on(page)
    assert 'aria-label="Time zone: Europe/Madrid">Europe/Madrid</a>' in page


@pytest.mark.django_db
def test_without_a_browser_zone_times_are_in_the_sites_zone(operator_client, settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    assert ">June 10, 2024, 5:39 PM CST</time>" in created_on(page_of(operator_client, DETAIL))


@pytest.mark.django_db
@pytest.mark.parametrize(
    "cookie",
    ["Mars/Olympus_Mons", "../../etc/passwd", "/etc/localtime", "Asia/Tokyo\\", "x" * 5000],
)
@pytest.mark.parametrize("name", [CHOSEN_COOKIE, BROWSER_COOKIE])
def test_a_cookie_naming_no_zone_is_ignored(operator_client, name, cookie):
    operator_client.cookies[name] = cookie
    assert 'data-zone="UTC"' in created_on(page_of(operator_client, DETAIL))
    assert 'data-zone="UTC"' in created_on(page_of(operator_client, LIST))


@pytest.mark.django_db
def test_each_time_is_shown_one_way(operator_client, simulator, settings):
    """Provenance, history and list all use the one format; nothing is left for the browser to
    rewrite."""
    settings.FIRMWARE_CACHE_SECONDS = 0
    operator_client.cookies[BROWSER_COOKIE] = "Asia/Tokyo"
    operator_client.get(DETAIL)
    page = page_of(operator_client, DETAIL)
    times = re.findall(r"<time [^>]*>[^<]*</time>", page)
    assert len(times) >= 3  # created, last confirmed, fetched
    for element in times:
        assert re.fullmatch(
            r'<time datetime="[^"]+\+00:00" data-zone="Asia/Tokyo" title="Asia/Tokyo '
            r'\(UTC\+09:00\)">\w+\.? \d+, \d{4}, \d+:\d\d [AP]M JST</time>',
            element,
        ), element
    assert "data-local-time" not in page
    assert "(just now)" in page  # the provenance's age


@pytest.mark.django_db
def test_the_top_bar_links_every_page_to_the_time_zone_page(operator_client, client):
    page = page_of(operator_client, DETAIL)
    link = f'href="{TIME_ZONE_PAGE}?next=/orgs/demo/firmware/{TURBINE}/"'
    assert f'<a class="time-zone-link" id="time-zone-link" {link}' in page
    login = page_of(Client(), reverse("login") + "?next=/orgs/")
    assert f'href="{TIME_ZONE_PAGE}?next=/accounts/login/%3Fnext%3D/orgs/"' in login


@pytest.mark.django_db
def test_picking_a_zone_sets_it_and_goes_back(operator_client):
    response = operator_client.post(TIME_ZONE_PAGE, {"time_zone": "Asia/Tokyo", "next": DETAIL})
    assert response.status_code == 302
    assert response["Location"] == DETAIL
    assert response.cookies[CHOSEN_COOKIE].value == "Asia/Tokyo"
    assert response.cookies[CHOSEN_COOKIE]["samesite"] == "Lax"
    assert " JST</time>" in created_on(page_of(operator_client, DETAIL))
    page = page_of(operator_client, TIME_ZONE_PAGE)
    assert "Times are shown in Asia/Tokyo, the time zone you picked." in page
    assert 'value="Asia/Tokyo"' in page


@pytest.mark.django_db
def test_using_the_browsers_zone_forgets_the_pick(operator_client):
    operator_client.cookies[CHOSEN_COOKIE] = "Asia/Tokyo"
    operator_client.cookies[BROWSER_COOKIE] = "Europe/Madrid"
    response = operator_client.post(TIME_ZONE_PAGE, {"use_browser": "on", "next": DETAIL})
    assert response.status_code == 302
    assert response.cookies[CHOSEN_COOKIE]["max-age"] == 0
    assert " CEST</time>" in created_on(page_of(operator_client, DETAIL))
    page = page_of(operator_client, TIME_ZONE_PAGE)
    assert "Times are shown in Europe/Madrid, your browser's time zone." in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "next_url",
    [
        "https://evil.example/",
        "//evil.example/orgs/",
        "javascript:alert(1)",
        "http://testserver@evil.example/",
        "",
    ],
)
def test_the_picker_goes_back_only_to_this_site(operator_client, next_url):
    response = operator_client.post(TIME_ZONE_PAGE, {"time_zone": "UTC", "next": next_url})
    assert response.status_code == 302
    assert response["Location"] == reverse("firmware:home")
    page = page_of(operator_client, TIME_ZONE_PAGE, data={"next": next_url})
    section = page[page.index('id="time-zone-heading"') :]
    assert 'name="next"' not in section and "Back</a>" not in section


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"time_zone": "Mars/Olympus_Mons"}, "is not a time zone"),
        ({"time_zone": "x" * 500}, "at most 64 characters"),
        ({"time_zone": ""}, "Pick a time zone, or use your browser's."),
        ({"time_zone": "localtime"}, "is not a time zone"),
    ],
)
def test_a_name_that_is_no_zone_is_a_clear_400(operator_client, data, message):
    response = operator_client.post(TIME_ZONE_PAGE, {**data, "next": DETAIL})
    assert response.status_code == 400
    assert message in text_of(response)
    assert CHOSEN_COOKIE not in response.cookies


@pytest.mark.django_db
def test_the_picker_works_before_logging_in_and_needs_the_csrf_token():
    browser = Client(enforce_csrf_checks=True)
    page = page_of(browser, f"{TIME_ZONE_PAGE}?next=/accounts/login/")
    assert '<option value="Asia/Tokyo">' in page
    assert browser.post(TIME_ZONE_PAGE, {"time_zone": "Asia/Tokyo"}).status_code == 403
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    response = browser.post(
        TIME_ZONE_PAGE,
        {"time_zone": "Asia/Tokyo", "next": "/accounts/login/", "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302
    assert response["Location"] == "/accounts/login/"


@pytest.mark.parametrize(
    ("language", "seconds", "shown"),
    [
        ("en", 0, "just now"),
        ("en", 59, "just now"),
        ("en", -30, "just now"),  # a moment ahead of our clock
        ("en", 300, "5\xa0minutes ago"),
        ("en", 3 * 3600 + 120, "3\xa0hours, 2\xa0minutes ago"),
        ("ja", 0, "たった今"),
        ("ja", 300, "5分前"),
        ("zh-hans", 0, "刚刚"),
        ("es", 0, "ahora mismo"),
        ("es", 300, "hace 5\xa0minutos"),
    ],
)
def test_an_age_under_a_minute_is_just_now(language, seconds, shown):
    with translation.override(language):
        assert time_ago(timezone.now() - timedelta(seconds=seconds)) == shown


@pytest.mark.parametrize("_round", ["first", "again"])
def test_a_moment_is_shown_in_each_viewers_zone_and_language_in_turn(_round):
    """Formatted moments are remembered; never one viewer's for another's zone or language."""
    moment = datetime(2024, 6, 10, 9, 39, 5, tzinfo=UTC)
    same_moment_elsewhere = moment.astimezone(ZoneInfo("Asia/Kathmandu"))
    expected = {
        ("Asia/Tokyo", "en"): "June 10, 2024, 6:39 PM JST",
        ("Asia/Tokyo", "ja"): "2024年6月10日18:39 JST",
        ("America/New_York", "en"): "June 10, 2024, 5:39 AM EDT",
        ("America/New_York", "ja"): "2024年6月10日5:39 EDT",
        # Not languages of the UI, but two that share one format and not their month names.
        ("Asia/Tokyo", "fr"): "10 juin 2024 18:39 JST",
        ("Asia/Tokyo", "nl"): "10 juni 2024 18:39 JST",
    }
    for (zone, language), shown in expected.items():
        with timezone.override(ZoneInfo(zone)), translation.override(language):
            for given in (moment, same_moment_elsewhere):
                assert local_time(given) == (
                    f'<time datetime="2024-06-10T09:39:05+00:00" data-zone="{zone}"'
                    f' title="{zone} (UTC{"+09:00" if zone == "Asia/Tokyo" else "-04:00"})">'
                    f"{shown}</time>"
                )
