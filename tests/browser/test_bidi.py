"""In real Chromium, a right-to-left override EnOS sent does not reverse the text that follows
it, even behind a POP DIRECTIONAL ISOLATE meant to break out of its <bdi>."""

import pytest
from playwright.sync_api import Page, expect

from enos_simulator import DEMO_ORG_ID

RLO, PDI = "\u202e", "\u2069"
HOSTILE = "fw-hostile"

# Where each character of `word` is drawn, left to right, in the first text node holding it.
POSITIONS_OF = """([selector, word]) => {
  const walker = document.createTreeWalker(document.querySelector(selector), NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const start = node.data.indexOf(word);
    if (start < 0) continue;
    const range = document.createRange();
    return [...word].map((_, i) => {
      range.setStart(node, start + i);
      range.setEnd(node, start + i + 1);
      return range.getBoundingClientRect().x;
    });
  }
  return null;
}"""


@pytest.mark.browser
def test_an_override_in_a_version_leaves_the_rest_of_the_line_in_order(
    logged_in_page: Page, simulator, org
):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": HOSTILE,
            "name": {"defaultValue": f"Name{PDI}{RLO}"},
            "version": f"1.0{PDI}{RLO}",
        }
    )
    page = logged_in_page
    page.goto(f"/orgs/{org.slug}/firmware/{HOSTILE}/")
    expect(page.locator("#firmware-name")).to_be_visible()
    page.goto("/")
    line = page.locator("#recently-viewed li")
    expect(line).to_contain_text("Demo Wind")
    positions = page.evaluate(POSITIONS_OF, ["#recently-viewed li", "Demo Wind"])
    assert positions == sorted(positions), "the org's name is drawn right to left"
