"""The pages people open most, at a laptop's and a phone's width, in English and in Chinese:
saved as screenshots to ``test-artifacts/`` (git-ignored) for people to look at, and checked for
what a screenshot would show wrong: the wrong language, a missing heading, sideways scrolling.
"""

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import ARTIFACTS, log_in
from tests.browser.test_firmware_detail import TURBINE, assert_png

# Width name -> viewport, and how the firmware list shows its rows there.
WIDTHS = {
    "desktop": ((1366, 768), "#firmware-table"),
    "phone": ((390, 844), "#firmware-cards"),
}
# Browser locale -> the language the pages must come in (Accept-Language picks it).
LANGUAGES = {"en-US": ("en", "Firmware"), "zh-CN": ("zh-hans", "固件")}


# Boxes that scroll sideways inside the page (a wide table in an overflow wrapper) count too.
SIDEWAYS_SCROLLERS = """() => [...document.querySelectorAll('main *')]
    .filter(el => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX))
    .filter(el => el.scrollWidth > el.clientWidth + 1)
    .map(el => el.id || el.className || el.tagName)"""


def assert_no_sideways_scroll(page: Page, width: int, what: str) -> None:
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{what}: scrolls sideways at {width} px ({scroll_width} px)"
    scrollers = page.evaluate(SIDEWAYS_SCROLLERS)
    assert not scrollers, f"{what}: these scroll sideways at {width} px: {scrollers}"


@pytest.mark.browser
@pytest.mark.parametrize("locale", LANGUAGES)
def test_home_list_and_detail_at_laptop_and_phone_width(
    browser: Browser, live_server, org, operator, locale
):
    lang, home_heading = LANGUAGES[locale]
    context = browser.new_context(base_url=live_server.url, locale=locale)
    try:
        page = context.new_page()
        log_in(page, live_server.url, operator.username)
        for width_name, ((width, height), list_rows) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            pages = {
                # The detail first, so the home page has a recently viewed firmware to show.
                "detail": (f"/orgs/{org.slug}/firmware/{TURBINE}/", "#firmware-name"),
                "list": (f"/orgs/{org.slug}/firmware/", list_rows),
                "home": ("/", "#recently-viewed"),
            }
            for name, (path, shown) in pages.items():
                page.goto(path)
                expect(page.locator("html")).to_have_attribute("lang", lang)
                expect(page.locator(shown)).to_be_visible()
                if name == "home":
                    expect(page.locator("main h1")).to_have_text(home_heading)
                shot = ARTIFACTS / f"{name}-{width_name}-{lang}.png"
                ARTIFACTS.mkdir(exist_ok=True)
                page.screenshot(path=shot, full_page=True)
                assert_png(shot)
                # What the first screen shows, at a size people can read.
                first_screen = ARTIFACTS / f"{name}-{width_name}-{lang}-first-screen.png"
                page.screenshot(path=first_screen)
                assert_png(first_screen)
                assert_no_sideways_scroll(page, width, f"{name} in {lang}")
    finally:
        context.close()
