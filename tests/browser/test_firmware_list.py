"""The org's firmware list in real headless Chromium, against the live server and the simulator.

Every expected count comes from the simulator's fixtures, so adding a fixture cannot make these
tests lie. Run alone with ``pytest tests/browser``.
"""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from tests.demo_fixtures import DEMO_FIRMWARE as FIXTURES
from tests.demo_fixtures import names_of, newest_first

PRODUCT_KEY = "BXwU4kMk"
QUOTE_NAME_ID = "fw-quote-name"


def list_path(org) -> str:
    return f"/orgs/{org.slug}/firmware/"


def query_of(page: Page) -> dict[str, list[str]]:
    return parse_qs(urlsplit(page.url).query, keep_blank_values=True)


def rows(page: Page):
    return page.locator("#firmware-table tbody tr")


def row_ids(page: Page):
    return rows(page).locator("td:nth-child(1) .mono")


def open_list(page: Page, org) -> None:
    page.goto(list_path(org))
    expect(page.locator("#firmware-table")).to_be_visible()


@pytest.mark.browser
def test_unfiltered_list_shows_the_first_50_of_all_firmware(logged_in_page: Page, org):
    page = logged_in_page
    total = len(FIXTURES)
    assert total > 50, "the fixtures must need two pages at the default page size"
    open_list(page, org)

    expect(rows(page)).to_have_count(50)
    expect(page.locator("#showing")).to_have_text(f"Showing 1–50 of {total}")
    newest = [f["firmwareId"] for f in newest_first(FIXTURES)[:50]]
    expect(row_ids(page)).to_have_text(newest)
    expect(page.locator("#no-results")).to_have_count(0)
    pagination = page.locator("nav.pagination")
    expect(pagination.locator('[aria-current="page"]')).to_have_text("Page 1 of 2")
    expect(pagination.locator("a[rel=first]")).to_have_count(0)
    expect(pagination.locator("a[rel=prev]")).to_have_count(0)


@pytest.mark.browser
def test_product_key_and_verified_filters_make_a_bookmarkable_url(
    logged_in_page: Page, live_server, org
):
    page = logged_in_page
    expected = newest_first(
        [f for f in FIXTURES if f.get("productKey") == PRODUCT_KEY and f.get("isVerified") is True]
    )
    count = len(expected)
    assert 0 < count <= 50, "the filtered fixtures must fit on one page"
    open_list(page, org)

    page.get_by_label("Product keys").fill(PRODUCT_KEY)
    page.get_by_label("Verified", exact=True).select_option(label="Verified")
    page.get_by_role("button", name="Apply filters").click()

    expect(page).to_have_url(re.compile(rf"[?&]productKey={PRODUCT_KEY}(&|$)"))
    expect(page).to_have_url(re.compile(r"[?&]verified=true(&|$)"))
    query = query_of(page)
    assert query["productKey"] == [PRODUCT_KEY]
    assert query["verified"] == ["true"]

    def assert_filtered() -> None:
        expect(rows(page)).to_have_count(count)
        expect(page.locator("#showing")).to_have_text(f"Showing 1–{count} of {count}")
        expect(rows(page).locator("td:nth-child(3)")).to_have_text([PRODUCT_KEY] * count)
        expect(rows(page).locator("td:nth-child(4) .badge-ok")).to_have_text(["Verified"] * count)
        expect(row_ids(page)).to_have_text([f["firmwareId"] for f in expected])
        expect(page.get_by_label("Product keys")).to_have_value(PRODUCT_KEY)
        expect(page.get_by_label("Verified", exact=True)).to_have_value("true")

    assert_filtered()

    # Bookmarkable: the same URL opened afresh shows the same filtered list and filled form.
    bookmarked = page.url
    page.goto(list_path(org))
    expect(rows(page)).to_have_count(50)
    page.goto(bookmarked)
    expect(page).to_have_url(bookmarked)
    assert_filtered()


