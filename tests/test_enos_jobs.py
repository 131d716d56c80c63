"""The EnOS client's OTA job, task and device-version calls, over real HTTP against the simulator
and its demo story (enos_simulator/fixtures.py)."""

import logging
import time

import pytest
from django.core.cache import cache

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID_2, Fault
from firmware.enos.client import ClientSettings, EnosClient, OrgCredentials
from firmware.enos.errors import (
    BadResponse,
    NotFound,
    RateLimited,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.enos.expression import all_of, equals, one_of
from tests.test_enos_client import make_client

SENSOR = "2a384c6ba0cac464ebdff5c9"  # BXwU4kMk 2.7.1: verified, then rolling out
ROLLOUT = "job-bx-271-rollout"
ROLLOUT_COUNTS = {"succeeded": 2712, "failed": 41, "upgrading": 96, "published": 87, "init": 64}
STATUSES = ("init", "published", "upgrading", "succeeded", "failed")


@pytest.fixture
def client(simulator):
    return make_client(simulator.url)


def test_search_jobs_of_a_firmware_newest_first(client):
    page = client.search_jobs(expression=equals("firmwareId", SENSOR), page=1, page_size=50)
    assert [job.job_id for job in page.items] == [ROLLOUT, "job-bx-271-verify"]
    assert page.total_size == 2
    assert [job.type for job in page.items] == ["upgrade", "verify"]
    assert page.items[0].created_at > page.items[1].created_at
    assert len(page.request_id) == 36


def test_job_filters_take_equals_in_and_and(client):
    verify = client.search_jobs(expression=all_of(equals("type", "verify")), page_size=50)
    assert {job.type for job in verify.items} == {"verify"} and verify.total_size == 4
    both = client.search_jobs(
        expression=all_of(
            one_of("firmwareId", ["fw-unverified", "3da5ab42e8157fdd21e7c6df"]),
            equals("status", "started"),
        )
    )
    assert {job.job_id for job in both.items} == {"job-bx-400rc1-verify", "job-qw-362-verify"}


def test_get_job_reads_every_field(client):
    job = client.get_job(ROLLOUT)
    assert (job.job_id, job.firmware_id, job.firmware_version) == (ROLLOUT, SENSOR, "2.7.1")
    assert job.product_key == "BXwU4kMk"
    assert job.name.for_locale("ja_JP") == "振動センサー 2.7.1 一斉アップグレード"
    assert job.firmware_name.for_locale("zh_CN") == "振动传感器"
    assert (job.type, job.status, job.upgrade_policy) == ("upgrade", "started", "incremental")
    assert (job.enable_upgrade_request, job.upgrade_timeout, job.maximum_concurrency) == (
        True,
        1800,
        200,
    )
    assert job.upgrade_scope.get("type") == "filter"
    assert job.upgrade_scope.get("obj.firmwareVersion[0]") == "2.3.3"
    assert job.retry_policy.entries == (("retryInterval", "600"), ("maximumRetries", "3"))
    assert job.schedule_policy.get("dailyTimeRange.startTime") == "01:00"
    assert job.created_at.tzinfo is not None and job.created_at.year == 2024


def test_a_job_of_new_firmware_has_no_product_but_its_tasks_do(client):
    job = client.get_job("job-turbine-321-verify")
    assert job.product_key is None
    task = client.search_tasks(job.job_id, page_size=1).items[0]
    assert task.product_key == "Tb7kR2xQ"


def test_unknown_job_is_not_found_with_the_enos_code(client):
    with pytest.raises(NotFound) as excinfo:
        client.get_job("job-nobody-made")
    assert excinfo.value.code == 24404 and excinfo.value.request_id


def test_an_org_sees_only_its_own_jobs(simulator):
    credentials = OrgCredentials(
        label="other",
        gateway_url=simulator.url,
        org_id=DEMO_ORG_ID_2,
        access_key=DEMO_APP_KEY,
        secret_key=DEMO_APP_SECRET,
    )
    other = EnosClient(credentials, cache=cache, settings=ClientSettings())
    with pytest.raises(NotFound):
        other.get_job(ROLLOUT)
    assert [job.job_id for job in other.search_jobs().items] == ["job-turbine-330-verify"]
    name = other.get_job("job-turbine-330-verify").name
    assert (name.default, name.translations) == (None, {"zh_CN": "风机控制器 3.3.0 验证"})


def test_task_pages_cover_the_job_once_with_its_total_size(client):
    seen = []
    for page_no in range(1, 17):
        page = client.search_tasks(ROLLOUT, page=page_no, page_size=200)
        assert page.total_size == 3000 and page.page_no == page_no
        seen += [task.task_id for task in page.items]
    assert len(seen) == len(set(seen)) == 3000
    assert client.search_tasks(ROLLOUT, page=16, page_size=200).beyond_last_page is True


def test_task_filters_take_equals_and_in_within_the_job(client):
    stuck = client.search_tasks(
        ROLLOUT, expression=one_of("status", ["failed", "upgrading"]), page_size=200
    )
    assert stuck.total_size == 41 + 96
    assert {task.status for task in stuck.items} == {"failed", "upgrading"}
    assert {task.job_id for task in stuck.items} == {ROLLOUT}
    device = stuck.items[0].device_key
    mine = client.search_tasks(ROLLOUT, expression=equals("deviceKey", device))
    assert [task.device_key for task in mine.items] == [device]


def test_a_failed_task_says_why_and_its_progress_is_negative(client):
    page = client.search_tasks(ROLLOUT, expression=equals("status", "failed"), page_size=50)
    assert page.total_size == 41
    for task in page.items:
        assert task.progress < 0 and task.failed and task.percent_done is None
        assert task.description
        assert (task.from_version, task.to_version) == ("2.3.3", "2.7.1")
    done = client.search_tasks(ROLLOUT, expression=equals("status", "succeeded"), page_size=1)
    assert done.items[0].percent_done == 100 and not done.items[0].failed


def test_counting_a_3000_task_job_by_status_costs_one_call_per_count(client, simulator):
    client.check_credentials()
    simulator.reset_counters()
    counts = {status: client.count_tasks(ROLLOUT, status=status) for status in STATUSES}
    total = client.count_tasks(ROLLOUT)
    assert counts == ROLLOUT_COUNTS and total == 3000
    counters = simulator.counters
    assert counters["search_tasks"] == counters["business"] == len(STATUSES) + 1
    assert counters["token_get"] == 0


def test_the_verification_story_in_counts(client):
    """Mid-verification and can pass; cannot pass any more: the numbers the pages show."""
    rc1 = {s: client.count_tasks("job-bx-400rc1-verify", status=s) for s in STATUSES}
    assert (rc1["succeeded"], rc1["failed"], sum(rc1.values())) == (9, 2, 20)
    east = {s: client.count_tasks("job-qw-362-verify", status=s) for s in STATUSES}
    assert (east["succeeded"], east["failed"], sum(east.values())) == (1, 3, 5)


def test_devices_on_a_version_are_counted_in_one_call_each(client, simulator):
    client.check_credentials()
    simulator.reset_counters()
    versions = ("1.0.4", "2.3.3", "2.7.1", "4.0.0-rc1")
    running = {
        v: client.count_devices(product_key="BXwU4kMk", firmware_version=v) for v in versions
    }
    upgrading = [
        client.count_devices(product_key="BXwU4kMk", firmware_version=v, upgrading=True)
        for v in ("2.3.3", "2.7.1")
    ]
    assert simulator.counters["search_device_upgrades"] == len(versions) + 2
    assert sum(running.values()) == 3400  # the whole fleet, each device on one version
    assert running["1.0.4"] == 100  # fw-legacy-inverter-1.0.4: no jobs, but devices run it
    assert 2712 <= running["2.7.1"] <= 18 + 2712
    # Under way: the rollout's upgrading and published tasks, and 4.0.0-rc1's.
    assert sum(upgrading) == 96 + 87 + 4 + 3


def test_device_search_filters_and_pages(client):
    page = client.search_device_upgrades(
        expression=all_of(one_of("productKey", ["Tb7kR2xQ"]), equals("isUpgrading", False)),
        page=1,
        page_size=20,
    )
    assert page.total_size == 60 and len(page.items) == 20
    assert {device.product_key for device in page.items} == {"Tb7kR2xQ"}
    assert all(device.asset_id and device.is_upgrading is False for device in page.items)
    on_new = client.search_device_upgrades(
        expression=all_of(equals("productKey", "Tb7kR2xQ"), equals("firmwareVersion", "3.2.1"))
    )
    assert on_new.total_size == 9  # the verify job's nine successes


@pytest.mark.parametrize(
    ("field", "value", "call"),
    [
        ("data[].progress", "150", lambda c: c.search_tasks(ROLLOUT)),
        ("data[].updateTime", '"yesterday"', lambda c: c.search_tasks(ROLLOUT)),
        ("data.upgradeTimeout", "-5", lambda c: c.get_job(ROLLOUT)),
        ("data.type", "[1]", lambda c: c.get_job(ROLLOUT)),
        ("data[].isUpgrading", '"maybe"', lambda c: c.search_device_upgrades()),
        ("pagination.totalSize", '"many"', lambda c: c.search_jobs()),
    ],
)
def test_a_value_that_makes_no_sense_is_a_bad_response_naming_the_field(
    client, simulator, field, value, call
):
    simulator.fault = Fault("odd_value", field=field, value=value)
    name = field.rsplit(".", 1)[-1].removeprefix("data[]")
    with pytest.raises(BadResponse, match=name) as excinfo:
        call(client)
    assert excinfo.value.request_id


def test_a_policy_of_any_shape_is_read_not_refused(client, simulator):
    simulator.fault = Fault("odd_value", field="data.schedulePolicy", value='[[["deep"]], 7, null]')
    job = client.get_job(ROLLOUT)
    assert job.schedule_policy.entries == (("[0][0][0]", "deep"), ("[1]", "7"))


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http500"), UpstreamError),
        (Fault("error_code", code=50000), UpstreamError),
        (Fault("malformed_json"), BadResponse),
        (Fault("data_null"), BadResponse),
        (Fault("drop"), Unreachable),
        (Fault("slow", delay=3.0), UpstreamTimeout),
        (Fault("drip", delay=0.2, size=100_000), UpstreamTimeout),
        (Fault("rate_limited"), RateLimited),
    ],
)
@pytest.mark.parametrize(
    "call",
    [
        lambda c: c.get_job(ROLLOUT),
        lambda c: c.search_jobs(),
        lambda c: c.count_tasks(ROLLOUT, status="failed"),
        lambda c: c.search_device_upgrades(),
    ],
)
def test_faults_hit_the_new_calls_like_the_firmware_calls(simulator, fault, error, call):
    client = make_client(simulator.url, read_timeout=0.5, total_timeout=1.0)
    client.check_credentials()
    simulator.fault = fault
    started = time.monotonic()
    with pytest.raises(error):
        call(client)
    assert time.monotonic() - started < 1.8
    assert simulator.counters["faults"] == 1


def test_token_scoped_faults_spare_the_new_calls(client, simulator):
    client.check_credentials()
    simulator.fault = Fault("http500", scope="token")
    assert client.count_tasks(ROLLOUT) == 3000
    assert simulator.counters["faults"] == 0


def test_each_call_logs_one_line_naming_the_job(client, caplog):
    client.check_credentials()
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="firmware.enos.client"):
        client.get_job(ROLLOUT)
        client.count_tasks(ROLLOUT, status="failed")
        client.search_jobs()
    lines = [record.getMessage() for record in caplog.records]
    assert lines[0].startswith(f"enos get_job org=demo job={ROLLOUT} http=200 code=0")
    assert lines[1].startswith(f"enos search_tasks org=demo job={ROLLOUT} http=200 code=0")
    assert lines[2].startswith("enos search_jobs org=demo firmware=- http=200 code=0")


def test_a_job_id_with_quotes_is_quoted_in_the_task_search(client, simulator):
    simulator.add_tasks(
        [{"orgId": "o15475466766371", "taskId": "t-1", "jobId": "it's", "status": "failed"}]
    )
    page = client.search_tasks("it's")
    assert [task.task_id for task in page.items] == ["t-1"] and page.total_size == 1
