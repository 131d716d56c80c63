"""The last good answer of each firmware in the database and its history, against the simulator:
written once per content, confirmed cheaply, served in an outage after a restart."""

import dataclasses
import io
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.core.cache import caches
from django.core.management import CommandError, call_command
from django.utils import timezone

from enos_simulator import DEMO_ORG_ID, DEMO_ORG_ID_2
from firmware import history, services
from firmware.enos.errors import Unreachable
from firmware.enos.types import FirmwareInfo, I18nString
from firmware.models import FirmwareChange, FirmwareSnapshot

TURBINE = "fw-turbine-ctrl-3.2.1"


def restart() -> None:
    """What a restart, or another host with its own memory, starts with: no cache at all."""
    for cache in caches.all():
        cache.clear()


def turbine(**changes) -> dict:
    """The simulator's turbine firmware, with some fields changed."""
    return {
        "orgId": DEMO_ORG_ID,
        "firmwareId": TURBINE,
        "name": {
            "defaultValue": "Turbine controller",
            "i18nValue": {
                "en_US": "Turbine controller",
                "zh_CN": "风机控制器",
                "ja_JP": "風車コントローラ",
                "es_ES": "Controlador de turbina",
            },
        },
        "version": "3.2.1",
        "desc": "Main controller firmware for 4.5 MW turbines: faster pitch loop, new alarm codes.",
        "signMethod": "sha256",
        "sign": "013bec8fd20f741dc3c6e6441db5ae512b11cbe0de6754507becf5d7e0593c0c",
        "fileUrl": "enos-connect://2325a9b338800000.zip",
        "fileSize": 52428800,
        "enableVerification": True,
        "isVerified": True,
        "maxAllowedForVerification": 10,
        "minSuccessForVerified": 8,
        "createTime": 1718012345678,
        "firmwareTags": {"site": "north", "channel": "stable"},
        **changes,
    }


def changes_of(org, firmware_id=TURBINE) -> list[tuple[str, str, str | None, str | None]]:
    return [
        (change.field, change.key, change.old, change.new)
        for change in FirmwareChange.objects.filter(
            snapshot__org=org, snapshot__firmware_id=firmware_id
        ).order_by("-changed_at", "pk")
    ]


@pytest.mark.django_db
def test_the_same_answer_is_written_once_and_a_refetch_only_confirms_it(org, simulator):
    first = services.get_firmware(org, TURBINE)
    services.get_firmware(org, TURBINE, refresh=True)
    assert simulator.counters["get"] == 2
    snapshot = FirmwareSnapshot.objects.get(org=org, firmware_id=TURBINE)
    assert snapshot.enos_org_id == DEMO_ORG_ID
    assert snapshot.first_seen_at == snapshot.last_confirmed_at <= first.fetched_at
    assert snapshot.changed_at is None
    assert FirmwareChange.objects.count() == 0

    # A minute later the same answer moves "last confirmed" and nothing else.
    an_hour_ago = timezone.now() - timedelta(hours=1)
    FirmwareSnapshot.objects.update(first_seen_at=an_hour_ago, last_confirmed_at=an_hour_ago)
    again = services.get_firmware(org, TURBINE, refresh=True)
    confirmed = FirmwareSnapshot.objects.get(pk=snapshot.pk)
    assert an_hour_ago < confirmed.last_confirmed_at <= again.fetched_at
    assert confirmed.first_seen_at == an_hour_ago
    assert (confirmed.digest, confirmed.content) == (snapshot.digest, snapshot.content)
    assert confirmed.changed_at is None
    assert FirmwareSnapshot.objects.count() == 1 and FirmwareChange.objects.count() == 0


@pytest.mark.django_db
def test_recording_costs_one_select_then_nothing_or_one_write(
    org, simulator, django_assert_num_queries
):
    page = services.search_firmware(org, page_size=50).value
    assert len(page.items) > 5
    assert FirmwareSnapshot.objects.filter(org=org).count() == len(page.items)
    now = timezone.now()
    with django_assert_num_queries(1):  # the same content, confirmed less than a minute ago
        history.record(org, page.items, now)
    FirmwareSnapshot.objects.update(last_confirmed_at=now - timedelta(minutes=5))
    with django_assert_num_queries(2):  # the same content, one UPDATE confirms all of them
        history.record(org, page.items, now)
    assert set(FirmwareSnapshot.objects.values_list("last_confirmed_at", flat=True)) == {now}
    FirmwareSnapshot.objects.all().delete()
    with django_assert_num_queries(3):  # first sights: one INSERT for the page, one SELECT back
        history.record(org, page.items, now)


