"""What the firmware page says, in every language: thresholds as a requirement, each other name
once, one wording for an unverified firmware, a file id that wraps after its slashes."""

import re

import pytest
from django.urls import reverse

from enos_simulator import DEMO_ORG_ID
from tests.conftest import text_of
from tests.test_history import turbine

TURBINE = "fw-turbine-ctrl-3.2.1"


def detail_url(firmware_id):
    return reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": firmware_id})


def page_in(client, language, firmware_id=TURBINE):
    return text_of(client.get(detail_url(firmware_id), HTTP_ACCEPT_LANGUAGE=language))


def thresholds_in(page):
    return re.search(r'<span id="threshold-requirement">(.*?)</span>', page).group(1)


@pytest.mark.django_db
def test_thresholds_are_one_sentence_naming_a_requirement_not_progress(operator_client):
    page = page_in(operator_client, "en")
    assert thresholds_in(page) == "Needs 8 successful devices; at most 10 devices take part."
    assert "<meter" not in page and "8 of 10" not in page


@pytest.mark.django_db
def test_each_threshold_count_is_pluralised_on_its_own(operator_client, simulator):
    simulator.add_firmware(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": "fw-one",
            "maxAllowedForVerification": 1,
            "minSuccessForVerified": 1,
        }
    )
    page = page_in(operator_client, "en", "fw-one")
    assert thresholds_in(page) == "Needs 1 successful device; at most 1 device takes part."
    page = page_in(operator_client, "es", "fw-one")
    assert thresholds_in(page) == (
        "Se necesita 1 dispositivo con éxito; participa como máximo 1 dispositivo."
    )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "sentence"),
    [
        ("zh-hans", "需要 8 台设备验证成功；最多 10 台设备参与。"),
        ("ja", "8 台のデバイスで成功する必要があります。参加できるデバイスは最大 10 台です。"),
        ("es", "Se necesitan 8 dispositivos con éxito; participan como máximo 10 dispositivos."),
    ],
)
def test_thresholds_read_as_one_sentence_in_each_language(operator_client, language, sentence):
    page = page_in(operator_client, language)
    assert thresholds_in(page) == sentence
    section = page[page.index('id="thresholds"') : page.index('id="tags-heading"')]
    assert not re.search(r"[。；]\s", section), "a space after a full stop in " + language


def other_names_in(page):
    names = re.search(r'<ul class="plain-list" id="other-names">(.*?)</ul>', page, re.S)
    return re.findall(r"<li>(.*?)</li>", names.group(1)) if names else []


def values_of(items):
    return [re.sub(r"<[^>]+>", "", item).split(": ", 1)[1] for item in items]


@pytest.mark.django_db
@pytest.mark.parametrize("language", ["zh-hans", "ja", "es"])
def test_other_names_list_each_value_once_and_not_the_one_shown(operator_client, language):
    page = page_in(operator_client, language)
    shown = re.search(r'<h1 id="firmware-name"><bdi>(.*?)</bdi></h1>', page).group(1)
    values = values_of(other_names_in(page))
    assert len(values) == len(set(values)) == 3, values
    assert shown not in values
    assert "Turbine controller" in values


@pytest.mark.django_db
def test_a_default_name_unlike_every_translation_is_listed_as_the_default(
    operator_client, simulator
):
    simulator.add_firmware(
        turbine(
            name={
                "defaultValue": "TC",
                "i18nValue": {"en_US": "Turbine controller", "zh_CN": "风机控制器"},
            }
        )
    )
    items = other_names_in(page_in(operator_client, "zh-hans"))
    assert values_of(items) == ["Turbine controller", "TC"]
    assert "默认" in items[1]


@pytest.mark.django_db
def test_unverified_firmware_is_not_verified_in_the_header_as_in_the_list(operator_client):
    page = page_in(operator_client, "en", "fw-unverified")
    start = page.index('<header class="page-header">')
    header = page[start : page.index("</header>", start)]
    assert '<span class="badge badge-warn">Not verified</span>' in header
    assert "Not verified yet" not in page


@pytest.mark.django_db
def test_the_file_id_may_break_only_after_its_slashes(operator_client):
    raw = operator_client.get(detail_url(TURBINE)).content.decode()
    assert (
        '<code class="copyable" id="file-url">'
        "<bdi>enos-connect://<wbr>2325a9b338800000.zip</bdi></code>"
    ) in raw


@pytest.mark.django_db
def test_the_page_header_has_a_copy_link_button(operator_client):
    page = page_in(operator_client, "ja")
    header = page[page.index('<header class="page-header">') :]
    assert re.search(r"<button [^>]*data-copy-link[^>]*>リンクをコピー</button>", header)
