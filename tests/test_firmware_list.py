"""The org's firmware list: filters, expression quoting, paging, cache feeding, errors."""

import re

import pytest
from django.urls import reverse

from enos_simulator import DEMO_ORG_ID, Fault
from firmware.search import FirmwareFilters, quote
from tests.conftest import text_of
from tests.demo_fixtures import DEMO_FIRMWARE as FIXTURES
from tests.demo_fixtures import newest_first
from tests.test_history import turbine

LIST_URL = reverse("firmware:firmware_list", kwargs={"slug": "demo"})


def listing(client, **params):
    response = client.get(LIST_URL, params)
    return response, text_of(response)


def ids_on(response):
    return [firmware.firmware_id for firmware in response.context["listing"].page.items]


def test_quote_escapes_quotes_and_backslashes():
    assert quote("O'Brien") == r"'O\'Brien'"
    assert quote("a\\'b") == r"'a\\\'b'"
    assert quote("100%_x") == "'100%_x'"


def test_expressions_from_filters():
    assert FirmwareFilters().expression() is None
    assert FirmwareFilters(name_contains="风机").expression() == "name like '风机'"
    assert FirmwareFilters(product_keys=("A",)).expression() == "productKey = 'A'"
    assert (
        FirmwareFilters("x", ("A", "B"), False).expression()
        == "name like 'x' and productKey in ('A', 'B') and isVerified = false"
    )


@pytest.mark.django_db
def test_the_list_is_newest_first_with_links_to_detail_pages(operator_client):
    response, page = listing(operator_client)
    assert response.status_code == 200
    newest = newest_first(FIXTURES)[:50]
    assert ids_on(response) == [f["firmwareId"] for f in newest]
    assert f"Showing 1–50 of {len(FIXTURES)}" in page
    link = 'href="/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/"><bdi>Turbine controller</bdi></a>'
    assert link in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"productKey": "BXwU4kMk"}, lambda f: f.get("productKey") == "BXwU4kMk"),
        (
            {"productKey": "BXwU4kMk, Qw3rTy12"},
            lambda f: f.get("productKey") in ("BXwU4kMk", "Qw3rTy12"),
        ),
        ({"verified": "true"}, lambda f: f.get("isVerified") is True),
        ({"verified": "false"}, lambda f: f.get("isVerified") is False),
        (
            {"productKey": "Qw3rTy12", "verified": "true"},
            lambda f: f.get("productKey") == "Qw3rTy12" and f.get("isVerified") is True,
        ),
    ],
)
def test_each_filter_alone_and_combined(operator_client, params, expected):
    response, _ = listing(operator_client, page_size=200, **params)
    assert response.status_code == 200
    wanted = {f["firmwareId"] for f in FIXTURES if expected(f)}
    assert wanted
    assert set(ids_on(response)) == wanted


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("q", "expected_id"),
    [
        ("O'Brien", "fw-quote-name"),
        ("100%", "fw-quote-name"),
        ("firmware_v2", "fw-quote-name"),
        ('"test"', "fw-quote-name"),
        ("边缘网关固件", "fw-unicode-name"),
        ("pitch and yaw", "fw-pitch-and-yaw"),
    ],
)
def test_name_search_quotes_the_value_safely(operator_client, simulator, q, expected_id):
    response, _ = listing(operator_client, q=q)
    assert response.status_code == 200
    assert ids_on(response) == [expected_id]


@pytest.mark.django_db
def test_a_quote_cannot_change_the_expression(operator_client):
    response, _ = listing(operator_client, q="x' or productKey = 'BXwU4kMk")
    assert response.status_code == 200
    assert ids_on(response) == []
    assert (
        "No firmware with these filters has “x' or productKey = 'BXwU4kMk” in its default,"
        " Chinese or English name." in text_without_tags(response)
    )


@pytest.mark.django_db
def test_filters_are_kept_in_the_pagination_links(operator_client):
    response, page = listing(operator_client, verified="true", page_size=5, page=2)
    assert (
        'href="?verified=true&amp;page_size=5&amp;page=3" rel="next"' in response.content.decode()
    )
    assert "Showing 6–10 of" in page


