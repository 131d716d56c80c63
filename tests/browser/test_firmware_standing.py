"""From a firmware page to where it stands, in real headless Chromium: the verification verdict
in two languages, then following one of its jobs to the job's failed tasks."""

import re

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.browser.conftest import log_in
from tests.test_standing import CANNOT_PASS, MID_VERIFICATION, SENSOR

VERDICTS = {
    "en-US": ("In progress, and can still pass.", "Cannot pass with this job."),
    "zh-CN": ("进行中，仍可通过。", "此任务无法通过。"),
}


@pytest.mark.browser
@pytest.mark.parametrize("locale", VERDICTS)
def test_the_verdict_in_the_viewers_language(browser: Browser, live_server, org, operator, locale):
    can_pass, cannot_pass = VERDICTS[locale]
    context = browser.new_context(base_url=live_server.url, locale=locale)
    try:
        page = context.new_page()
        log_in(page, live_server.url, operator.username)
        page.goto(f"/orgs/{org.slug}/firmware/{MID_VERIFICATION}/")
        expect(page.locator('#verification-progress [data-verdict="can_pass"]')).to_contain_text(
            can_pass
        )
        page.goto(f"/orgs/{org.slug}/firmware/{CANNOT_PASS}/")
        expect(page.locator('#verification-progress [data-verdict="cannot_pass"]')).to_contain_text(
            cannot_pass
        )
    finally:
        context.close()


@pytest.mark.browser
def test_from_a_firmware_to_the_failed_tasks_of_its_rollout(logged_in_page: Page, org):
    page = logged_in_page
    page.goto(f"/orgs/{org.slug}/firmware/{SENSOR}/")
    jobs = page.locator("#ota-jobs")
    expect(jobs.locator(".job")).to_have_count(2)
    jobs.get_by_role("link", name="Vibration sensor 2.7.1 fleet rollout").click()

    expect(page.locator("#job-name")).to_have_text("Vibration sensor 2.7.1 fleet rollout")
    page.locator("#count-failed").click()
    expect(page).to_have_url(re.compile(r"[?&]status=failed(&|$)"))
    statuses = page.locator("#task-table tbody td.task-status")
    expect(statuses).to_have_count(41)
    assert set(statuses.all_inner_texts()) == {"Failed"}
