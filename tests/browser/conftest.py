"""Fixtures of the browser tests: one headless Chromium per session, a fresh context per test."""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, expect, sync_playwright

from tests.conftest import PASSWORD, make_org

# Playwright's sync API runs an asyncio loop in the test thread; Django's ORM would refuse to run.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"

expect.set_options(timeout=10_000)


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"{CHROMIUM} not found: the browser tests need Debian's chromium package "
            "(scripts/test.sh installs it; or run 'apt-get install chromium' as root).",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser, live_server) -> Iterator[BrowserContext]:
    context = browser.new_context(
        base_url=live_server.url,
        locale="en-US",
        permissions=["clipboard-read", "clipboard-write"],
    )
    try:
        yield context
    finally:
        context.close()


@pytest.fixture
def page(context: BrowserContext) -> Page:
    return context.new_page()


@pytest.fixture
def org(transactional_db, simulator):
    return make_org(simulator.url, slug="demo", name="Demo Wind")


@pytest.fixture
def operator(django_user_model, org):
    user = django_user_model.objects.create_user("operator", password=PASSWORD)
    org.granted_users.add(user)
    return user


def log_in(page: Page, base_url: str, username: str) -> None:
    """Logs in through the real login form (in any language) and lands on the home page."""
    page.goto("/accounts/login/")
    page.locator("#id_username").fill(username)
    page.locator("#id_password").fill(PASSWORD)
    page.locator("main form button[type=submit]").click()
    expect(page).to_have_url(f"{base_url}/")


@pytest.fixture
def logged_in_page(page: Page, live_server, operator) -> Page:
    """A page logged in as `operator` through the real login form, on the home page."""
    log_in(page, live_server.url, operator.username)
    return page
