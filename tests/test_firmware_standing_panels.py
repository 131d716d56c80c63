"""The firmware page's panels on where the firmware stands (verification progress, OTA jobs,
devices), over real HTTP against the simulator's demo story, in English and other languages."""

import re

import pytest
from django.urls import reverse

from enos_simulator import Fault
from tests.conftest import text_of
from tests.test_standing import CANNOT_PASS, LEGACY, MID_VERIFICATION, NO_PRODUCT, SENSOR, TURBINE

pytestmark = pytest.mark.django_db


def detail_url(firmware_id: str) -> str:
    return reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": firmware_id})


def section(page: str, section_id: str) -> str:
    """The text of one panel, tags removed and spaces folded."""
    match = re.search(rf'<section[^>]*id="{section_id}".*?</section>', page, re.S)
    assert match is not None, f"no #{section_id} panel"
    return " ".join(re.sub(r"<[^>]+>", " ", match.group(0)).split())


def panel(client, firmware_id: str, section_id: str, language: str = "en") -> str:
    response = client.get(detail_url(firmware_id), HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 200
    return section(text_of(response), section_id)


def test_a_verification_that_can_still_pass_says_so_with_its_numbers(operator_client):
    text = panel(operator_client, MID_VERIFICATION, "verification-progress")
    assert (
        "In progress, and can still pass. Needs 6 more successes; 9 devices are still to report."
        in text
    )
    assert "9 (15 needed)" in text
    assert "Failed 2" in text
    assert "20 of at most 20" in text


def test_a_verification_that_cannot_pass_says_why(operator_client):
    text = panel(operator_client, CANNOT_PASS, "verification-progress")
    assert (
        "Cannot pass with this job. Needs 3 more successes, but only 1 device is still to report."
        in text
    )


def test_a_verified_firmware_rolling_out(operator_client):
    verification = panel(operator_client, SENSOR, "verification-progress")
    assert "Verified." in verification
    assert "Succeeded 18 (16 needed)" in verification  # more than needed reads as it should
    jobs = panel(operator_client, SENSOR, "ota-jobs")
    assert re.search(r"fleet rollout Upgrade Started .*Succeeded 2,712 Failed 41", jobs)
    assert jobs.index("fleet rollout") < jobs.index("2.7.1 verification")  # newest first
    devices = panel(operator_client, SENSOR, "devices")
    assert "BXwU4kMk" in devices and "2,722 devices" in devices


def test_a_new_firmware_names_the_product_its_jobs_name(operator_client):
    text = panel(operator_client, TURBINE, "devices")
    assert "Tb7kR2xQ (named by the firmware's OTA jobs)" in text


def test_a_firmware_no_job_or_file_names_a_product_for_says_so(operator_client, simulator):
    text = panel(operator_client, NO_PRODUCT, "devices")
    assert "EnOS does not say which product this firmware is for" in text
    assert simulator.counters["search_device_upgrades"] == 0


def test_a_firmware_without_jobs(operator_client):
    assert "No OTA job verifies or rolls out this firmware." in panel(
        operator_client, LEGACY, "ota-jobs"
    )
    assert "100 devices" in panel(operator_client, LEGACY, "devices")


def test_a_failing_jobs_call_is_shown_in_its_panel_and_the_page_is_200(operator_client, simulator):
    simulator.fault = Fault("error_code", code=500, scope="jobs")
    response = operator_client.get(detail_url(MID_VERIFICATION))
    assert response.status_code == 200
    page = text_of(response)
    assert 'id="firmware-name"' in page
    jobs = section(page, "ota-jobs")
    assert re.search(r"EnOS answered with an error · EnOS code 500 · EnOS request ID: \S+", jobs)


def test_failing_counts_are_shown_where_the_counts_would_be(operator_client, simulator):
    simulator.fault = Fault("http500", scope="devices")
    response = operator_client.get(detail_url(SENSOR))
    assert response.status_code == 200
    devices = section(text_of(response), "devices")
    assert "EnOS answered with an error" in devices
    assert "Succeeded 2,712" in section(text_of(response), "ota-jobs")


def test_refresh_fetches_the_counts_again(operator_client, simulator):
    operator_client.get(detail_url(MID_VERIFICATION))
    before = simulator.counters["search_tasks"]
    response = operator_client.post(detail_url(MID_VERIFICATION))
    assert response.status_code == 302
    assert simulator.counters["search_tasks"] == before + 5


@pytest.mark.parametrize(
    ("language", "can_pass", "cannot_pass"),
    [
        ("zh-hans", "进行中，仍可通过。", "此任务无法通过。"),
        ("ja", "進行中で、まだ合格できます。", "このジョブでは合格できません。"),
        ("es", "En curso, y aún puede aprobarse.", "No puede aprobarse con este trabajo."),
    ],
)
def test_the_verdict_is_said_in_the_viewers_language(
    operator_client, language, can_pass, cannot_pass
):
    assert can_pass in panel(operator_client, MID_VERIFICATION, "verification-progress", language)
    assert cannot_pass in panel(operator_client, CANNOT_PASS, "verification-progress", language)


def test_a_cached_page_is_never_shown_with_other_counts(operator_client, simulator, settings):
    settings.FIRMWARE_CACHE_SECONDS = 0  # every request asks EnOS again,
    settings.ENOS_FAILURE_SECONDS = 0  # and a failure is not the answer for the next
    assert "2,722 devices" in panel(operator_client, SENSOR, "devices")
    simulator.fault = Fault("http500", scope="devices")
    # The last good counts, said to be old: the page kept for the fresh ones is not reused.
    assert "2,722 devices EnOS is unreachable: these figures are from" in panel(
        operator_client, SENSOR, "devices"
    )
    simulator.fault = None
    text = panel(operator_client, SENSOR, "devices")
    assert "2,722 devices" in text and "unreachable" not in text


def test_the_panels_link_to_the_jobs_and_the_devices(operator_client):
    page = text_of(operator_client.get(detail_url(SENSOR)))
    assert 'href="/orgs/demo/jobs/job-bx-271-rollout/"' in page
    assert 'href="/orgs/demo/jobs/job-bx-271-verify/"' in page
    assert f'href="/orgs/demo/jobs/?firmware={SENSOR}"' in page
    assert f'href="/orgs/demo/firmware/{SENSOR}/devices/"' in page
