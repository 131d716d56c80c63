"""The admin in real headless Chromium, at a common laptop size."""

import pytest
from playwright.sync_api import Page, expect

from tests.browser.conftest import ARTIFACTS
from tests.conftest import PASSWORD, make_org

LAPTOP = {"width": 1366, "height": 768}
# Lengths real EnOS settings come in: a regional gateway host, a 36-character access key.
GATEWAY = "https://apim-gateway-eu-central-1.enos-iot.example-energy.com/enos/api"
ACCESS_KEY = "2f6a1c4e-93b1-4d7e-b8a2-5c0e7f19d3a6"


@pytest.fixture
def admin_page(page: Page, live_server, transactional_db, django_user_model) -> Page:
    django_user_model.objects.create_superuser("admin", password=PASSWORD)
    page.goto("/admin/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page).to_have_url(f"{live_server.url}/admin/")
    return page


@pytest.mark.browser
@pytest.mark.parametrize("language", ["en", "es"])  # Spanish: the longest headers and dates
def test_the_org_list_fits_a_1366_pixel_screen_with_the_updated_column_visible(
    admin_page: Page, live_server, language
):
    for number, name in enumerate(["Demo Wind Farm", "Northern Offshore Wind Cluster B"]):
        make_org(
            GATEWAY,
            slug=f"org-{number}-of-the-north-sea-portfolio",
            name=name,
            org_id=f"o1547546676637{number}",
            access_key=ACCESS_KEY,
        )
    admin_page.context.add_cookies(
        [{"name": "django_language", "value": language, "url": live_server.url}]
    )
    admin_page.set_viewport_size(LAPTOP)
    admin_page.goto("/admin/firmware/org/")
    updated = admin_page.locator("th.column-updated")
    expect(updated).to_have_text({"en": "Updated", "es": "Fecha de actualización"}[language])
    admin_page.screenshot(path=ARTIFACTS / f"admin-org-list-1366-{language}.png", full_page=True)
    header = updated.bounding_box()
    table_box = admin_page.locator("#changelist .results").bounding_box()
    assert header is not None and table_box is not None
    right_edge = header["x"] + header["width"]
    assert right_edge <= min(LAPTOP["width"], table_box["x"] + table_box["width"])
    sideways = admin_page.evaluate(
        """() => [document.documentElement, document.querySelector('#changelist .results')]
            .filter(box => box.scrollWidth > box.clientWidth).map(box => box.className || 'page')"""
    )
    assert sideways == [], f"scrolls sideways: {sideways}"