@pytest.mark.django_db
def test_recording_gives_each_firmware_its_history_as_the_database_has_it(org, simulator):
    page = services.search_firmware(org, page_size=50).value
    ids = [firmware.firmware_id for firmware in page.items]
    now = timezone.now()

    def as_kept() -> dict:
        return {firmware_id: history.of(org, firmware_id) for firmware_id in ids}

    FirmwareSnapshot.objects.all().delete()
    first_sights = history.record(org, page.items, now)
    assert first_sights == as_kept()
    assert {h.first_seen_at for h in first_sights.values()} == {now}
    assert {h.changed_at for h in first_sights.values()} == {None}
    assert history.record(org, page.items, now + timedelta(seconds=1)) == first_sights
    confirmed = history.record(org, page.items, now + timedelta(minutes=5))
    assert confirmed == first_sights == as_kept()

    simulator.add_firmware(turbine(version="3.2.2"))
    later = now + timedelta(minutes=6)
    changed = history.record(org, [services.client_for(org).get_firmware(TURBINE)], later)
    assert changed == {TURBINE: as_kept()[TURBINE]}
    assert changed[TURBINE].changed_at == later
    assert changed[TURBINE].snapshot_id == first_sights[TURBINE].snapshot_id


@pytest.mark.django_db
def test_a_changed_answer_is_recorded_field_by_field(org, simulator):
    services.get_firmware(org, TURBINE)
    simulator.add_firmware(
        turbine(
            isVerified=False,
            maxAllowedForVerification=12,
            firmwareTags={"channel": "stable", "ring": "beta"},
            fileSize=52428801,
        )
    )
    changed = services.get_firmware(org, TURBINE, refresh=True)
    assert changes_of(org) == [
        ("is_verified", "", "true", "false"),
        ("max_allowed_for_verification", "", "10", "12"),
        ("tag", "ring", None, "beta"),
        ("tag", "site", "north", None),
        ("file_size", "", "52428800", "52428801"),
    ]
    assert [c.affects_file for c in FirmwareChange.objects.order_by("pk")] == [
        False,
        False,
        False,
        False,
        True,
    ]
    snapshot = FirmwareSnapshot.objects.get()
    assert snapshot.changed_at == snapshot.last_confirmed_at <= changed.fetched_at
    assert snapshot.first_seen_at < snapshot.changed_at
    assert history.last_good(org, TURBINE).value == dataclasses.replace(
        changed.value, request_id=None
    )


@pytest.mark.django_db
def test_a_long_description_is_kept_whole_but_shown_cut_in_its_change(org, simulator):
    services.get_firmware(org, TURBINE)
    simulator.add_firmware(turbine(desc="x" * 5000))
    services.get_firmware(org, TURBINE, refresh=True)
    [(field, _key, _old, new)] = changes_of(org)
    assert field == "description" and new == "x" * history.DESCRIPTION_SHOWN + "…"
    assert history.last_good(org, TURBINE).value.description == "x" * 5000


@pytest.mark.django_db
def test_an_answer_older_than_the_one_kept_changes_nothing(org, simulator):
    services.get_firmware(org, TURBINE)
    simulator.add_firmware(turbine(version="3.2.2"))
    newer = services.get_firmware(org, TURBINE, refresh=True).value
    older = dataclasses.replace(newer, version="3.2.1")
    history.record(org, [older], timezone.now() - timedelta(seconds=30))
    assert FirmwareSnapshot.objects.get().content == history._content(newer)
    assert changes_of(org) == [("version", "", "3.2.1", "3.2.2")]


@pytest.mark.django_db
def test_every_answer_round_trips_through_the_database(org, simulator):
    page = services.search_firmware(org, page_size=50).value
    for firmware in page.items:
        kept = history.last_good(org, firmware.firmware_id)
        assert kept.value == dataclasses.replace(firmware, request_id=None), firmware.firmware_id


# A value different from the turbine's for each field FirmwareInfo has.
OTHER_VALUES = {
    "org_id": DEMO_ORG_ID_2,
    "name": I18nString("Turbine controller", {"ja_JP": "別の名前"}),
    "version": "9.9.9",
    "description": "Another description",
    "product_key": "BXwU4kMk",
    "sign_method": "md5",
    "sign": "0" * 32,
    "file_url": "enos-connect://other.zip",
    "file_size": 1,
    "enable_verification": False,
    "is_verified": False,
    "created_at": datetime(2025, 1, 1, tzinfo=UTC),
    "tags": {"site": "south"},
    "max_allowed_for_verification": 11,
    "min_success_for_verified": 9,
    "description_truncated": True,
}


def test_every_field_but_the_ids_is_part_of_the_content():
    """A field FirmwareInfo gains must be recorded (and shown) too: this fails until it is."""
    firmware = FirmwareInfo.from_api(turbine(), request_id="r-1")
    fields = {field.name for field in dataclasses.fields(FirmwareInfo)}
    assert fields - {"firmware_id", "request_id"} == OTHER_VALUES.keys()
    same = history.digest(history.fields_of(firmware))
    without_request = dataclasses.replace(firmware, request_id="r-2")
    assert history.digest(history.fields_of(without_request)) == same
    for name, value in OTHER_VALUES.items():
        other = dataclasses.replace(firmware, **{name: value}, request_id=None)
        assert history.digest(history.fields_of(other)) != same, name
        assert history._firmware(history._content(other)) == other, name


