"""The API docs (Swagger UI from ninja's own static files) and the tokens page, in a real browser
under the site's Content-Security-Policy: nothing refused, nothing fetched from elsewhere."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import log_in

pytestmark = pytest.mark.browser


def test_the_api_docs_render_under_our_csp_from_our_own_files(page: Page, live_server, operator):
    refused: list[str] = []
    elsewhere: list[str] = []
    page.on(
        "console", lambda msg: refused.append(msg.text) if "Content Security" in msg.text else None
    )
    page.on(
        "request",
        lambda request: (
            None if request.url.startswith(live_server.url) else elsewhere.append(request.url)
        ),
    )
    page.goto("/api/v1/docs")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("fwportal API")
    expect(page.locator(".opblock-summary-path").first).to_be_visible()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/orgs/{slug}/jobs/").count() >= 1
    assert refused == []
    assert [url for url in elsewhere if not url.startswith("data:")] == []


def test_a_user_makes_a_token_and_reads_it_once(page: Page, live_server, operator):
    log_in(page, live_server.url, "operator")
    page.locator("#api-tokens-link").click()
    page.locator("#id_name").fill("spreadsheet")
    page.get_by_role("button", name="Create token").click()
    token = page.locator("#new-token-value").input_value()
    assert re.fullmatch(r"fwp_[A-Za-z0-9_-]{43}", token)
    expect(page.locator("#token-table")).to_contain_text("spreadsheet")
    page.reload()
    expect(page.locator("#new-token-value")).to_have_count(0)
