"""The firmware page's tools in real headless Chromium: the checksum check's size test, Copy
link, a file id that wraps after its slashes on a phone; and the site's icon."""

import pytest
from playwright.sync_api import Page, expect

from enos_simulator import DEMO_ORG_ID
from tests.browser.conftest import ARTIFACTS
from tests.browser.test_firmware_detail import GENUINE_BYTES, GENUINE_SIGNS, TURBINE, open_detail

# Each character of the file id with the top and right of its box, through a Range per character.
FILE_ID_CHARACTERS = """() => {
  const code = document.querySelector('#file-url');
  const walker = document.createTreeWalker(code, NodeFilter.SHOW_TEXT);
  const characters = [];
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    for (let i = 0; i < node.data.length; i++) {
      const range = document.createRange();
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getBoundingClientRect();
      characters.push([node.data[i], Math.round(box.top), box.right]);
    }
  }
  const panel = code.closest('.panel').getBoundingClientRect();
  return {characters, panelRight: panel.right, codeRight: code.getBoundingClientRect().right};
}"""


def file_id_lines(page: Page) -> tuple[list[str], dict]:
    """The file id as the lines it is shown on, and where it and its panel end."""
    shown = page.evaluate(FILE_ID_CHARACTERS)
    lines: dict[int, str] = {}
    for character, top, _right in shown["characters"]:
        lines[top] = lines.get(top, "") + character
    return [lines[top] for top in sorted(lines)], shown


@pytest.mark.browser
def test_a_file_of_another_size_is_a_mismatch_without_hashing(logged_in_page: Page, org):
    page = logged_in_page
    open_detail(page, org, TURBINE)
    box = page.locator("[data-checksum]")
    expect(box).to_have_attribute("data-size", "52428800")
    # A file of another size is a mismatch whatever its bytes: no digest is computed.
    page.locator("input[data-checksum-file]").set_input_files(
        {"name": "firmware.bin", "mimeType": "application/octet-stream", "buffer": GENUINE_BYTES}
    )
    expect(box).to_have_attribute("data-state", "mismatch")
    expect(box.locator("[data-checksum-result]")).to_have_text(
        "Mismatch: this file is 23 bytes; the firmware is 52,428,800 bytes."
    )
    expect(box.locator("[data-checksum-actual]")).to_have_text("")  # no digest was computed


@pytest.mark.browser
def test_the_size_mismatch_is_said_in_the_viewers_language(logged_in_page: Page, org):
    page = logged_in_page
    open_detail(page, org, TURBINE)
    page.locator("#language-select").select_option("zh-hans")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.locator("input[data-checksum-file]").set_input_files(
        {"name": "固件.bin", "mimeType": "application/octet-stream", "buffer": b"x"}
    )
    result = page.locator("[data-checksum-result]")
    expect(result).to_have_text("不一致：此文件为 1字节，而固件为 52,428,800字节。")


@pytest.mark.browser
def test_without_a_known_size_the_digest_alone_decides(logged_in_page: Page, org, simulator):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": "fw-sizeless",
            "signMethod": "sha256",
            "sign": GENUINE_SIGNS["sha256"],
        }
    )
    page = logged_in_page
    open_detail(page, org, "fw-sizeless")
    box = page.locator("[data-checksum]")
    expect(box).not_to_have_attribute("data-size", "")
    assert box.get_attribute("data-size") is None
    page.locator("input[data-checksum-file]").set_input_files(
        {"name": "firmware.bin", "mimeType": "application/octet-stream", "buffer": GENUINE_BYTES}
    )
    expect(box).to_have_attribute("data-state", "match")


@pytest.mark.browser
def test_copy_link_copies_the_page_address_without_its_query(
    logged_in_page: Page, live_server, org
):
    page = logged_in_page
    path = f"/orgs/{org.slug}/firmware/{TURBINE}/"
    page.goto(f"{path}?from=mail#file-heading")
    button = page.locator("button[data-copy-link]")
    button.click()
    expect(button).to_have_text("Link copied")
    assert page.evaluate("() => navigator.clipboard.readText()") == f"{live_server.url}{path}"
    expect(button).to_have_text("Copy link")  # back after a moment


@pytest.mark.browser
@pytest.mark.parametrize("width", [390, 320])
def test_on_a_phone_the_file_id_wraps_after_its_slashes_inside_its_panel(
    logged_in_page: Page, org, width
):
    page = logged_in_page
    page.set_viewport_size({"width": width, "height": 844})
    open_detail(page, org, TURBINE)
    lines, shown = file_id_lines(page)
    assert "".join(lines) == "enos-connect://2325a9b338800000.zip"
    assert lines == ["enos-connect://", "2325a9b338800000.zip"], lines
    assert shown["codeRight"] <= shown["panelRight"]
    assert max(right for _c, _t, right in shown["characters"]) <= shown["panelRight"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.locator("#file-heading").scroll_into_view_if_needed()
    page.screenshot(path=ARTIFACTS / f"firmware-file-id-{width}.png")


@pytest.mark.browser
def test_pages_load_their_icon_and_nothing_fails(page: Page):
    failed = []
    page.on("response", lambda r: failed.append(r.url) if r.status >= 400 else None)
    page.goto("/accounts/login/")
    icon = page.locator('link[rel="icon"]')
    expect(icon).to_have_attribute("type", "image/svg+xml")
    icon_response = page.request.get(icon.get_attribute("href"))
    assert icon_response.status == 200
    assert icon_response.headers["content-type"] == "image/svg+xml"
    assert page.request.get("/favicon.ico").url == icon_response.url
    assert failed == []
