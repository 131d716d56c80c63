"""The job page, an org's jobs and the devices on a version in real headless Chromium: following
a count to a job's failed tasks, the proportion bar, and no sideways scrolling on a phone."""

import re

import pytest
from playwright.sync_api import Page, expect

ROLLOUT = "job-bx-271-rollout"  # 3,000 tasks, 41 of them failed
SENSOR = "2a384c6ba0cac464ebdff5c9"
PHONE = {"width": 390, "height": 844}


def job_path(org, job_id=ROLLOUT) -> str:
    return f"/orgs/{org.slug}/jobs/{job_id}/"


@pytest.mark.browser
def test_following_a_count_to_the_failed_tasks_of_a_job(logged_in_page: Page, org):
    page = logged_in_page
    page.goto(f"/orgs/{org.slug}/jobs/")
    page.locator("#job-table").get_by_role(
        "link", name="Vibration sensor 2.7.1 fleet rollout"
    ).click()
    expect(page.locator("#job-name")).to_have_text("Vibration sensor 2.7.1 fleet rollout")

    page.locator("#count-failed").click()

    expect(page).to_have_url(re.compile(r"[?&]status=failed(&|$)"))
    expect(page.locator("#tasks-heading")).to_have_text("Tasks: Failed")
    statuses = page.locator("#task-table tbody td.task-status")
    expect(statuses).to_have_count(41)
    assert set(statuses.all_inner_texts()) == {"Failed"}
    assert "-1 %" not in page.locator("#task-table").inner_text()
    expect(page.locator("#count-failed")).to_have_attribute("aria-current", "true")


@pytest.mark.browser
def test_the_proportion_bar_shows_each_status_share(logged_in_page: Page, org):
    page = logged_in_page
    page.goto(job_path(org))
    bar = page.locator("#task-bar")
    expect(bar).to_be_visible()
    expect(bar).to_have_attribute("role", "img")
    expect(bar.locator("title")).to_contain_text("Succeeded 90.4 %")
    bar_width = bar.bounding_box()["width"]
    succeeded = bar.locator("rect.bar-succeeded").bounding_box()["width"]
    failed = bar.locator("rect.bar-failed").bounding_box()["width"]
    assert succeeded / bar_width == pytest.approx(0.904, abs=0.01)
    assert failed / bar_width == pytest.approx(41 / 3000, abs=0.005)


@pytest.mark.browser
@pytest.mark.parametrize(
    ("path", "cards"),
    [
        (f"/orgs/demo/jobs/{ROLLOUT}/", "#task-cards"),
        (f"/orgs/demo/jobs/{ROLLOUT}/?status=failed", "#task-cards"),
        ("/orgs/demo/jobs/", "#job-cards"),
        (f"/orgs/demo/firmware/{SENSOR}/devices/", "#device-cards"),
    ],
)
def test_the_pages_fit_a_phone_without_sideways_scrolling(logged_in_page: Page, org, path, cards):
    page = logged_in_page
    page.set_viewport_size(PHONE)
    page.goto(path)
    expect(page.locator(cards)).to_be_visible()
    expect(page.locator(".rows-table-wrap")).to_be_hidden()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"{path} scrolls sideways: {width}px"
