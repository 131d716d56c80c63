"""The firmware detail page in real headless Chromium, against the live server and the simulator.

Run alone with ``pytest tests/browser``; screenshots go to ``test-artifacts/`` (git-ignored).
"""

import re

import pytest
from playwright.sync_api import Page, expect

from enos_simulator import DEMO_ORG_ID
from tests.browser.conftest import ARTIFACTS
from tests.test_history import turbine

TURBINE = "fw-turbine-ctrl-3.2.1"
LEGACY = "fw-legacy-inverter-1.0.4"
# A small file and its digests: tests give a firmware these as its sign and size.
GENUINE_BYTES = b"fwportal demo firmware\n"
TAMPERED_BYTES = b"fwportal demo firmwarE\n"  # of the same size: the digest decides
GENUINE_SIGNS = {
    "sha256": "8c01b0ee49d7f66b75083b3e192b847da4cb0446725df520f1968295a6422b7f",
    "md5": "13c09475726d0bb3917f7a179c3ab1e8",
}
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def detail_path(org, firmware_id: str) -> str:
    return f"/orgs/{org.slug}/firmware/{firmware_id}/"


def open_detail(page: Page, org, firmware_id: str) -> None:
    page.goto(detail_path(org, firmware_id))
    expect(page.locator("#firmware-name")).to_be_visible()


def assert_png(path, min_bytes: int = 10_000) -> None:
    assert path.is_file(), f"{path} was not written"
    data = path.read_bytes()
    assert data[:8] == PNG_MAGIC, f"{path} is not a PNG"
    assert len(data) > min_bytes, f"{path} is only {len(data)} bytes"


@pytest.mark.browser
def test_login_and_find_form_land_on_the_bookmarkable_firmware_url(
    logged_in_page: Page, live_server, org
):
    page = logged_in_page
    expect(page.locator(".topbar .user")).to_have_text("operator")

    page.get_by_label("Firmware ID").fill(f"  {TURBINE}  ")
    page.get_by_role("button", name="Find firmware").click()

    # Exactly the bookmarkable URL: the id is trimmed, no query string is left over.
    expect(page).to_have_url(f"{live_server.url}{detail_path(org, TURBINE)}")
    expect(page.locator("h1#firmware-name")).to_have_text("Turbine controller")


def expect_shown_in(page: Page, lang: str, name: str) -> None:
    expect(page.locator("html")).to_have_attribute("lang", lang)
    expect(page.locator("#firmware-name")).to_have_text(name)


@pytest.mark.browser
def test_language_switch_to_chinese_keeps_the_url_and_is_remembered(
    logged_in_page: Page, live_server, org
):
    page = logged_in_page
    url = f"{live_server.url}{detail_path(org, TURBINE)}"
    open_detail(page, org, TURBINE)
    expect_shown_in(page, "en", "Turbine controller")

    # No click on the submit button: the script submits the form when the select changes.
    page.locator("#language-select").select_option("zh-hans")
    expect_shown_in(page, "zh-hans", "风机控制器")
    expect(page).to_have_url(url)
    expect(page.locator("#language-select")).to_have_value("zh-hans")

    page.reload()
    expect_shown_in(page, "zh-hans", "风机控制器")

    page.locator("#language-select").select_option("en")
    expect_shown_in(page, "en", "Turbine controller")
    expect(page).to_have_url(url)


@pytest.mark.browser
def test_copy_button_puts_the_sign_on_the_clipboard(logged_in_page: Page, org):
    page = logged_in_page
    open_detail(page, org, TURBINE)
    sign = page.locator("#sign")
    expect(sign).to_have_text(re.compile(r"^\s*[0-9a-f]{64}\s*$"))
    shown = sign.inner_text().strip()

    button = page.locator('button[data-copy="#sign"]')
    button.click()
    expect(button).to_have_text("Copied")

    assert page.evaluate("() => navigator.clipboard.readText()") == shown


