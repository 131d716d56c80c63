"""Text EnOS sends cannot reorder the page around it: right-to-left override characters (U+202E)
and other bidi controls in names, versions, tags and messages stay inside a <bdi>, and inside
FIRST STRONG ISOLATE … POP DIRECTIONAL ISOLATE in the <title>."""

import re

import pytest
from django.test import RequestFactory
from django.urls import reverse
from django.utils.safestring import SafeString

from enos_simulator import DEMO_ORG_ID, DEMO_ORG_ID_2
from firmware.enos.errors import UpstreamError
from firmware.error_pages import enos_error_response
from firmware.templatetags.firmware_format import bdi, isolate
from tests.conftest import make_org

RLO, PDF = "\u202e", "\u202c"  # RIGHT-TO-LEFT OVERRIDE, POP DIRECTIONAL FORMATTING
FSI, PDI, RLI = "\u2068", "\u2069", "\u2067"
HOSTILE = "fw-hostile"
NAME = f"Invoice{RLO}fdp.exe"
VERSION = f"1.0{RLO}-beta"
HOSTILE_FIRMWARE = {
    "firmwareId": HOSTILE,
    "name": {
        "defaultValue": NAME,
        "i18nValue": {"en_US": NAME, "zh_CN": f"固件{RLO}ABC", f"xx{RLO}_YY": "other"},
    },
    "version": VERSION,
    "desc": f"first line{RLO}\nsecond line",
    "productKey": f"PK{RLO}1",
    "signMethod": f"sha{RLO}256",
    "sign": f"abc{RLO}def",
    "fileUrl": f"enos-connect://{RLO}evil.zip",
    "fileSize": 1024,
    "firmwareTags": {f"site{RLO}": f"north{RLO}", "channel": f"{PDI}{RLO}stable"},
    "createTime": 4102444800000,  # newest, so it tops the list
}


def detail_url(firmware_id=HOSTILE, slug="demo"):
    return reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": firmware_id})


def unisolated(page: str) -> str:
    """The page without its isolated runs: what is left must hold no bidi control from EnOS."""
    page = re.sub(r"<bdi\b[^>]*>.*?</bdi>", "", page, flags=re.DOTALL)
    return re.sub(f"{FSI}[^{FSI}{PDI}]*{PDI}", "", page)


def assert_isolated(page: str) -> None:
    assert RLO in page, "the test firmware was not shown at all"
    leftover = unisolated(page)
    assert RLO not in leftover, leftover[max(0, leftover.find(RLO) - 200) :][:400]
    for run in re.findall(r"<bdi\b[^>]*>(.*?)</bdi>", page, flags=re.DOTALL):
        assert run.count(PDI) <= run.count(RLI) + run.count(FSI), run  # no PDI closes the <bdi>


@pytest.fixture
def hostile(simulator):
    for org_id in (DEMO_ORG_ID, DEMO_ORG_ID_2):
        simulator.add_firmware({**HOSTILE_FIRMWARE, "orgId": org_id})


@pytest.mark.django_db
def test_the_detail_page_isolates_everything_enos_sent(operator_client, hostile):
    page = operator_client.get(detail_url()).content.decode()
    assert f'<h1 id="firmware-name"><bdi>{NAME}</bdi></h1>' in page
    assert f'<span class="version">version <bdi>{VERSION}</bdi></span>' in page
    assert f"<title>{FSI}{NAME}{PDI} {FSI}{VERSION}{PDI} · fwportal</title>" in page
    assert f'<span class="chip-key"><bdi>site{RLO}</bdi></span>' in page
    assert f'<span class="chip-value"><bdi>north{RLO}</bdi></span>' in page
    assert f'<bdi lang="zh-CN">固件{RLO}ABC</bdi>' in page
    assert f'<span class="muted"><bdi>xx{RLO}_YY</bdi>:</span>' in page  # an unknown locale
    assert f"<bdi>first line{RLO}<br>second line</bdi>" in page
    assert_isolated(page)


@pytest.mark.django_db
def test_the_list_isolates_names_and_versions(operator_client, hostile):
    page = operator_client.get(reverse("firmware:firmware_list", args=["demo"])).content.decode()
    assert f'<a href="{detail_url()}"><bdi>{NAME}</bdi></a>' in page
    assert f"<td><bdi>{VERSION}</bdi></td>" in page
    assert_isolated(page)


@pytest.mark.django_db
def test_find_results_isolate_names_and_versions(operator_client, simulator, granted, hostile):
    make_org(simulator.url, slug="solar", org_id=DEMO_ORG_ID_2).granted_users.add(granted)
    response = operator_client.get(
        reverse("firmware:find_firmware"), {"org": "", "firmware_id": HOSTILE}
    )
    page = response.content.decode()
    assert response.status_code == 200 and "Found in 2 organizations" in page
    assert f"<bdi>{NAME}</bdi> — version <bdi>{VERSION}</bdi>" in page
    assert_isolated(page)


@pytest.mark.django_db
def test_recently_viewed_isolates_names_and_versions(operator_client, hostile):
    operator_client.get(detail_url())
    page = operator_client.get(reverse("firmware:home")).content.decode()
    assert f'<a href="{detail_url()}"><bdi>{NAME}</bdi></a>' in page
    assert f'<span class="muted"><bdi>{VERSION}</bdi></span>' in page
    assert_isolated(page)


@pytest.mark.django_db
def test_error_pages_isolate_what_enos_said(org, operator):
    request = RequestFactory().get(detail_url())
    request.user = operator
    error = UpstreamError(f"quota{RLO} exceeded", code=50000, request_id=f"req{RLO}1")
    page = enos_error_response(request, org, error).content.decode()
    assert f'<dd class="mono" id="request-id"><bdi>req{RLO}1</bdi></dd>' in page
    assert f"<dd><bdi>quota{RLO} exceeded</bdi></dd>" in page
    assert_isolated(page)


def test_bdi_escapes_and_drops_a_pdi_that_would_close_it():
    assert bdi("<b>x</b>") == "<bdi>&lt;b&gt;x&lt;/b&gt;</bdi>"
    assert bdi(SafeString("a<br>b")) == "<bdi>a<br>b</bdi>"  # already safe: not escaped twice
    assert bdi(f"{PDI}{RLO}x") == f"<bdi>{RLO}x</bdi>"
    assert bdi(f"{RLI}x{PDI}{PDI}") == f"<bdi>{RLI}x{PDI}</bdi>"
    assert bdi(None) == bdi("") == ""
    assert bdi(0) == "<bdi>0</bdi>"


def test_isolate_wraps_in_fsi_and_pdi_and_drops_a_pdi_that_would_close_it():
    assert isolate(NAME) == f"{FSI}{NAME}{PDI}"
    assert isolate(f"a{PDI}{RLO}b{PDF}") == f"{FSI}a{RLO}b{PDF}{PDI}"
    assert isolate(f"{FSI}x{PDI}") == f"{FSI}{FSI}x{PDI}{PDI}"
    assert isolate(None) == isolate("") == ""
