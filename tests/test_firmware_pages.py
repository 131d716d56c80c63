"""The firmware detail page against the simulator: every field, every error, every language."""

import re
import uuid

import pytest
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext

from enos_simulator import DEMO_ORG_ID, Fault
from firmware.templatetags.firmware_format import binary_size
from tests.conftest import make_org, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
LEGACY = "fw-legacy-inverter-1.0.4"


def detail_url(firmware_id, slug="demo"):
    return reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": firmware_id})


@pytest.mark.django_db
def test_detail_page_shows_everything_firmware_info_holds(operator_client, simulator):
    response = operator_client.get(detail_url(TURBINE))
    assert response.status_code == 200
    page = text_of(response)
    for expected in [
        '<h1 id="firmware-name"><bdi>Turbine controller</bdi></h1>',
        '<bdi lang="zh-CN">风机控制器</bdi>',
        '<bdi lang="ja-JP">風車コントローラ</bdi>',
        "Controlador de turbina",
        "version <bdi>3.2.1</bdi>",
        "Main controller firmware",
        "enos-connect://<wbr>2325a9b338800000.zip",
        "50.0 MiB",
        "52,428,800 bytes",
        "SHA256",
        "013bec8fd20f741dc3c6e6441db5ae512b11cbe0de6754507becf5d7e0593c0c",
        "Verification required",
        "Needs 8 successful devices; at most 10 devices take part.",
        '<span class="chip-key"><bdi>site</bdi></span>'
        '<span class="chip-value"><bdi>north</bdi></span>',
        "fw-turbine-ctrl-3.2.1",
        "o15475466766371",
        # Created, in the site's zone (UTC) as no browser said its own, to the minute.
        '<time datetime="2024-06-10T09:39:05.678000+00:00" data-zone="UTC" title="UTC (UTC+00:00)">'
        "June 10, 2024, 9:39 AM UTC</time>",
    ]:
        assert expected in page, expected
    assert 'class="badge badge-ok">Verified<' in page
    assert "old firmware file" not in page
    request_id = response.context["page"].firmware.request_id
    uuid.UUID(request_id)  # the simulator's, not a placeholder
    assert f'<dd class="mono" id="request-id"><bdi>{request_id}</bdi></dd>' in page
    assert 'data-method="sha256"' in page


@pytest.mark.django_db
def test_old_firmware_shows_product_key_and_the_absence_of_optional_fields(operator_client):
    page = text_of(operator_client.get(detail_url(LEGACY)))
    assert "BXwU4kMk" in page and "old firmware file" in page
    assert "No description" in page
    assert "No tags" in page
    assert "No thresholds set" in page
    assert "1.0 MiB" in page and "1,048,576 bytes" in page
    assert 'data-method="md5"' in page
    assert "Not verified" in page


@pytest.mark.django_db
def test_firmware_without_name_or_size_still_renders(operator_client):
    page = text_of(operator_client.get(detail_url("fw-no-name")))
    assert '<h1 id="firmware-name"><bdi>fw-no-name</bdi></h1>' in page
    assert "No name" in page


NONSENSE_SIZES = [-5, -(1024**3), 1024**5, 2**70]
NONSENSE_THRESHOLDS = [
    ("maxAllowedForVerification", -1),
    ("minSuccessForVerified", -2),
    ("maxAllowedForVerification", 2**40),
]


@pytest.mark.django_db
@pytest.mark.parametrize("size", NONSENSE_SIZES)
def test_a_nonsense_size_is_a_bad_answer_naming_the_field(operator_client, simulator, size):
    simulator.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": "fw-odd", "fileSize": size})
    response = operator_client.get(detail_url("fw-odd"))
    assert response.status_code == 502
    page = text_of(response)
    assert "FirmwareInfo field fileSize is out of range" in page
    assert f"{size:,} bytes" not in page and f"{size} B" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(("field", "count"), NONSENSE_THRESHOLDS)
def test_a_nonsense_threshold_is_a_bad_answer_naming_the_field(
    operator_client, simulator, field, count
):
    simulator.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": "fw-odd", field: count})
    response = operator_client.get(detail_url("fw-odd"))
    assert response.status_code == 502
    assert f"FirmwareInfo field {field} is out of range" in text_of(response)


@pytest.mark.django_db
def test_thresholds_that_contradict_each_other_are_shown_as_unknown(operator_client, simulator):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": "fw-odd",
            "maxAllowedForVerification": 10,
            "minSuccessForVerified": 12,
        }
    )
    page = text_of(operator_client.get(detail_url("fw-odd")))
    assert re.search(r'id="thresholds">\s*<span class="muted">Unknown</span>', page)
    assert "Needs" not in page and "at most" not in page
    assert "No thresholds set" not in page


