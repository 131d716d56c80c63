"""The login page in real headless Chromium: a visitor picks a language before logging in."""

import pytest
from playwright.sync_api import Page, expect


@pytest.mark.browser
def test_visitor_picks_japanese_on_the_login_page_and_keeps_the_page_asked_for(
    page: Page, live_server, transactional_db
):
    page.goto("/orgs/demo/")
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/orgs/demo/")
    expect(page.get_by_role("heading", name="Log in")).to_be_visible()
    page.get_by_label("Language", exact=True).select_option(
        "ja"
    )  # submits itself (data-autosubmit)
    expect(page.get_by_role("heading", name="ログイン")).to_be_visible()
    expect(page).to_have_url(f"{live_server.url}/accounts/login/?next=/orgs/demo/")
    expect(page.locator("html")).to_have_attribute("lang", "ja")
    expect(page.locator('form[action="/accounts/login/"] input[name="next"]')).to_have_value(
        "/orgs/demo/"
    )