def test_the_order_enos_sends_maps_in_is_no_change():
    firmware = FirmwareInfo.from_api(turbine(), request_id="r-1")
    reordered = dataclasses.replace(
        firmware,
        tags=dict(reversed(firmware.tags.items())),
        name=I18nString(firmware.name.default, dict(reversed(firmware.name.translations.items()))),
    )
    assert history.digest(history.fields_of(reordered)) == history.digest(
        history.fields_of(firmware)
    )


@pytest.mark.django_db
def test_after_a_restart_an_outage_serves_the_database_copy_marked_stale(org, simulator):
    fresh = services.get_firmware(org, TURBINE)
    restart()
    simulator.stop()
    stale = services.get_firmware(org, TURBINE)
    assert stale.stale
    assert stale.value == dataclasses.replace(fresh.value, request_id=None)
    snapshot = FirmwareSnapshot.objects.get()
    assert stale.fetched_at == snapshot.last_confirmed_at
    assert stale.age_seconds >= 0
    with pytest.raises(Unreachable):  # never fetched: nothing to fall back on
        services.get_firmware(org, "fw-legacy-inverter-1.0.4")


@pytest.mark.django_db
def test_a_database_copy_older_than_the_stale_limit_is_not_served(org, simulator, settings):
    services.get_firmware(org, TURBINE)
    FirmwareSnapshot.objects.update(
        last_confirmed_at=timezone.now() - timedelta(seconds=settings.FIRMWARE_STALE_SECONDS + 60)
    )
    restart()
    simulator.stop()
    with pytest.raises(Unreachable):
        services.get_firmware(org, TURBINE)


@pytest.mark.django_db
def test_an_org_pointed_at_another_enos_org_starts_a_history_of_its_own(org, simulator):
    services.get_firmware(org, TURBINE)
    org.org_id = DEMO_ORG_ID_2
    org.save()
    assert services.get_firmware(org, TURBINE).value.version == "3.3.0"
    assert FirmwareChange.objects.count() == 0  # another EnOS org's firmware, not a change
    assert FirmwareSnapshot.objects.filter(org=org).count() == 2
    restart()
    simulator.stop()
    assert services.get_firmware(org, TURBINE).value.version == "3.3.0"


@pytest.mark.django_db
def test_find_records_what_it_found(org, operator_client, simulator):
    response = operator_client.get("/find/", {"firmware_id": TURBINE})
    assert response.status_code == 302
    assert FirmwareSnapshot.objects.filter(org=org, firmware_id=TURBINE).count() == 1


def prune(*args: str) -> str:
    out = io.StringIO()
    call_command("prune_snapshots", *args, stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_prune_deletes_firmware_not_confirmed_for_n_days_and_says_what(org, simulator, settings):
    services.get_firmware(org, TURBINE)
    simulator.add_firmware(turbine(version="3.2.2"))
    services.get_firmware(org, TURBINE, refresh=True)
    services.get_firmware(org, "fw-legacy-inverter-1.0.4")
    FirmwareSnapshot.objects.filter(firmware_id=TURBINE).update(
        last_confirmed_at=datetime(2026, 1, 1, tzinfo=UTC)
    )
    assert prune("--older-than-days", "100000").endswith(
        "Deleted 0 firmware snapshot(s) and 0 change(s) not confirmed by EnOS for 100000 day(s).\n"
    )
    settings.FIRMWARE_SNAPSHOT_DAYS = 30
    assert prune().splitlines() == [
        f"demo {TURBINE} (last confirmed 2026-01-01)",
        "Deleted 1 firmware snapshot(s) and 1 change(s) not confirmed by EnOS for 30 day(s).",
    ]
    assert list(FirmwareSnapshot.objects.values_list("firmware_id", flat=True)) == [
        "fw-legacy-inverter-1.0.4"
    ]
    assert FirmwareChange.objects.count() == 0


@pytest.mark.django_db
@pytest.mark.parametrize("days", ["0", "-3", "ninety", "1.5", ""])
def test_prune_refuses_a_bad_number_of_days(org, days):
    with pytest.raises(CommandError, match="--older-than-days must be a whole number of days"):
        prune("--older-than-days", days)


@pytest.mark.django_db
def test_prune_refuses_a_bad_default(settings):
    settings.FIRMWARE_SNAPSHOT_DAYS = 0
    with pytest.raises(CommandError, match="FIRMWARE_SNAPSHOT_DAYS must be a whole number"):
        prune()


def test_prune_with_bad_input_exits_1(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    result = subprocess.run(
        [sys.executable, "manage.py", "prune_snapshots", "--older-than-days", "soon"],
        cwd=Path(__file__).resolve().parent.parent,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 1
    assert result.stderr.strip().splitlines()[-1] == (
        "CommandError: --older-than-days must be a whole number of days, at least 1: 'soon'"
    )