@pytest.mark.django_db
def test_first_and_last_page(operator_client):
    total = len(FIXTURES)
    last = -(-total // 10)
    response, page = listing(operator_client, page_size=10, page=last)
    assert f"Showing {(last - 1) * 10 + 1}–{total} of {total}" in page
    assert 'rel="next"' not in response.content.decode()
    response, _ = listing(operator_client, page_size=10)
    assert 'rel="prev"' not in response.content.decode()
    assert f"Page 1 of {last}" in text_of(response)


@pytest.mark.django_db
def test_a_page_beyond_the_last_goes_to_the_last_page(operator_client):
    response = operator_client.get(LIST_URL, {"page_size": 10, "page": 99, "verified": "true"})
    verified = sum(1 for f in FIXTURES if f.get("isVerified") is True)
    assert response.status_code == 302
    assert (
        response["Location"] == f"{LIST_URL}?page_size=10&page={-(-verified // 10)}&verified=true"
    )
    followed = operator_client.get(response["Location"])
    assert followed.status_code == 200
    assert followed.context["listing"].page.page_no == followed.context["listing"].page.last_page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"page_size": "201"}, "less than or equal to 200"),
        ({"page_size": "0"}, "greater than or equal to 1"),
        ({"page": "0"}, "greater than or equal to 1"),
        ({"page": "two"}, "Enter a whole number"),
        ({"verified": "maybe"}, "Select a valid choice"),
        ({"productKey": "BXw'U4"}, "is not a product key"),
        ({"q": "x" * 101}, "at most 100 characters"),
    ],
)
def test_invalid_filters_give_the_form_back_with_a_message(
    operator_client, simulator, params, message
):
    response, page = listing(operator_client, **params)
    assert response.status_code == 400
    assert message in page
    assert "Please correct the filters below." in page
    assert simulator.counters["search"] == 0


@pytest.mark.django_db
def test_a_nonsense_size_makes_the_list_a_bad_answer_naming_it(operator_client, simulator):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": "fw-odd",
            "name": {"defaultValue": "Odd sizes"},
            "fileSize": -5,
        }
    )
    response, page = listing(operator_client, q="Odd sizes")
    assert response.status_code == 502
    assert "FirmwareInfo field fileSize is out of range" in page
    assert "-5 B" not in page and 'title="-5"' not in page


@pytest.mark.django_db
def test_opening_a_firmware_from_the_list_costs_no_second_call(operator_client, simulator):
    response, _ = listing(operator_client, page_size=10)
    for firmware_id in ids_on(response)[:3]:
        detail = reverse(
            "firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": firmware_id}
        )
        assert operator_client.get(detail).status_code == 200
    assert simulator.counters["search"] == 1
    assert simulator.counters["get"] == 0


@pytest.mark.django_db
def test_list_errors_are_error_pages(operator_client, simulator, settings):
    settings.ENOS_READ_TIMEOUT = 0.5
    settings.ENOS_FAILURE_SECONDS = 0  # each failure asks EnOS again
    simulator.fault = Fault("slow", delay=2)
    assert listing(operator_client)[0].status_code == 504
    simulator.fault = Fault("http500")
    assert listing(operator_client)[0].status_code == 502
    simulator.stop()
    assert listing(operator_client)[0].status_code == 503


@pytest.mark.django_db
def test_the_list_is_served_stale_when_enos_goes_down(operator_client, simulator, settings):
    settings.FIRMWARE_CACHE_SECONDS = 0
    listing(operator_client)
    simulator.stop()
    response, page = listing(operator_client)
    assert response.status_code == 200
    assert "EnOS is unreachable, showing data fetched just now." in page
    assert len(ids_on(response)) == 50


@pytest.mark.django_db
def test_an_org_not_granted_is_404(client, org, outsider, simulator):
    client.force_login(outsider)
    assert client.get(LIST_URL).status_code == 404
    assert simulator.counters["search"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("firmware_id", ["a/b", "fw 1", "fw-" + "x" * 200, "../admin", ".", ".."])
def test_a_firmware_whose_id_cannot_be_a_url_is_listed_without_a_link(
    operator_client, simulator, firmware_id
):
    simulator.add_firmware(
        {"orgId": DEMO_ORG_ID, "firmwareId": firmware_id, "name": {"defaultValue": "Unlinkable"}}
    )
    response, page = listing(operator_client, q="Unlinkable")
    assert response.status_code == 200
    assert "Unlinkable" in page
    assert 'href="/orgs/demo/firmware/' not in page.split("<tbody>")[1].split("</tbody>")[0]


@pytest.mark.django_db
def test_the_table_and_the_cards_link_the_same_firmware_the_same_way(operator_client, simulator):
    for firmware_id in ("Linkable.v2_0-b", "linkable/no"):
        simulator.add_firmware(
            {"orgId": DEMO_ORG_ID, "firmwareId": firmware_id, "name": {"defaultValue": "Linkable"}}
        )
    response, _ = listing(operator_client, q="Linkable")
    html = response.content.decode()
    table = html.split("<tbody>")[1].split("</tbody>")[0]
    cards = html.split('id="firmware-cards">')[1].split("</ol>")[0]
    url = reverse(
        "firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": "Linkable.v2_0-b"}
    )
    for shown in (table, cards):
        assert shown.count('href="/orgs/demo/firmware/') == 1
        assert f'<a href="{url}"><bdi>Linkable</bdi></a>' in shown
        assert shown.count("<bdi>Linkable</bdi>") == 2