@pytest.mark.browser
@pytest.mark.parametrize(
    ("firmware_id", "method"), [(TURBINE, "sha256"), (LEGACY, "md5")], ids=["sha256", "md5"]
)
def test_local_file_checksum_match_and_mismatch(
    logged_in_page: Page, org, simulator, tmp_path, firmware_id, method
):
    # The demo firmware's file is megabytes: here the firmware is GENUINE_BYTES, sign and size.
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": firmware_id,
            "signMethod": method,
            "sign": GENUINE_SIGNS[method],
            "fileSize": len(GENUINE_BYTES),
        }
    )
    assert len(TAMPERED_BYTES) == len(GENUINE_BYTES)
    page = logged_in_page
    open_detail(page, org, firmware_id)
    box = page.locator("[data-checksum]")
    expect(box).to_have_attribute("data-method", method)
    file_input = page.locator("input[data-checksum-file]")

    genuine = tmp_path / "firmware.bin"
    genuine.write_bytes(GENUINE_BYTES)
    file_input.set_input_files(genuine)
    expect(box).to_have_attribute("data-state", "match")
    expect(box.locator("[data-checksum-result]")).to_have_text(re.compile("^Match"))

    tampered = tmp_path / "tampered.bin"
    tampered.write_bytes(TAMPERED_BYTES)
    file_input.set_input_files(tampered)
    expect(box).to_have_attribute("data-state", "mismatch")
    expect(box.locator("[data-checksum-result]")).to_have_text(
        "Mismatch: this file does not have the expected checksum."
    )


@pytest.mark.browser
def test_screenshots_and_no_horizontal_scroll_on_a_phone(logged_in_page: Page, org):
    page = logged_in_page
    ARTIFACTS.mkdir(exist_ok=True)
    open_detail(page, org, TURBINE)

    desktop = ARTIFACTS / "firmware-detail.png"
    page.screenshot(path=desktop, full_page=True)
    assert_png(desktop)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    expect(page.locator("#firmware-name")).to_have_text("Turbine controller")
    phone = ARTIFACTS / "firmware-detail-phone.png"
    page.screenshot(path=phone, full_page=True)
    assert_png(phone)
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"horizontal scroll at 390 px: scrollWidth is {scroll_width}"


@pytest.mark.browser
def test_skip_link_is_the_first_tab_stop_and_moves_focus_to_main(logged_in_page: Page, org):
    page = logged_in_page
    open_detail(page, org, TURBINE)

    page.keyboard.press("Tab")
    skip_link = page.locator("a.skip-link")
    expect(skip_link).to_be_focused()
    expect(skip_link).to_have_attribute("href", "#main")
    expect(skip_link).to_be_visible()  # shown when focused

    page.keyboard.press("Enter")
    expect(page.locator("main#main")).to_be_focused()


@pytest.mark.browser
def test_history_and_file_warning_in_local_time(logged_in_page: Page, org, simulator, settings):
    settings.FIRMWARE_CACHE_SECONDS = 0
    page = logged_in_page
    open_detail(page, org, TURBINE)
    expect(page.locator("#last-changed")).to_contain_text("No change seen since")
    simulator.add_firmware(
        turbine(isVerified=False, sign="ab" * 32, firmwareTags={"site": "north", "ring": "beta"})
    )
    page.reload()
    history = page.locator("#history")
    expect(history).to_contain_text("Verified: Yes → No")
    expect(history).to_contain_text("Tag (ring): — → beta")
    banner = page.locator("#file-changed")
    expect(banner).to_contain_text("The file of this firmware changed on")
    expect(banner).to_contain_text("ab" * 32)
    # Each time is in the browser's time zone (the script told the server), named in its title.
    zone = page.evaluate("() => Intl.DateTimeFormat().resolvedOptions().timeZone")
    expect(page.locator("#last-changed time")).to_have_attribute("data-zone", zone)
    expect(page.locator("#last-changed time")).to_have_attribute("title", re.compile(f"^{zone} "))
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "firmware-history.png"
    page.screenshot(path=shot, full_page=True)
    assert_png(shot)
    page.set_viewport_size({"width": 390, "height": 844})  # long checksums wrap on a phone
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= 390, f"horizontal scroll at 390 px: scrollWidth is {scroll_width}"