@pytest.mark.django_db
def test_sensible_edge_values_are_shown_as_given(operator_client, simulator):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": "fw-edges",
            "fileSize": 0,
            "maxAllowedForVerification": 5,
            "minSuccessForVerified": 5,
        }
    )
    page = text_of(operator_client.get(detail_url("fw-edges")))
    assert '<span id="file-size" title="0 bytes">0 B</span>' in page
    assert "Needs 5 successful devices; at most 5 devices take part." in page


def test_binary_size_prints_nothing_for_a_missing_size():
    with translation.override("en"):
        assert binary_size(None) == ""
        assert binary_size(1023) == "1023 B"
        assert binary_size(1024**5 - 1).endswith(" TiB")


@pytest.mark.django_db
def test_tags_and_description_are_escaped(operator_client):
    raw = operator_client.get(detail_url("fw-xss-tags")).content.decode()
    assert "<script>alert(1)</script>" not in raw
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in raw
    assert "<b>html</b>" not in raw
    assert "&lt;b&gt;html&lt;/b&gt;" in raw


@pytest.mark.django_db
def test_stale_banner_when_enos_goes_down(operator_client, simulator):
    assert 'id="stale-banner"' not in operator_client.get(detail_url(TURBINE)).content.decode()
    simulator.stop()
    response = operator_client.post(detail_url(TURBINE), follow=True)
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="stale-banner"' in page
    assert "EnOS is unreachable, showing data fetched just now." in page
    assert "Turbine controller" in page


@pytest.mark.django_db
def test_refresh_fetches_again_and_redirects_to_the_bookmarkable_url(operator_client, simulator):
    operator_client.get(detail_url(TURBINE))
    response = operator_client.post(detail_url(TURBINE))
    assert response.status_code == 302
    assert response["Location"] == detail_url(TURBINE)
    operator_client.get(response["Location"])
    assert simulator.counters["get"] == 2


@pytest.mark.django_db
def test_not_found_is_a_404_naming_the_org_and_the_id(operator_client, org):
    response = operator_client.get(detail_url("no-such-firmware"))
    assert response.status_code == 404
    page = text_of(response)
    assert "Firmware not found" in page
    assert "<code>no-such-firmware</code>" in page and org.name in page
    assert "24404" in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    "firmware_id", ["x" * 129, "bad id", "fw;drop", "fw%27", "名前", "%2E", "%2E%2E"]
)
def test_malformed_ids_are_404_without_asking_enos(operator_client, simulator, firmware_id):
    response = operator_client.get(f"/orgs/demo/firmware/{firmware_id}/")
    assert response.status_code == 404
    assert simulator.counters["get"] == simulator.counters["token_get"] == 0


@pytest.mark.django_db
def test_an_org_not_granted_is_404_for_the_detail_page(client, org, outsider, simulator):
    client.force_login(outsider)
    assert client.get(detail_url(TURBINE)).status_code == 404
    assert simulator.counters["get"] == 0


@pytest.mark.django_db
def test_rejected_credentials_are_a_502_saying_an_admin_must_fix_them(client, operator, simulator):
    make_org(simulator.url, slug="broken", secret="wrong-secret").granted_users.add(operator)
    client.force_login(operator)
    response = client.get(detail_url(TURBINE, slug="broken"))
    assert response.status_code == 502
    page = text_of(response)
    assert "EnOS rejected this organization's credentials" in page
    assert "An administrator must fix" in page
    assert '<dd class="mono" id="enos-code">1003</dd>' in page
    assert "wrong-secret" not in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "status", "title", "has_request_id"),
    [
        (Fault("http500"), 502, "EnOS answered with an error", False),
        (Fault("error_code", code=50000), 502, "EnOS answered with an error", True),
        (Fault("malformed_json"), 502, "EnOS sent an answer fwportal cannot read", False),
        (Fault("data_null"), 502, "EnOS sent an answer fwportal cannot read", True),
        (Fault("slow", delay=2), 504, "EnOS did not answer in time", False),
        (Fault("drop"), 503, "EnOS is unreachable", False),
    ],
)
def test_enos_failures_are_error_pages_with_the_right_status(
    operator_client, simulator, settings, fault, status, title, has_request_id
):
    settings.ENOS_READ_TIMEOUT = 0.5
    simulator.fault = fault
    response = operator_client.get(detail_url(TURBINE))
    assert response.status_code == status
    page = text_of(response)
    assert title in page
    assert ('id="request-id"' in page) is has_request_id
    assert "Traceback" not in page