def rows_of(html: str) -> tuple[str, str]:
    """The table's body and the cards."""
    cards = html.split('id="firmware-cards">')[1].split("</ol>")[0]
    return html.split("<tbody>")[1].split("</tbody>")[0], cards


@pytest.mark.django_db
def test_rows_are_drawn_again_when_what_they_show_changes(operator_client, simulator, settings):
    settings.FIRMWARE_CACHE_SECONDS = 0  # each list asks EnOS again
    _, before = listing(operator_client, q="Turbine")
    _, again = listing(operator_client, q="Turbine")
    assert rows_of(again) == rows_of(before)  # kept drawn, and the same
    simulator.add_firmware(turbine(version="3.2.9", name={"defaultValue": "Turbine v9"}))
    _, changed = listing(operator_client, q="Turbine")
    for shown in rows_of(changed):
        assert "<bdi>Turbine v9</bdi>" in shown and "<bdi>3.2.9</bdi>" in shown
        assert "3.2.1</bdi>" not in shown.replace("fw-turbine-ctrl-3.2.1", "")
    # Rows that read the same in every language (a name without translations, nothing dated)
    # are drawn again for another language's labels.
    simulator.add_firmware(
        {"orgId": DEMO_ORG_ID, "firmwareId": "fw-plain", "name": {"defaultValue": "Plain"}}
    )
    english = text_of(operator_client.get(LIST_URL, {"q": "Plain"}))
    japanese = text_of(operator_client.get(LIST_URL, {"q": "Plain"}, HTTP_ACCEPT_LANGUAGE="ja"))
    assert "<dt>Version</dt>" in rows_of(english)[1]
    assert "<dt>バージョン</dt>" in rows_of(japanese)[1]


# What the name box searches, and what it says of ids and versions typed there.


def text_without_tags(response) -> str:
    return re.sub(r"<[^>]+>", "", text_of(response))


@pytest.mark.django_db
def test_the_name_box_says_which_names_it_searches(operator_client):
    _, page = listing(operator_client)
    assert "Searches the default, Chinese and English names only." in page
    assert 'aria-describedby="id_q_helptext"' in page and 'id="id_q_helptext"' in page


@pytest.mark.django_db
def test_a_search_without_results_names_what_was_searched(operator_client):
    response, _ = listing(operator_client, q="Molino de viento")
    assert ids_on(response) == []
    assert (
        "No firmware with these filters has “Molino de viento” in its default, Chinese or"
        " English name." in text_without_tags(response)
    )


@pytest.mark.django_db
def test_an_id_typed_in_the_name_box_is_offered_as_a_link(operator_client):
    response, page = listing(operator_client, q="fw-turbine-ctrl-3.2.1")
    assert ids_on(response) == []
    assert "looks like a firmware ID" in text_without_tags(response)
    assert 'href="/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/">Open firmware' in page


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["Turbine", "风机", "pitch and yaw", "3.2.1"])
def test_names_and_versions_are_not_offered_as_ids(operator_client, q):
    _, page = listing(operator_client, q=q)
    assert 'id="id-hint"' not in page


@pytest.mark.django_db
@pytest.mark.parametrize("q", ["3.2.1", "v3.2", "2.0.0-beta.1"])
def test_a_version_typed_in_the_name_box_says_enos_cannot_search_by_version(operator_client, q):
    response, _ = listing(operator_client, q=q, verified="true", page=1)
    assert "looks like a version. EnOS cannot search by version" in text_without_tags(response)
    # The offer keeps the other filters and drops the name and the page number.
    assert 'href="?verified=true&sort=-version&page_size=200"' in text_of(response)


