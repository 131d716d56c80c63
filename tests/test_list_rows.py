"""The firmware list's rows: each firmware's link from one reverse() per list, and what a row
shows, in the viewer's language and time zone."""

import random
import string
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.urls import reverse, set_script_prefix
from django.utils import timezone, translation

from firmware.enos.types import FirmwareInfo, I18nString
from firmware.list_rows import ID_SLOT, FirmwareLinks, FirmwareRow, firmware_rows

ROUTABLE_IDS = [
    "fw-turbine-ctrl-3.2.1",
    "0bbf148cbf227b1b1815aa5d",
    "...",
    ".a",
    "-",
    "_",
    "a.b-c_D9",
    "x" * 128,
    ID_SLOT,
    f"{ID_SLOT}-2",
    f"x{ID_SLOT}",
]
UNROUTABLE_IDS = [
    ".",  # a path's "this folder" and "the folder above": browsers resolve them away
    "..",
    "风机-1",
    "a/b",
    "fw 1",
    "",
    "x" * 129,
    "a?b",
    "a#b",
    "%2F",
    "a+b",
    "é",
    "a\u202eb",
]
ID_ALPHABET = string.ascii_letters + string.digits + "._-"


def detail_url(slug: str, firmware_id: str) -> str:
    return reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": firmware_id})


def firmware(**fields) -> FirmwareInfo:
    fields.setdefault("firmware_id", "fw-1")
    fields.setdefault("name", I18nString())
    return FirmwareInfo(org_id="o1", **fields)


@pytest.mark.parametrize("slug", ["demo", "wind-farm_2", ID_SLOT])
@pytest.mark.parametrize("firmware_id", ROUTABLE_IDS)
def test_a_routable_id_links_where_reverse_says(slug, firmware_id):
    assert FirmwareLinks.of_org(slug).url(firmware_id) == detail_url(slug, firmware_id)


def test_any_id_of_the_routable_alphabet_links_where_reverse_says():
    links = FirmwareLinks.of_org("demo")
    picks = random.Random(18)
    for _ in range(500):
        firmware_id = "".join(picks.choices(ID_ALPHABET, k=picks.randint(1, 128)))
        assert links.url(firmware_id) == detail_url("demo", firmware_id)


@pytest.mark.parametrize("firmware_id", UNROUTABLE_IDS)
def test_an_id_that_cannot_be_part_of_a_url_has_no_link(firmware_id):
    assert FirmwareLinks.of_org("demo").url(firmware_id) is None


def test_links_keep_the_sites_script_prefix():
    set_script_prefix("/portal/")
    try:
        url = FirmwareLinks.of_org("demo").url("fw-1.0")
        assert url == "/portal/orgs/demo/firmware/fw-1.0/" == detail_url("demo", "fw-1.0")
    finally:
        set_script_prefix("/")


def test_a_row_shows_the_firmware_in_the_viewers_language_and_zone():
    shown = firmware(
        firmware_id="fw-pitch",
        name=I18nString("Pitch controller", {"zh_CN": "变桨控制器"}),
        version="2.0.1",
        product_key="BXwU4kMk",
        is_verified=True,
        enable_verification=False,
        file_size=52428800,
        created_at=datetime(2024, 6, 10, 9, 39, 5, tzinfo=UTC),
    )
    links = FirmwareLinks.of_org("demo")
    with translation.override("zh-hans"), timezone.override(ZoneInfo("Asia/Tokyo")):
        row = FirmwareRow.of(shown, links)
    assert row == FirmwareRow(
        firmware_id="fw-pitch",
        name="变桨控制器",
        url="/orgs/demo/firmware/fw-pitch/",
        version="2.0.1",
        product_key="BXwU4kMk",
        is_verified=True,
        enable_verification=False,
        size="50.0 MiB",
        exact_size="52428800",  # Chinese groups no digits
        created=(
            '<time datetime="2024-06-10T09:39:05+00:00" data-zone="Asia/Tokyo"'
            ' title="Asia/Tokyo (UTC+09:00)">2024年6月10日 18:39 JST</time>'
        ),
    )


def test_a_row_of_a_firmware_enos_said_little_of():
    with translation.override("es"):
        row = FirmwareRow.of(firmware(firmware_id="a/b", file_size=0), FirmwareLinks.of_org("x"))
    assert (row.name, row.url, row.version, row.product_key) == ("a/b", None, None, None)
    assert (row.is_verified, row.enable_verification) == (None, None)
    assert (row.size, row.exact_size, row.created) == ("0 B", "0", "")


def test_sizes_are_written_in_the_viewers_language():
    with translation.override("es"):
        row = FirmwareRow.of(firmware(file_size=1572864), FirmwareLinks.of_org("demo"))
    assert (row.size, row.exact_size) == ("1,5 MiB", "1\xa0572\xa0864")


def test_rows_keep_the_order_given():
    given = [firmware(firmware_id=f"fw-{n}") for n in (3, 1, 2)]
    assert [row.firmware_id for row in firmware_rows(given, "demo")] == ["fw-3", "fw-1", "fw-2"]
