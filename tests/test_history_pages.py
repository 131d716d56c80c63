"""The firmware page's history against the simulator: the last change, each change as
field: old -> new, the file warning, outages after a restart, access and languages."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext, ngettext

from firmware.models import FirmwareChange, FirmwareSnapshot
from tests.conftest import make_org, text_of
from tests.test_history import TURBINE, restart, turbine

LEGACY = "fw-legacy-inverter-1.0.4"


def detail_url(firmware_id=TURBINE, slug="demo") -> str:
    return reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": firmware_id})


def lines_of(html: str, element_id: str) -> list[str]:
    """The text of the element with that id, one line per list item, spaces collapsed."""
    match = re.search(rf'id="{element_id}"[^>]*>(.*?)</(ol|div|dd)>\s', html, re.DOTALL)
    assert match is not None, element_id
    items = re.split(r"<li[^>]*>|<h3>", match.group(1))
    texts = (re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", item)).strip() for item in items)
    return [text for text in texts if text]


@pytest.fixture
def uncached(settings):
    """Every view asks EnOS, as it would once the short firmware cache has expired."""
    settings.FIRMWARE_CACHE_SECONDS = 0


@pytest.mark.django_db
def test_a_firmware_seen_once_has_no_change_yet(operator_client):
    page = text_of(operator_client.get(detail_url()))
    assert re.search(r'id="last-changed">\s*No change seen since <time datetime="', page)
    assert 'id="history"' not in page and 'id="file-changed"' not in page


@pytest.mark.django_db
def test_each_change_is_shown_as_field_old_to_new(operator_client, simulator, uncached):
    operator_client.get(detail_url())
    name = turbine()["name"]
    simulator.add_firmware(
        turbine(
            name={**name, "i18nValue": {**name["i18nValue"], "ja_JP": "風車制御装置"}},
            desc="Faster pitch loop.",
            isVerified=False,
            maxAllowedForVerification=20,
            minSuccessForVerified=15,
            firmwareTags={"channel": "stable", "ring": "beta"},
        )
    )
    page = text_of(operator_client.get(detail_url()))
    changed_at = FirmwareSnapshot.objects.get().changed_at
    when = f'<time datetime="{changed_at.isoformat()}" data-zone="UTC" title="UTC (UTC+00:00)">'
    assert re.search(rf'id="last-changed">\s*{re.escape(when)}', page)
    assert lines_of(page, "history")[1:] == [
        "Name (Japanese): 風車コントローラ → 風車制御装置",
        "Description: Main controller firmware for 4.5 MW turbines: faster pitch loop, new "
        "alarm codes. → Faster pitch loop.",
        "Verified: Yes → No",
        "Devices taking part in verification (at most): 10 → 20",
        "Devices that must succeed (at least): 8 → 15",
        "Tag (ring): — → beta",
        "Tag (site): north → —",
    ]
    assert f"<h3>{when}" in page
    assert 'id="file-changed"' not in page  # no file field changed


@pytest.mark.django_db
def test_a_changed_file_is_a_warning_at_the_top(operator_client, simulator, uncached):
    operator_client.get(detail_url())
    simulator.add_firmware(turbine(sign="ab" * 32, fileSize=52428801, version="3.2.1-b"))
    page = text_of(operator_client.get(detail_url()))
    banner = lines_of(page, "file-changed")
    assert banner[0].startswith("The file of this firmware changed on ")
    assert banner[1:] == [
        f"Sign: {turbine()['sign']} → {'ab' * 32}",
        "Size: 50.0 MiB (52,428,800 bytes) → 50.0 MiB (52,428,801 bytes)",
    ]
    assert page.index('id="file-changed"') < page.index('id="firmware-name"')
    assert "Version: 3.2.1 → 3.2.1-b" in lines_of(page, "history")


@pytest.mark.django_db
def test_the_history_keeps_the_last_n_changes(operator_client, simulator, settings, uncached):
    settings.FIRMWARE_HISTORY_KEEP = 3
    for version in ("3.2.1", "3.2.2", "3.2.3", "3.2.4", "3.2.5"):
        simulator.add_firmware(turbine(version=version))
        operator_client.get(detail_url())
    assert FirmwareChange.objects.count() == 3
    page = text_of(operator_client.get(detail_url()))
    versions = [line for line in lines_of(page, "history") if line.startswith("Version")]
    assert versions == [
        "Version: 3.2.4 → 3.2.5",
        "Version: 3.2.3 → 3.2.4",
        "Version: 3.2.2 → 3.2.3",
    ]
    assert "Only the last 3 changes of a firmware are kept." in page


@pytest.mark.django_db
def test_after_a_restart_an_outage_serves_the_database_copy(operator_client, simulator):
    operator_client.get(detail_url())
    restart()
    simulator.stop()
    response = operator_client.get(detail_url())
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="stale-banner"' in page
    assert "EnOS is unreachable, showing data fetched just now." in page
    assert '<h1 id="firmware-name"><bdi>Turbine controller</bdi></h1>' in page
    assert '<dd class="mono" id="request-id">—</dd>' in page  # not known for a kept copy
    assert operator_client.get(detail_url(LEGACY)).status_code == 503  # never fetched


@pytest.mark.django_db
def test_the_history_is_the_orgs_own(operator_client, granted, simulator, uncached):
    operator_client.get(detail_url())
    simulator.add_firmware(turbine(version="3.2.2"))
    operator_client.get(detail_url())
    other = make_org(simulator.url, slug="north")
    other.granted_users.add(granted)
    page = text_of(operator_client.get(detail_url(slug="north")))
    assert 'id="history"' not in page and "No change seen since" in page


@pytest.mark.django_db
def test_an_outsider_gets_404_and_no_history(client, outsider, operator_client, simulator):
    operator_client.get(detail_url())
    simulator.add_firmware(turbine(version="3.2.2"))
    operator_client.post(detail_url())
    assert FirmwareChange.objects.count() == 1
    client.force_login(outsider)
    response = client.get(detail_url())
    assert response.status_code == 404
    assert "3.2.2" not in text_of(response)


@pytest.mark.django_db
def test_a_page_cached_for_the_same_content_shows_the_history_since(
    operator_client, simulator, uncached
):
    assert 'id="history"' not in text_of(operator_client.get(detail_url()))  # kept in the cache
    simulator.add_firmware(turbine(version="3.2.2"))
    operator_client.get(detail_url())
    simulator.add_firmware(turbine())  # what the cached page showed, but with a history now
    page = text_of(operator_client.get(detail_url()))
    versions = [line for line in lines_of(page, "history") if line.startswith("Version")]
    assert versions == ["Version: 3.2.2 → 3.2.1", "Version: 3.2.1 → 3.2.2"]


@pytest.mark.django_db
def test_enos_text_in_the_history_is_escaped_and_isolated(operator_client, simulator, uncached):
    operator_client.get(detail_url())
    simulator.add_firmware(
        turbine(firmwareTags={"<b>k</b>": "\u202egnp.exe", "site": "north", "channel": "stable"})
    )
    raw = operator_client.get(detail_url()).content.decode()
    assert "<b>k</b>" not in raw
    assert "Tag (<bdi>&lt;b&gt;k&lt;/b&gt;</bdi>)" in raw
    assert "<bdi>\u202egnp.exe</bdi>" in raw


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "verified"), [("ja", "検証済み"), ("zh-hans", "已验证"), ("es", "Verificado")]
)
def test_the_history_speaks_the_viewers_language(
    operator_client, simulator, uncached, language, verified
):
    operator_client.get(detail_url())
    simulator.add_firmware(turbine(isVerified=False, fileSize=1))
    page = text_of(operator_client.get(detail_url(), HTTP_ACCEPT_LANGUAGE=language))
    with translation.override(language):
        for english in (
            "History",
            "Last changed",
            "Tag",
            "Devices taking part in verification (at most)",
            "Devices that must succeed (at least)",
            "No change seen since %(time)s",
            "The file of this firmware changed on %(time)s: upgrade jobs made before then may "
            "have used another file.",
        ):
            assert gettext(english) != english, f"{english!r} is not translated"
        kept = "Only the last %(n)s changes of a firmware are kept."
        assert ngettext("Only the last %(n)s change of a firmware is kept.", kept, 2) != kept
        assert f'<h2 id="history-heading">{gettext("History")}</h2>' in page
    assert any(line.startswith(f"{verified}:") for line in lines_of(page, "history"))
    assert "The file of this firmware changed on" not in page


def snapshot_reads(queries) -> list[str]:
    return [q["sql"] for q in queries if "firmware_firmwaresnapshot" in q["sql"]]


@pytest.mark.django_db
def test_a_cached_page_reads_no_history_from_the_database(operator_client, simulator):
    operator_client.get(detail_url())
    with CaptureQueriesContext(connection) as queries:
        page = text_of(operator_client.get(detail_url()))
    assert snapshot_reads(queries) == []  # nor any other read of the database's history
    assert "No change seen since" in page and simulator.counters["get"] == 1


@pytest.mark.django_db
def test_a_change_a_list_records_is_on_the_page_it_feeds(operator_client, simulator):
    operator_client.get(detail_url())
    assert 'id="history"' not in text_of(operator_client.get(detail_url()))
    simulator.add_firmware(turbine(version="3.2.2"))
    operator_client.get(reverse("firmware:firmware_list", kwargs={"slug": "demo"}))
    with CaptureQueriesContext(connection) as queries:
        page = text_of(operator_client.get(detail_url()))
    assert simulator.counters["get"] == 1  # the list's answer, with the history recorded with it
    assert snapshot_reads(queries) == []
    assert "Version: 3.2.1 → 3.2.2" in lines_of(page, "history")


@pytest.mark.django_db
def test_an_uncached_page_reads_its_history_once_when_it_records_the_answer(
    operator_client, simulator, uncached
):
    operator_client.get(detail_url())
    simulator.add_firmware(turbine(version="3.2.2"))
    with CaptureQueriesContext(connection) as queries:
        page = text_of(operator_client.get(detail_url()))
    assert simulator.counters["get"] == 2
    # Recording reads the snapshot and locks it to write the change; the page asks nothing more.
    assert len([sql for sql in snapshot_reads(queries) if sql.startswith("SELECT")]) == 2
    assert "Version: 3.2.1 → 3.2.2" in lines_of(page, "history")
    with CaptureQueriesContext(connection) as queries:
        operator_client.get(detail_url())
    assert len([sql for sql in snapshot_reads(queries) if sql.startswith("SELECT")]) == 1
