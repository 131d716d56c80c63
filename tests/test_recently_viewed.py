"""Each user's recently viewed firmware on the home page."""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from firmware import recent
from firmware.models import FirmwareSnapshot, RecentlyViewed


def view(client, firmware_id):
    url = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": firmware_id})
    assert client.get(url).status_code == 200


def recent_ids(client):
    return [v.firmware_id for v in client.get(reverse("firmware:home")).context["recently_viewed"]]


@pytest.mark.django_db
def test_views_are_listed_newest_first_and_deduplicated(operator_client):
    for firmware_id in ["fw-unverified", "fw-turbine-ctrl-3.2.1", "fw-unverified"]:
        view(operator_client, firmware_id)
    assert recent_ids(operator_client) == ["fw-unverified", "fw-turbine-ctrl-3.2.1"]
    page = operator_client.get(reverse("firmware:home")).content.decode()
    link = 'href="/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/"><bdi>Turbine controller</bdi></a>'
    assert link in page
    assert '<span class="muted"><bdi>3.2.1</bdi></span>' in page
    assert re.search(r'<time datetime="[^"]+\+00:00">just now</time>', page)


@pytest.mark.django_db
def test_an_older_view_says_how_long_ago(operator_client):
    view(operator_client, "fw-unverified")
    RecentlyViewed.objects.update(viewed_at=timezone.now() - timedelta(minutes=5))
    page = operator_client.get(reverse("firmware:home"), HTTP_ACCEPT_LANGUAGE="ja").content.decode()
    assert ">5分前</time>" in page


@pytest.mark.django_db
def test_only_the_last_20_are_kept(operator_client, simulator):
    ids = [f"fw-extra-{n:02d}" for n in range(25)]
    for firmware_id in ids:
        simulator.add_firmware({"orgId": "o15475466766371", "firmwareId": firmware_id})
        view(operator_client, firmware_id)
    assert recent_ids(operator_client) == list(reversed(ids))[:20]
    assert RecentlyViewed.objects.count() == 20


@pytest.mark.django_db
def test_keeping_the_last_20_of_one_user_leaves_the_others_alone(org, operator, outsider):
    for n in range(3):
        recent.remember_view(outsider, org, f"fw-theirs-{n}", name="", version="")
    for n in range(25):
        recent.remember_view(operator, org, f"fw-mine-{n:02d}", name=f"Mine {n}", version="1")
    mine = RecentlyViewed.objects.filter(user=operator).order_by("-viewed_at", "-pk")
    assert [v.firmware_id for v in mine][:3] == ["fw-mine-24", "fw-mine-23", "fw-mine-22"]
    assert mine.count() == 20
    assert RecentlyViewed.objects.filter(user=outsider).count() == 3


@pytest.mark.django_db
def test_a_user_sees_only_their_own(client, operator_client, org, outsider):
    view(operator_client, "fw-unverified")
    org.granted_users.add(outsider)
    client.force_login(outsider)
    assert recent_ids(client) == []


@pytest.mark.django_db
def test_views_of_an_org_no_longer_granted_disappear(operator_client, org, operator):
    view(operator_client, "fw-unverified")
    org.granted_users.remove(operator)
    assert recent_ids(operator_client) == []


@pytest.mark.django_db
def test_failed_pages_are_not_remembered(operator_client):
    url = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": "fw-nowhere"})
    assert operator_client.get(url).status_code == 404
    assert recent_ids(operator_client) == []


@pytest.mark.django_db
def test_reloading_a_firmware_keeps_one_entry_moved_to_the_top(operator_client):
    view(operator_client, "fw-unverified")
    before = RecentlyViewed.objects.get().viewed_at
    view(operator_client, "fw-unverified")
    assert RecentlyViewed.objects.get().viewed_at >= before
    view(operator_client, "fw-turbine-ctrl-3.2.1")
    view(operator_client, "fw-unverified")
    assert recent_ids(operator_client) == ["fw-unverified", "fw-turbine-ctrl-3.2.1"]


def speak(client, language):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language


def recent_names(client):
    return [v.name for v in client.get(reverse("firmware:home")).context["recently_viewed"]]


@pytest.mark.django_db
def test_an_english_viewer_sees_the_english_name_of_firmware_last_viewed_in_chinese(
    operator_client,
):
    speak(operator_client, "zh-hans")
    view(operator_client, "fw-turbine-ctrl-3.2.1")
    assert RecentlyViewed.objects.get().name == "风机控制器"
    assert recent_names(operator_client) == ["风机控制器"]
    speak(operator_client, "en")
    page = operator_client.get(reverse("firmware:home")).content.decode()
    assert "<bdi>Turbine controller</bdi></a>" in page
    assert "风机控制器" not in page
    speak(operator_client, "ja")
    assert recent_names(operator_client) == ["風車コントローラ"]


@pytest.mark.django_db
def test_without_a_kept_answer_the_name_it_was_viewed_with_then_the_id(operator_client):
    speak(operator_client, "zh-hans")
    view(operator_client, "fw-turbine-ctrl-3.2.1")
    view(operator_client, "fw-no-name")
    FirmwareSnapshot.objects.all().delete()
    speak(operator_client, "en")
    assert recent_names(operator_client) == ["fw-no-name", "风机控制器"]


@pytest.mark.django_db
def test_a_firmware_only_named_in_chinese_keeps_that_name_for_every_viewer(operator_client):
    view(operator_client, "fw-unicode-name")
    speak(operator_client, "es")
    assert recent_names(operator_client) == ["边缘网关固件"]


@pytest.mark.django_db
def test_naming_the_recent_views_costs_no_query_per_view(operator_client):
    view(operator_client, "fw-turbine-ctrl-3.2.1")
    home = reverse("firmware:home")
    operator_client.get(home)
    with CaptureQueriesContext(connection) as one:
        operator_client.get(home)
    for firmware_id in ["fw-unverified", "fw-legacy-inverter-1.0.4", "fw-pitch-and-yaw"]:
        view(operator_client, firmware_id)
    with CaptureQueriesContext(connection) as four:
        assert len(recent_names(operator_client)) == 4
    assert len(four) == len(one)
