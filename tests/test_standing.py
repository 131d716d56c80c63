"""Where a firmware stands (firmware/standing.py), over real HTTP against the simulator's demo
story: verification against thresholds, the firmware's jobs with their task counts, the devices
on its version, each part failing on its own, and what it costs upstream."""

import time

import pytest

from enos_simulator import Fault
from firmware import fan_out, services
from firmware.enos import bulkhead
from firmware.enos.errors import NotFound
from firmware.enos.types import FirmwareInfo
from firmware.fan_out import Together
from firmware.standing import TaskCounts, fetch_firmware_page, verdict

SENSOR = "2a384c6ba0cac464ebdff5c9"  # verified, rolling out to 3,000 devices
MID_VERIFICATION = "fw-unverified"  # 9 succeeded, 2 failed, 9 to report; needs 15
CANNOT_PASS = "3da5ab42e8157fdd21e7c6df"  # 1 succeeded, 3 failed, 1 to report; needs 4
TURBINE = "fw-turbine-ctrl-3.2.1"  # new firmware: its product is named by its job's scope
LEGACY = "fw-legacy-inverter-1.0.4"  # old firmware without jobs; 100 devices run 1.0.4
NO_PRODUCT = "fw-no-name"  # new firmware without jobs


def counts(**by_status: int) -> TaskCounts:
    statuses = ("init", "published", "upgrading", "succeeded", "failed")
    return TaskCounts({status: by_status.get(status, 0) for status in statuses})


def firmware(needed: int | None, allowed: int | None, verified: bool = False) -> FirmwareInfo:
    return FirmwareInfo.from_api(
        {
            "firmwareId": "fw-x",
            "isVerified": verified,
            "minSuccessForVerified": needed,
            "maxAllowedForVerification": allowed,
        }
    )


@pytest.mark.parametrize(
    ("fw", "tasks", "state", "still_needed"),
    [
        (firmware(8, 10, verified=True), counts(succeeded=8), "verified", 0),
        (firmware(8, 10), counts(succeeded=8, failed=2), "passed", 0),
        (firmware(8, 10), counts(succeeded=5, upgrading=2, init=1, failed=2), "can_pass", 3),
        (firmware(8, 10), counts(succeeded=5, upgrading=2, failed=3), "cannot_pass", 3),
        (firmware(None, None), counts(succeeded=5), "unknown", 0),
    ],
)
def test_verdict_sets_counts_against_thresholds(fw, tasks, state, still_needed):
    result = verdict(fw, tasks)
    assert result.state == state
    assert result.still_needed == still_needed


@pytest.mark.django_db
def test_a_verification_that_can_still_pass(org, simulator):
    _, standing = fetch_firmware_page(org, MID_VERIFICATION)
    [job] = standing.verification_jobs
    assert job.job.job_id == "job-bx-400rc1-verify"
    assert (job.counts.value.succeeded, job.counts.value.failed) == (9, 2)
    assert job.counts.value.still_to_report == 9
    assert job.verdict.state == "can_pass"
    assert job.verdict.still_needed == 6


@pytest.mark.django_db
def test_a_verification_that_can_no_longer_pass(org, simulator):
    _, standing = fetch_firmware_page(org, CANNOT_PASS)
    [job] = standing.verification_jobs
    assert job.verdict.state == "cannot_pass"
    assert job.verdict.still_needed == 3
    assert job.counts.value.still_to_report == 1


@pytest.mark.django_db
def test_a_verified_firmware_rolling_out_costs_two_rounds_of_calls(org, simulator):
    simulator.reset_counters()
    fetched, standing = fetch_firmware_page(org, SENSOR)
    assert fetched.value.is_verified
    assert [s.job.job_id for s in standing.shown_jobs] == [
        "job-bx-271-rollout",
        "job-bx-271-verify",
    ]
    rollout = standing.shown_jobs[0].counts.value
    assert rollout.by_status == {
        "init": 64,
        "published": 87,
        "upgrading": 96,
        "succeeded": 2712,
        "failed": 41,
    }
    assert standing.shown_jobs[1].verdict.state == "verified"
    assert standing.devices.product_key == "BXwU4kMk"
    assert not standing.devices.from_jobs
    # The simulator's devices follow their tasks: the rollout's and the verification's successes.
    assert standing.devices.on_version.value == 2722
    assert standing.devices.upgrading.value == 6
    calls = simulator.counters
    # The firmware, its jobs; 5 counts for each of its 2 jobs; 2 device counts: no paging.
    assert (calls["get"], calls["search_jobs"]) == (1, 1)
    assert (calls["search_tasks"], calls["search_device_upgrades"]) == (10, 2)
    assert calls["business"] == 14