@pytest.mark.django_db
def test_unreachable_gateway_is_a_503(operator_client, simulator):
    simulator.stop()
    response = operator_client.get(detail_url(TURBINE))
    assert response.status_code == 503
    assert "EnOS is unreachable" in text_of(response)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("accept_language", "html_lang", "name", "created", "numbers"),
    [
        (
            "zh-Hans,zh;q=0.9",
            "zh-hans",
            "风机控制器",
            "2024年6月10日 09:39 UTC",
            ("52428800", "50.0 MiB"),
        ),
        (
            "ja-JP,ja;q=0.9",
            "ja",
            "風車コントローラ",
            "2024年6月10日9:39 UTC",
            ("52,428,800", "50.0 MiB"),
        ),
        (
            "es-ES,es;q=0.9",
            "es",
            "Controlador de turbina",
            "10 de junio de 2024 a las 09:39 UTC",
            ("52\xa0428\xa0800", "50,0 MiB"),
        ),
        (
            "en-US,en;q=0.9",
            "en",
            "Turbine controller",
            "June 10, 2024, 9:39 AM UTC",
            ("52,428,800", "50.0 MiB"),
        ),
    ],
)
def test_language_from_accept_language(
    operator_client, accept_language, html_lang, name, created, numbers
):
    response = operator_client.get(detail_url(TURBINE), HTTP_ACCEPT_LANGUAGE=accept_language)
    page = text_of(response)
    assert f'<html lang="{html_lang}">' in page
    assert f'<h1 id="firmware-name"><bdi>{name}</bdi></h1>' in page
    assert created in page
    assert all(number in page for number in numbers), numbers
    with translation.override(html_lang):
        translated = gettext("Verification required")
        assert translated in page
    if html_lang != "en":
        assert translated != "Verification required", "the catalog lacks this string"


@pytest.mark.django_db
def test_language_switcher_sets_a_cookie_and_keeps_the_url(operator_client):
    response = operator_client.post(
        reverse("set_language"), {"language": "zh-hans", "next": detail_url(TURBINE)}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(TURBINE)
    assert response.cookies["django_language"].value == "zh-hans"
    page = text_of(operator_client.get(detail_url(TURBINE), HTTP_ACCEPT_LANGUAGE="en"))
    assert '<h1 id="firmware-name"><bdi>风机控制器</bdi></h1>' in page


@pytest.mark.django_db
def test_the_name_shown_falls_back_to_any_name_when_the_language_has_none(operator_client):
    page = text_of(operator_client.get(detail_url("fw-unicode-name"), HTTP_ACCEPT_LANGUAGE="es"))
    assert '<h1 id="firmware-name"><bdi>边缘网关固件</bdi></h1>' in page


@pytest.mark.django_db
def test_find_form_trims_and_redirects_to_the_detail_url(operator_client, org):
    response = operator_client.get(
        reverse("firmware:find_firmware"), {"org": org.slug, "firmware_id": f"  {TURBINE}\t"}
    )
    assert response.status_code == 302
    assert response["Location"] == detail_url(TURBINE)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"org": "demo", "firmware_id": "bad id!"}, "A firmware ID holds up to 128"),
        ({"org": "demo", "firmware_id": ".."}, "and is not '.' or '..' alone"),
        ({"org": "demo", "firmware_id": ""}, "This field is required"),
        ({"org": "not-mine", "firmware_id": TURBINE}, "Select a valid choice"),
    ],
)
def test_find_form_bad_input_is_shown_back_with_a_message(operator_client, params, message):
    response = operator_client.get(reverse("firmware:find_firmware"), params)
    assert response.status_code == 400
    assert message in text_of(response)


@pytest.mark.django_db
def test_the_org_list_keeps_what_the_org_page_showed(operator_client, org):
    assert org.get_absolute_url() == "/orgs/demo/firmware/"
    page = text_of(operator_client.get(org.get_absolute_url()))
    assert f'<input type="hidden" name="org" value="{org.slug}">' in page
    assert 'name="firmware_id"' in page
    assert f'<dd class="mono">{org.org_id}</dd>' in page
    assert '<span aria-current="page">Demo</span>' in page


