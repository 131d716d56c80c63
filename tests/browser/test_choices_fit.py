"""Every choice of the lists' filter panels can be read whole in its select, in each language, at
a laptop's and a phone's width: a select narrower than its longest choice cuts it off, and the
choice shown ("Newest first (EnOS's order)") then reads as something else."""

import pytest
from playwright.sync_api import Browser, expect

from tests.browser.conftest import log_in

WIDTHS = {"laptop": (1366, 768), "phone": (390, 844)}
LOCALES = ("en-US", "zh-CN", "ja-JP", "es-ES")

# Each select of the filter panel: the width of its longest choice's text in the select's font,
# and the width the select has for it (inside its padding, which keeps clear of the arrow).
SELECT_ROOM = """() => [...document.querySelectorAll('#filters select')].map(select => {
    const style = getComputedStyle(select);
    const probe = document.createElement('span');
    probe.style.font = style.font;
    probe.style.whiteSpace = 'pre';
    probe.style.position = 'absolute';
    probe.style.visibility = 'hidden';
    document.body.append(probe);
    const widths = [...select.options].map(option => {
        probe.textContent = option.text;
        return [option.text, probe.getBoundingClientRect().width];
    });
    probe.remove();
    const [text, width] = widths.reduce((a, b) => (b[1] > a[1] ? b : a));
    const room = select.clientWidth
        - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    return {name: select.name, text, width, room};
})"""


@pytest.mark.browser
@pytest.mark.parametrize("locale", LOCALES)
def test_every_filter_choice_fits_its_select(browser: Browser, live_server, org, operator, locale):
    context = browser.new_context(base_url=live_server.url, locale=locale)
    try:
        page = context.new_page()
        log_in(page, live_server.url, operator.username)
        for width_name, (width, height) in WIDTHS.items():
            page.set_viewport_size({"width": width, "height": height})
            for path in (f"/orgs/{org.slug}/firmware/", f"/orgs/{org.slug}/jobs/"):
                page.goto(path)
                page.evaluate("() => { document.querySelector('#filters').open = true; }")
                expect(page.locator("#filters select").first).to_be_visible()
                selects = page.evaluate(SELECT_ROOM)
                assert len(selects) >= 2, f"{path}: the filter panel's selects were not found"
                cut = [s for s in selects if s["width"] > s["room"]]
                assert not cut, f"{path} in {locale} at {width_name} width cuts off: {cut}"
    finally:
        context.close()