@pytest.mark.browser
def test_page_size_from_the_form_and_pagination_links(logged_in_page: Page, live_server, org):
    page = logged_in_page
    total = len(FIXTURES)
    last_page = -(-total // 10)
    last_first = (last_page - 1) * 10 + 1
    assert total % 10, "the last page must be a partial one"
    showing = page.locator("#showing")
    pagination = page.locator("nav.pagination")

    page.goto(f"{list_path(org)}?productKey={PRODUCT_KEY}&verified=true")
    expect(showing).to_contain_text("Showing 1–")
    page.get_by_role("link", name="Clear").click()
    expect(page).to_have_url(f"{live_server.url}{list_path(org)}")
    expect(page.get_by_label("Product keys")).to_have_value("")
    expect(showing).to_have_text(f"Showing 1–50 of {total}")

    page.get_by_label("Per page").fill("10")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]page_size=10(&|$)"))
    expect(showing).to_have_text(f"Showing 1–10 of {total}")
    expect(rows(page)).to_have_count(10)
    expect(page.get_by_label("Per page")).to_have_value("10")

    pagination.locator("a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    expect(showing).to_have_text(f"Showing 11–20 of {total}")
    query = query_of(page)
    assert query["page"] == ["2"]
    assert query["page_size"] == ["10"]
    expect(row_ids(page)).to_have_text([f["firmwareId"] for f in newest_first(FIXTURES)[10:20]])

    pagination.locator("a[rel=last]").click()
    expect(page).to_have_url(re.compile(rf"[?&]page={last_page}(&|$)"))
    expect(showing).to_have_text(f"Showing {last_first}–{total} of {total}")
    expect(rows(page)).to_have_count(total - last_first + 1)
    assert query_of(page)["page_size"] == ["10"]
    expect(pagination.locator("a[rel=next]")).to_have_count(0)
    expect(pagination.locator("a[rel=last]")).to_have_count(0)

    pagination.locator("a[rel=first]").click()
    expect(page).to_have_url(re.compile(r"[?&]page=1(&|$)"))
    expect(showing).to_have_text(f"Showing 1–10 of {total}")
    expect(pagination.locator('[aria-current="page"]')).to_have_text(f"Page 1 of {last_page}")
    assert query_of(page)["page_size"] == ["10"]


@pytest.mark.browser
def test_opening_a_row_costs_no_get_firmware_call(
    logged_in_page: Page, live_server, org, simulator
):
    page = logged_in_page
    newest_id = newest_first(FIXTURES)[0]["firmwareId"]
    open_list(page, org)
    first_row = rows(page).first
    expect(first_row.locator("td:nth-child(1) .mono")).to_have_text(newest_id)
    assert simulator.counters["search"] >= 1
    assert simulator.counters["get"] == 0

    link = first_row.locator("td:nth-child(1) a")
    name = link.inner_text().strip()
    assert name
    link.click()

    expect(page).to_have_url(f"{live_server.url}/orgs/{org.slug}/firmware/{newest_id}/")
    expect(page.locator("#firmware-name")).to_have_text(name)
    # The page is rendered, so the server is done: the search results fed the detail cache.
    assert simulator.counters["get"] == 0


@pytest.mark.browser
def test_name_search_with_a_quote_finds_the_one_firmware(logged_in_page: Page, org):
    page = logged_in_page
    fixture = next(f for f in FIXTURES if f["firmwareId"] == QUOTE_NAME_ID)
    full_name = fixture["name"]["i18nValue"]["en_US"]
    open_list(page, org)

    for needle in ("O'Brien", '"test" 100% firmware_v2'):
        matching = [
            f for f in FIXTURES if any(needle.casefold() in v.casefold() for v in names_of(f))
        ]
        assert [f["firmwareId"] for f in matching] == [QUOTE_NAME_ID]

        page.get_by_label("Name contains").fill(needle)
        page.get_by_role("button", name="Apply filters").click()

        expect(page).to_have_url(re.compile(r"[?&]q="))
        assert query_of(page)["q"] == [needle]
        expect(page.locator("#filter-errors")).to_have_count(0)
        expect(page.locator("#showing")).to_have_text("Showing 1–1 of 1")
        expect(rows(page)).to_have_count(1)
        expect(row_ids(page)).to_have_text([QUOTE_NAME_ID])
        expect(rows(page).locator("td:nth-child(1) a")).to_have_text(full_name)
        expect(page.get_by_label("Name contains")).to_have_value(needle)