@pytest.mark.django_db
def test_names_are_not_taken_for_versions(operator_client):
    _, page = listing(operator_client, q="Turbine")
    assert 'id="version-hint"' not in page


# Sorting the rows of the page (EnOS cannot sort).

SORTABLE = [
    (
        "Sortable Beta",
        {"firmwareId": "fw-sort-a", "version": "3.9", "fileSize": 300, "createTime": 3},
    ),
    (
        "sortable alpha",
        {"firmwareId": "fw-sort-b", "version": "3.10", "fileSize": 100, "createTime": 1},
    ),
    ("Sortable Delta", {"firmwareId": "fw-sort-c", "version": "v3.2", "createTime": 2}),
    ("Sortable", {"firmwareId": "fw-sort-d", "fileSize": 200}),
]


@pytest.fixture
def sortable(simulator):
    for name, fixture in SORTABLE:
        simulator.add_firmware({"orgId": DEMO_ORG_ID, "name": {"defaultValue": name}, **fixture})


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("", ["fw-sort-a", "fw-sort-c", "fw-sort-b", "fw-sort-d"]),
        ("name", ["fw-sort-d", "fw-sort-b", "fw-sort-a", "fw-sort-c"]),
        ("-name", ["fw-sort-c", "fw-sort-a", "fw-sort-b", "fw-sort-d"]),
        ("version", ["fw-sort-c", "fw-sort-a", "fw-sort-b", "fw-sort-d"]),
        ("-version", ["fw-sort-b", "fw-sort-a", "fw-sort-c", "fw-sort-d"]),
        ("size", ["fw-sort-b", "fw-sort-d", "fw-sort-a", "fw-sort-c"]),
        ("-size", ["fw-sort-a", "fw-sort-d", "fw-sort-b", "fw-sort-c"]),
        ("created", ["fw-sort-b", "fw-sort-c", "fw-sort-a", "fw-sort-d"]),
        ("-created", ["fw-sort-a", "fw-sort-c", "fw-sort-b", "fw-sort-d"]),
    ],
)
def test_sorting_the_page_naturally_with_missing_values_last(
    operator_client, sortable, sort, expected
):
    response = operator_client.get(LIST_URL, {"q": "Sortable", "sort": sort})
    assert response.status_code == 200
    shown = [firmware.firmware_id for firmware in response.context["listing"].items]
    assert shown == expected
    rows = response.content.decode().split("<tbody>")[1].split("</tbody>")[0]
    assert re.findall(r"fw-sort-\w", rows) == [i for i in expected for _ in range(2)]


@pytest.mark.django_db
def test_sort_links_keep_the_filters_and_mark_the_sorted_column(operator_client):
    response, page = listing(operator_client, verified="true", page_size=5, page=2)
    html = response.content.decode()
    assert '<th scope="col" aria-sort="descending"><a href="?verified=true&amp;page_size=5' in html
    assert 'href="?verified=true&amp;page_size=5&amp;page=2&amp;sort=name">Name</a>' in html
    assert "Sorting by a column sorts only the rows of this page, as EnOS cannot sort." in page

    response, page = listing(operator_client, verified="true", page_size=5, page=2, sort="name")
    html = response.content.decode()
    assert 'aria-sort="ascending"><a href="?verified=true&amp;page_size=5&amp;page=2' in html
    assert 'sort=-name">Name</a>' in html
    assert html.count("aria-sort=") == 1
    assert "Sorted: Name, A to Z. Only the rows of this page are sorted" in page
    assert 'href="?verified=true&amp;page_size=5&amp;page=3&amp;sort=name" rel="next"' in html
    assert 'href="?verified=true&amp;page_size=5&amp;page=2">Back to EnOS' in html


@pytest.mark.django_db
def test_a_bad_sort_is_a_field_error(operator_client, simulator):
    response, page = listing(operator_client, sort="firmwareId")
    assert response.status_code == 400
    assert "Select a valid choice. firmwareId is not one of the available choices." in page
    assert simulator.counters["search"] == 0


@pytest.mark.django_db
def test_the_filters_are_open_when_active_or_wrong_and_closed_otherwise(operator_client):
    assert '<details class="filter-panel" id="filters">' in listing(operator_client)[1]
    _, page = listing(operator_client, verified="true", sort="size")
    assert '<details class="filter-panel" id="filters" open>' in page
    assert "2 active" in page
    _, page = listing(operator_client, page_size="0")
    assert '<details class="filter-panel" id="filters" open>' in page
