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


# Phones: a card per firmware and the filters folded away; wide screens keep the table.


def cards(page: Page):
    return page.locator("#firmware-cards .firmware-card")


@pytest.mark.browser
def test_on_a_phone_each_firmware_is_a_card_and_the_filters_fold(logged_in_page: Page, org):
    page = logged_in_page
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(list_path(org))
    expect(cards(page)).to_have_count(50)
    expect(page.locator("#firmware-table")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390

    newest = newest_first(FIXTURES)[0]
    card = cards(page).first
    expect(card.locator(".card-name a")).to_have_text(newest["name"]["i18nValue"]["en_US"])
    expect(card.locator(".card-version dd")).to_have_text(newest["version"])
    verified = "Verified" if newest["isVerified"] else "Not verified"
    expect(card.locator(".card-verified dd")).to_have_text(verified)
    expect(card.locator(".card-size dd")).to_have_text(re.compile(r"^\d+(\.\d)? [KMG]?i?B$"))
    expect(card.locator(".card-created time")).to_have_attribute(
        "datetime", re.compile(r"^\d{4}-\d\d-\d\dT")
    )
    box = card.bounding_box()
    assert box and box["x"] >= 0 and box["x"] + box["width"] <= 390

    # The filters are folded behind their summary, and open on a tap.
    name_box = page.get_by_label("Name contains")
    expect(name_box).to_be_hidden()
    page.locator("#filters > summary").click()
    expect(name_box).to_be_visible()
    name_box.fill("Turbine controller")
    page.get_by_role("button", name="Apply filters").click()
    expect(page).to_have_url(re.compile(r"[?&]q=Turbine\+controller"))
    # Active filters stay open after the search, so the user sees what narrowed the list.
    expect(page.get_by_label("Name contains")).to_be_visible()
    expect(page.locator("#filters > summary")).to_contain_text("1 active")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


@pytest.mark.browser
def test_on_a_wide_screen_the_list_is_a_table_with_its_filters_shown(logged_in_page: Page, org):
    page = logged_in_page
    page.set_viewport_size({"width": 1366, "height": 900})
    open_list(page, org)
    expect(rows(page)).to_have_count(50)
    expect(page.locator("#firmware-cards")).to_be_hidden()
    expect(page.get_by_label("Name contains")).to_be_visible()
    expect(page.locator("#filters > summary")).to_be_hidden()
    assert page.evaluate("document.documentElement.scrollWidth") <= 1366


@pytest.mark.browser
def test_sorting_by_a_column_header_sorts_this_page_and_paging_keeps_it(logged_in_page: Page, org):
    page = logged_in_page
    page.goto(f"{list_path(org)}?page_size=10&verified=true")
    expect(rows(page)).to_have_count(10)
    page.locator("#firmware-table thead").get_by_role("link", name="Size").click()
    expect(page).to_have_url(re.compile(r"[?&]sort=size(&|$)"))
    size_header = page.locator("#firmware-table thead th", has_text="Size")
    expect(size_header).to_have_attribute("aria-sort", "ascending")
    expect(page.locator("#sort-note")).to_contain_text("Only the rows of this page are sorted")

    on_page = [f for f in newest_first(FIXTURES) if f.get("isVerified") is True][:10]
    sizes = sorted(int(f["fileSize"]) for f in on_page if f.get("fileSize") is not None)
    titles = (
        rows(page)
        .locator("td.num span")
        .evaluate_all("spans => spans.map(span => Number(span.title.replaceAll(',', '')))")
    )
    assert titles == sizes

    page.locator("#firmware-table thead").get_by_role("link", name="Size").click()
    expect(size_header).to_have_attribute("aria-sort", "descending")
    query = query_of(page)
    assert query["sort"] == ["-size"] and query["verified"] == ["true"]
    page.locator("nav.pagination a[rel=next]").click()
    expect(page).to_have_url(re.compile(r"[?&]page=2(&|$)"))
    assert query_of(page)["sort"] == ["-size"]
    expect(size_header).to_have_attribute("aria-sort", "descending")


@pytest.mark.browser
def test_the_breadcrumb_leads_back_to_the_filtered_list(logged_in_page: Page, live_server, org):
    page = logged_in_page
    filtered = f"{list_path(org)}?verified=true&page_size=5&page=2&sort=name"
    page.goto(filtered)
    link = rows(page).first.locator("td:nth-child(1) a")
    name = link.inner_text().strip()
    link.click()
    expect(page.locator("#firmware-name")).to_have_text(name)
    trail = page.locator("nav.breadcrumbs")
    expect(trail.locator('[aria-current="page"]')).to_have_text(name)
    font = trail.locator('[aria-current="page"]').evaluate("e => getComputedStyle(e).fontFamily")
    assert "mono" not in font.lower()
    trail.get_by_role("link", name=org.name).click()
    expect(page).to_have_url(f"{live_server.url}{filtered}")
    expect(rows(page)).to_have_count(5)

    # The same page opened afresh (no list behind it) leads to the plain list.
    page.goto(f"{list_path(org)}{QUOTE_NAME_ID}/")
    expect(trail.get_by_role("link", name=org.name)).to_have_attribute("href", list_path(org))


@pytest.mark.browser
def test_the_old_org_page_opens_the_list(logged_in_page: Page, live_server, org):
    page = logged_in_page
    page.goto(f"/orgs/{org.slug}/")
    expect(page).to_have_url(f"{live_server.url}{list_path(org)}")
    page.locator("#find-by-id > summary").click()
    page.get_by_label("Firmware ID").fill(QUOTE_NAME_ID)
    page.get_by_role("button", name="Find firmware").click()
    expect(page).to_have_url(f"{live_server.url}{list_path(org)}{QUOTE_NAME_ID}/")
