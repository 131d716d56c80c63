"""Times in the browser's time zone, or the one picked, in real headless Chromium: the page's
script tells the server the browser's zone, and the server shows every time in it."""

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from firmware.time_zones import BROWSER_COOKIE
from tests.browser.conftest import log_in

TURBINE = "fw-turbine-ctrl-3.2.1"
CREATED = 'time[datetime="2024-06-10T09:39:05.678000+00:00"]'
SHOWN = {
    "Asia/Tokyo": "June 10, 2024, 6:39 PM JST",
    "America/New_York": "June 10, 2024, 5:39 AM EDT",
}
OFFSET = {"Asia/Tokyo": "UTC+09:00", "America/New_York": "UTC-04:00"}


def in_zone(browser: Browser, live_server, operator, zone: str) -> Iterator[Page]:
    """A browser in `zone`, logged in as `operator` through the login form."""
    context = browser.new_context(base_url=live_server.url, locale="en-US", timezone_id=zone)
    try:
        page = context.new_page()
        log_in(page, live_server.url, operator.username)
        yield page
    finally:
        context.close()


@pytest.fixture(params=sorted(SHOWN))
def zone(request) -> str:
    return request.param


@pytest.fixture
def zoned_page(browser: Browser, live_server, operator, zone) -> Iterator[Page]:
    yield from in_zone(browser, live_server, operator, zone)


@pytest.fixture
def tokyo_page(browser: Browser, live_server, operator) -> Iterator[Page]:
    yield from in_zone(browser, live_server, operator, "Asia/Tokyo")


@pytest.mark.browser
def test_list_and_detail_show_the_created_time_alike_in_the_browsers_zone(
    zoned_page: Page, org, zone
):
    page = zoned_page
    page.goto(f"/orgs/{org.slug}/firmware/")
    on_list = page.locator(CREATED).first
    expect(on_list).to_have_text(SHOWN[zone])
    expect(on_list).to_have_attribute("title", f"{zone} ({OFFSET[zone]})")
    expect(page.locator("#time-zone-link")).to_have_text(zone)
    page.goto(f"/orgs/{org.slug}/firmware/{TURBINE}/")
    on_detail = page.locator(CREATED)
    expect(on_detail).to_have_text(SHOWN[zone])
    expect(on_detail).to_have_attribute("data-zone", zone)


@pytest.mark.browser
def test_a_page_rendered_before_the_browser_said_its_zone_is_shown_again_in_it(
    tokyo_page: Page, org
):
    page = tokyo_page
    page.context.clear_cookies(name=BROWSER_COOKIE)
    page.goto(f"/orgs/{org.slug}/firmware/{TURBINE}/")  # rendered in UTC, then once more
    expect(page.locator(CREATED)).to_have_text(SHOWN["Asia/Tokyo"])
    cookies = {cookie["name"]: cookie["value"] for cookie in page.context.cookies()}
    assert cookies[BROWSER_COOKIE] == "Asia/Tokyo"


@pytest.mark.browser
def test_picking_a_zone_changes_every_time_until_the_browsers_is_used_again(
    tokyo_page: Page, org, live_server
):
    page = tokyo_page
    detail = f"{live_server.url}/orgs/{org.slug}/firmware/{TURBINE}/"
    page.goto(detail)
    expect(page.locator(CREATED)).to_have_text(SHOWN["Asia/Tokyo"])

    page.locator("#time-zone-link").click()
    expect(page.locator("#time-zone-now")).to_contain_text("Asia/Tokyo, your browser's time zone")
    page.locator("#id_time_zone").fill("Europe/Madrid")
    page.get_by_role("button", name="Use this time zone").click()
    expect(page).to_have_url(detail)
    expect(page.locator(CREATED)).to_have_text("June 10, 2024, 11:39 AM CEST")
    expect(page.locator("#time-zone-link")).to_have_text("Europe/Madrid")
    page.goto(f"/orgs/{org.slug}/firmware/")
    expect(page.locator(CREATED).first).to_have_text("June 10, 2024, 11:39 AM CEST")

    page.locator("#time-zone-link").click()
    page.get_by_role("button", name="Use my browser's time zone").click()
    expect(page).to_have_url(f"{live_server.url}/orgs/{org.slug}/firmware/")
    expect(page.locator(CREATED).first).to_have_text(SHOWN["Asia/Tokyo"])