@pytest.mark.django_db
def test_the_org_page_moved_to_its_firmware_list(operator_client, org, outsider, client):
    response = operator_client.get("/orgs/demo/")
    assert response.status_code == 301
    assert response["Location"] == "/orgs/demo/firmware/"
    client.force_login(outsider)
    assert client.get("/orgs/demo/").status_code == 404


def breadcrumbs_of(response) -> str:
    page = response.content.decode()
    return page.split('<nav class="breadcrumbs"')[1].split("</nav>")[0]


@pytest.mark.django_db
def test_breadcrumbs_lead_to_the_list_and_name_the_firmware(operator_client):
    trail = breadcrumbs_of(operator_client.get(detail_url(TURBINE)))
    assert '<a href="/orgs/demo/firmware/" id="breadcrumb-list">Demo</a>' in trail
    # The name is set in the normal font; an id stands in (monospace) only when there is none.
    assert '<span aria-current="page"><bdi>Turbine controller</bdi></span>' in trail


@pytest.mark.django_db
def test_a_firmware_without_a_name_has_its_id_as_last_breadcrumb(operator_client, simulator):
    simulator.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": "fw-nameless", "name": {}})
    trail = breadcrumbs_of(operator_client.get(detail_url("fw-nameless")))
    assert '<span aria-current="page" class="mono"><bdi>fw-nameless</bdi></span>' in trail


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("referer", "list_link"),
    [
        (
            "http://testserver/orgs/demo/firmware/?q=Turbine&verified=true&page=2&sort=-size",
            "/orgs/demo/firmware/?q=Turbine&amp;verified=true&amp;page=2&amp;sort=-size",
        ),
        (  # what is not the list's own is dropped
            "http://testserver/orgs/demo/firmware/?verified=false&utm_source=x&page_size=",
            "/orgs/demo/firmware/?verified=false",
        ),
        ("http://testserver/orgs/demo/firmware/?sort=nonsense", "/orgs/demo/firmware/"),
        ("http://testserver/orgs/demo/firmware/?page=0", "/orgs/demo/firmware/"),
        ("http://elsewhere.example/orgs/demo/firmware/?verified=true", "/orgs/demo/firmware/"),
        ("https://testserver/orgs/demo/firmware/?verified=true", "/orgs/demo/firmware/"),
        ("http://testserver/orgs/other/firmware/?verified=true", "/orgs/demo/firmware/"),
        ("http://testserver/orgs/demo/firmware/x/?verified=true", "/orgs/demo/firmware/"),
        ("http://testserver/?verified=true", "/orgs/demo/firmware/"),
        ("not a url", "/orgs/demo/firmware/"),
    ],
)
def test_the_list_breadcrumb_carries_the_filters_the_user_came_with(
    operator_client, referer, list_link
):
    response = operator_client.get(detail_url(TURBINE), headers={"referer": referer})
    assert response.status_code == 200
    assert f'<a href="{list_link}" id="breadcrumb-list">' in breadcrumbs_of(response)


@pytest.mark.django_db
def test_each_breadcrumb_gets_its_own_cached_page(operator_client, simulator):
    came_from = "http://testserver/orgs/demo/firmware/?verified=true"
    for referer, link in [
        (came_from, "/orgs/demo/firmware/?verified=true"),
        ("", "/orgs/demo/firmware/"),
        (came_from, "/orgs/demo/firmware/?verified=true"),
    ]:
        response = operator_client.get(detail_url(TURBINE), headers={"referer": referer})
        assert f'<a href="{link}" id="breadcrumb-list">' in breadcrumbs_of(response)
    assert simulator.counters["get"] == 1


@pytest.mark.django_db
def test_static_files_get_hashed_names_when_collected(operator_client, settings, tmp_path):
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    page = operator_client.get(detail_url(TURBINE)).content.decode()
    stylesheet = re.search(r'href="/static/(css/fwportal\.[0-9a-f]{12}\.css)"', page)
    assert stylesheet, "the stylesheet is not served under a hashed name"
    assert (tmp_path / stylesheet.group(1)).is_file()
    assert (tmp_path / (stylesheet.group(1) + ".gz")).is_file()
    assert re.search(r'src="/static/vendor/spark-md5/spark-md5\.min\.[0-9a-f]{12}\.js"', page)


@pytest.mark.django_db
def test_a_missing_sign_method_is_unknown_not_none(operator_client):
    page = text_of(operator_client.get(detail_url("fw-null-fields")))
    assert re.search(
        r'<dt>Sign method</dt><dd class="mono"><span class="muted">Unknown</span>', page
    )
    assert "NONE" not in page