@pytest.mark.django_db
def test_a_page_whose_parts_are_cached_starts_no_thread(org, simulator, monkeypatch):
    first = fetch_firmware_page(org, SENSOR)
    started = []
    real_submit = Together.submit
    monkeypatch.setattr(
        Together, "submit", lambda self, *a, **kw: started.append(a) or real_submit(self, *a, **kw)
    )
    borrowed = []
    real_borrow = fan_out._threads.borrow
    monkeypatch.setattr(fan_out._threads, "borrow", lambda: borrowed.append(1) or real_borrow())
    simulator.reset_counters()
    assert fetch_firmware_page(org, SENSOR) == first
    assert started == []
    assert borrowed == []  # not even a set of threads
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
def test_a_new_firmware_takes_its_product_from_its_jobs(org, simulator):
    fetched, standing = fetch_firmware_page(org, TURBINE)
    assert fetched.value.product_key is None
    assert standing.devices.product_key == "Tb7kR2xQ"
    assert standing.devices.from_jobs


@pytest.mark.django_db
def test_a_firmware_without_jobs(org, simulator):
    _, legacy = fetch_firmware_page(org, LEGACY)
    assert legacy.shown_jobs == [] and legacy.jobs.value.total_size == 0
    assert legacy.devices.on_version.value == 100
    _, unnamed = fetch_firmware_page(org, NO_PRODUCT)
    assert unnamed.devices is None


@pytest.mark.django_db
def test_failing_job_calls_fail_their_parts_only(org, simulator):
    simulator.fault = Fault("error_code", code=500, scope="jobs")
    fetched, standing = fetch_firmware_page(org, LEGACY)
    assert fetched.value.firmware_id == LEGACY
    assert standing.jobs.failure.kind.name == "upstream"
    assert standing.jobs.failure.code == 500
    assert standing.devices.on_version.value == 100


@pytest.mark.django_db
def test_failing_device_calls_fail_the_device_part_only(org, simulator):
    simulator.fault = Fault("http500", scope="devices")
    _, standing = fetch_firmware_page(org, MID_VERIFICATION)
    assert standing.devices.on_version.failure is not None
    assert standing.verification_jobs[0].counts.value.succeeded == 9


@pytest.mark.django_db
def test_an_unknown_firmware_fails_the_page(org, simulator):
    with pytest.raises(NotFound):
        fetch_firmware_page(org, "fw-does-not-exist")


@pytest.mark.django_db
def test_the_calls_run_at_once_in_two_rounds(org, simulator):
    simulator.configure({"latency": 0.2})
    fetch_firmware_page(org, LEGACY)  # the access token, fetched once
    started = time.monotonic()
    fetch_firmware_page(org, SENSOR)
    took = time.monotonic() - started
    # Two rounds of 0.2 s; one after another, the 14 calls would take 2.8 s.
    assert took < 1.0, f"{took:.2f} s for two rounds of 0.2 s"


@pytest.mark.django_db
def test_a_page_holds_one_bulkhead_slot_of_its_org(org, simulator, settings):
    settings.ENOS_MAX_CALLS_PER_ORG = 1
    simulator.configure({"latency": 0.05})
    _, standing = fetch_firmware_page(org, SENSOR)  # 14 calls at once through one slot
    assert all(s.counts.value is not None for s in standing.shown_jobs)
    assert standing.devices.on_version.value is not None
    # The slot is let go when the page's calls are done: a call of its own gets it at once.
    assert bulkhead.current_sharing() is None
    assert services.search_firmware(org, page_size=1).value.total_size > 0
