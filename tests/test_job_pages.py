"""The OTA job pages and the devices on a version, over real HTTP against the simulator's demo
story: every field, filters and paging in the URL, what a page costs upstream, failures in
their place, and the access rule."""

import re
import time

import pytest
from django.urls import reverse
from django.utils import translation

from enos_simulator import Fault
from firmware.enos.types import Policy
from firmware.job_presentation import policy_rows
from firmware.jobs import UPSTREAM_CALLS
from tests.conftest import text_of

ROLLOUT = "job-bx-271-rollout"  # 3,000 tasks: 2,712 succeeded, 41 failed, 96 upgrading, ...
MID_VERIFICATION = "job-bx-400rc1-verify"
SENSOR = "2a384c6ba0cac464ebdff5c9"  # BXwU4kMk 2.7.1: 2,722 devices on it, 6 upgrading
TURBINE = "fw-turbine-ctrl-3.2.1"  # new firmware: its product is named by its job's scope
NO_PRODUCT = "fw-no-name"  # new firmware without jobs
DEMO_JOBS = {  # org DEMO_ORG_ID's jobs, newest first, with type and status
    "job-bx-400rc1-verify": ("verify", "started"),
    "job-turbine-321-verify": ("verify", "stopped"),
    "job-bx-271-rollout": ("upgrade", "started"),
    "job-bx-271-verify": ("verify", "stopped"),
    "job-qw-362-verify": ("verify", "started"),
}


def job_url(job_id=ROLLOUT, slug="demo"):
    return reverse("firmware:job_detail", kwargs={"slug": slug, "job_id": job_id})


def jobs_url(slug="demo"):
    return reverse("firmware:job_list", kwargs={"slug": slug})


def devices_url(firmware_id=SENSOR, slug="demo"):
    return reverse("firmware:firmware_devices", kwargs={"slug": slug, "firmware_id": firmware_id})


def task_statuses(response):
    return [task.status for task in response.context["page"].tasks.page.items]


# The job page ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_job_page_shows_every_field_of_the_job(operator_client):
    response = operator_client.get(job_url())
    page = text_of(response)
    assert response.status_code == 200
    assert '<h1 id="job-name"><bdi>Vibration sensor 2.7.1 fleet rollout</bdi></h1>' in page
    assert f'href="/orgs/demo/firmware/{SENSOR}/"><bdi>Vibration sensor</bdi></a>' in page
    for shown in (
        "Upgrade",
        "Started",
        "Devices in scope, including those that join later",
        "Devices may request the upgrade</dt><dd>Yes",
        "Upgrade timeout</dt><dd>30 minutes",
        "Tasks running at once (at most)</dt><dd>200",
        "BXwU4kMk",
        "o15475466766371",
    ):
        assert shown in page
    assert 'datetime="2024-03-04T00:00:00+00:00"' in page  # created, and the schedule's start


@pytest.mark.django_db
def test_policies_are_shown_in_words(operator_client):
    page = text_of(operator_client.get(job_url()))
    assert "Scope</dt><dd><bdi>Devices matching a filter</bdi>" in page
    assert "Devices running version</dt><dd><bdi>2.3.3</bdi>" in page
    assert "Retry interval</dt><dd><bdi>10 minutes</bdi>" in page
    assert "Retries at most</dt><dd><bdi>3</bdi>" in page
    assert 'Ends</dt><dd><time datetime="2024-04-04T00:00:00+00:00"' in page
    assert "Daily window</dt><dd><bdi>01:00–05:00 (+08:00)</bdi>" in page


@translation.override("en")
def test_a_policy_of_any_shape_is_shown_without_failing():
    odd = Policy.from_api({"type": "device", "obj": ["A", "B"], "future": {"x": [1, None]}})
    rows = policy_rows("upgrade_scope", odd)
    assert [(row.label, [v.text for v in row.values], row.known) for row in rows] == [
        ("Scope", ["Listed devices"], True),
        ("Devices", ["A", "B"], True),
        ("future.x", ["1"], False),
    ]
    bare = policy_rows("retry_policy", Policy.from_api("every day"))
    assert [(row.label, row.values[0].text) for row in bare] == [("Value", "every day")]
    nonsense = policy_rows("schedule_policy", Policy.from_api({"startTime": "soon"}))
    assert nonsense[0].values[0].text == "soon" and nonsense[0].values[0].moment is None
    assert policy_rows("retry_policy", Policy.from_api(None)) == ()


@pytest.mark.django_db
def test_task_counts_by_status_link_to_their_tasks_with_a_proportion_bar(operator_client):
    response = operator_client.get(job_url())
    page = text_of(response)
    for status, count in (("init", "64"), ("upgrading", "96"), ("succeeded", "2,712")):
        count_link = rf'<a href="([^"]+)" id="count-{status}">[^<]+</a>:\s*<strong>([^<]+)'
        link = re.search(count_link, page)
        assert link.groups() == (f"?status={status}", count)
    assert "3,000 tasks in all" in page
    bar = re.search(r'<svg class="task-bar".*?</svg>', page, re.S).group(0)
    assert 'role="img"' in bar
    assert "Succeeded 90.4 %; Failed 1.4 %" in bar  # the bar's text for screen readers
    widths = dict(re.findall(r'class="bar-(\w+)" x="[\d.]+" y="0" width="([\d.]+)"', bar))
    assert widths["succeeded"] == "90.400" and widths["failed"] == "1.367"


@pytest.mark.django_db
def test_the_failed_tasks_of_a_job_are_a_link_to_share(operator_client):
    response = operator_client.get(job_url(), {"status": "failed"})
    page = text_of(response)
    assert response.status_code == 200
    assert task_statuses(response) == ["failed"] * 41
    assert "Tasks: Failed" in page
    assert 'id="count-failed" aria-current="true"' in page
    assert "-1 %" not in page  # a failed task's progress is shown as failed
    assert page.count('<span class="badge badge-error">Failed</span>') >= 41
    assert "Download timed out after 600 s" in page or "升级包校验失败" in page


@pytest.mark.django_db
def test_tasks_are_paged_keeping_the_status(operator_client):
    response = operator_client.get(job_url(), {"status": "succeeded", "page": 2})
    page = text_of(response)
    assert task_statuses(response) == ["succeeded"] * 50
    assert "Showing 51–100 of 2,712" in page
    assert 'href="?status=succeeded&page=3" rel="next"' in page
    assert 'href="?status=succeeded&page=55" rel="last"' in page


@pytest.mark.django_db
def test_a_task_page_beyond_the_last_goes_to_the_last(operator_client):
    response = operator_client.get(job_url(), {"status": "failed", "page": 9})
    assert response.status_code == 302
    assert response["Location"] == job_url() + "?status=failed&page=1"


@pytest.mark.django_db
def test_a_job_page_costs_one_round_of_seven_calls_whatever_the_jobs_size(
    operator_client, simulator
):
    operator_client.get(job_url(MID_VERIFICATION))  # the access token, fetched once
    simulator.reset_counters()
    response = operator_client.get(job_url(), {"status": "failed"})
    assert response.status_code == 200
    calls = simulator.counters
    # The job; a count per status and the shown page, each a task search: never a walk.
    assert (calls["get_job"], calls["search_tasks"]) == (1, 5 + 1)
    assert calls["business"] == UPSTREAM_CALLS == 7
    simulator.reset_counters()
    operator_client.get(job_url(), {"status": "failed"})
    assert simulator.counters["business"] == 0  # cached


@pytest.mark.django_db
def test_the_job_page_calls_run_at_once(operator_client, simulator):
    operator_client.get(job_url(MID_VERIFICATION))  # the access token, fetched once
    simulator.configure({"latency": 0.3})
    started = time.monotonic()
    assert operator_client.get(job_url()).status_code == 200
    assert time.monotonic() - started < 2 * 0.3 + 0.25  # one round, not seven


@pytest.mark.django_db
def test_an_unknown_job_is_the_404_page(operator_client):
    response = operator_client.get(job_url("job-does-not-exist"))
    page = text_of(response)
    assert response.status_code == 404
    assert "OTA job not found" in page
    assert "EnOS has no OTA job <code>job-does-not-exist</code> in Demo." in page


@pytest.mark.django_db
@pytest.mark.parametrize("job_id", ["job$1", "a" * 129, "job'x", "..%2F"])
def test_a_malformed_job_id_is_404_without_asking_enos(operator_client, simulator, job_id):
    simulator.reset_counters()
    response = operator_client.get(f"/orgs/demo/jobs/{job_id}/")
    assert response.status_code == 404
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "field"),
    [({"status": "broken"}, "Status"), ({"page": "0"}, "Page"), ({"page": "two"}, "Page")],
)
def test_a_bad_status_or_page_is_a_field_error(operator_client, simulator, params, field):
    simulator.reset_counters()
    response = operator_client.get(job_url(), params)
    page = text_of(response)
    assert response.status_code == 400
    assert re.search(rf'<p class="field-error">{field}: [^<]+</p>', page)
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
def test_when_the_job_call_fails_the_page_is_the_error_page(operator_client, simulator):
    simulator.fault = Fault("error_code", code=500, scope="jobs")
    response = operator_client.get(job_url())
    page = text_of(response)
    assert response.status_code == 502
    assert 'id="enos-code">500<' in page


@pytest.mark.django_db
def test_failing_counts_and_tasks_are_shown_in_their_place(operator_client, simulator):
    operator_client.get(jobs_url())  # the job list puts the job in the cache
    simulator.fault = Fault("error_code", code=500, scope="jobs")
    response = operator_client.get(job_url())
    page = text_of(response)
    assert response.status_code == 200
    assert "Vibration sensor 2.7.1 fleet rollout" in page
    for part in ("counts-failure", "tasks-failure"):
        failure = re.search(rf'id="{part}">(.*?)</div>', page, re.S).group(1)
        assert "EnOS answered with an error" in failure
        assert "EnOS code 500" in failure
        assert re.search(r'EnOS request ID: <span class="mono"><bdi>[0-9a-f-]{36}</bdi>', failure)


@pytest.mark.django_db
def test_job_names_are_shown_in_the_viewers_language(operator_client):
    page = text_of(operator_client.get(job_url(), HTTP_ACCEPT_LANGUAGE="ja"))
    assert "<bdi>振動センサー 2.7.1 一斉アップグレード</bdi>" in page
    chinese = text_of(operator_client.get(jobs_url(), HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "<bdi>振动传感器 2.7.1 全量升级</bdi>" in chinese
    assert "<bdi>振动传感器</bdi>" in chinese  # the firmware's name too


# An org's jobs ---------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_jobs_of_an_org_newest_first_with_links(operator_client):
    response = operator_client.get(jobs_url())
    page = text_of(response)
    assert response.status_code == 200
    assert [job.job_id for job in response.context["listing"].page.items] == list(DEMO_JOBS)
    assert f'<a href="{job_url()}"><bdi>Vibration sensor 2.7.1 fleet rollout</bdi></a>' in page
    assert f'href="/orgs/demo/firmware/{TURBINE}/"><bdi>Turbine controller</bdi></a>' in page
    assert 'id="job-cards"' in page
    crumbs = re.search(r'<nav class="breadcrumbs".*?</nav>', page, re.S).group(0)
    assert re.sub(r"<[^>]+>|\s+", "", crumbs) == "Home›Demo›Jobs"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "params",
    [
        {"type": "verify"},
        {"status": "started"},
        {"type": "verify", "status": "started"},
        {"firmware": SENSOR},
        {"type": "upgrade", "firmware": SENSOR},
    ],
)
def test_job_filters_in_the_url(operator_client, params):
    response = operator_client.get(jobs_url(), params)
    shown = [job.job_id for job in response.context["listing"].page.items]
    firmware = {ROLLOUT: SENSOR, "job-bx-271-verify": SENSOR}
    expected = [
        job_id
        for job_id, (job_type, status) in DEMO_JOBS.items()
        if params.get("type", job_type) == job_type
        and params.get("status", status) == status
        and params.get("firmware", firmware.get(job_id)) == firmware.get(job_id)
    ]
    assert shown == expected and expected


@pytest.mark.django_db
def test_jobs_are_paged_keeping_the_filters(operator_client):
    response = operator_client.get(jobs_url(), {"type": "verify", "page_size": 2})
    page = text_of(response)
    assert "Showing 1–2 of 4" in page
    assert 'href="?type=verify&page_size=2&page=2" rel="next"' in page


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("params", "error"),
    [
        ({"type": "rollback"}, "Select a valid choice"),
        ({"status": "paused"}, "Select a valid choice"),
        ({"firmware": "fw 1'"}, "A firmware ID holds up to 128 letters"),
        ({"page": "-1"}, "greater than or equal to 1"),
    ],
)
def test_bad_job_filters_are_field_errors(operator_client, simulator, params, error):
    simulator.reset_counters()
    response = operator_client.get(jobs_url(), params)
    assert response.status_code == 400
    assert error in text_of(response)
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
def test_the_firmware_list_links_to_the_jobs(operator_client):
    page = text_of(operator_client.get(reverse("firmware:firmware_list", kwargs={"slug": "demo"})))
    assert f'<a href="{jobs_url()}" id="jobs-link">' in page


@pytest.mark.django_db
def test_a_failing_job_list_is_the_error_page(operator_client, simulator):
    simulator.fault = Fault("http500", scope="jobs")
    assert operator_client.get(jobs_url()).status_code == 502


# Devices on a version --------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_devices_on_a_firmwares_version(operator_client):
    response = operator_client.get(devices_url())
    page = text_of(response)
    listing = response.context["listing"]
    assert response.status_code == 200
    assert listing.page.total_size == 2722
    assert {device.firmware_version for device in listing.page.items} == {"2.7.1"}
    assert {device.product_key for device in listing.page.items} == {"BXwU4kMk"}
    assert "Showing 1–50 of 2,722" in page
    assert 'id="device-cards"' in page
    assert re.search(r'<td class="mono"><bdi>[0-9a-f]{8}</bdi></td>', page)  # asset ids


@pytest.mark.django_db
def test_only_the_devices_upgrading_now(operator_client):
    response = operator_client.get(devices_url(), {"upgrading": "1"})
    items = response.context["listing"].page.items
    assert len(items) == 6 and all(device.is_upgrading for device in items)
    assert text_of(response).count('<span class="badge badge-info">Upgrading</span>') == 12


@pytest.mark.django_db
def test_a_new_firmwares_product_comes_from_its_jobs(operator_client):
    response = operator_client.get(devices_url(TURBINE))
    page = text_of(response)
    assert response.context["listing"].data.product_key == "Tb7kR2xQ"
    assert 'id="product-from-jobs"' in page
    assert response.context["listing"].page.total_size > 0


@pytest.mark.django_db
def test_without_a_product_the_page_says_enos_does_not_say(operator_client, simulator):
    simulator.reset_counters()
    response = operator_client.get(devices_url(NO_PRODUCT))
    assert response.status_code == 200
    assert "EnOS does not say which product this firmware is for" in text_of(response)
    assert simulator.counters["search_device_upgrades"] == 0


@pytest.mark.django_db
def test_a_failing_device_call_is_shown_in_its_place(operator_client, simulator):
    simulator.fault = Fault("error_code", code=500, scope="devices")
    response = operator_client.get(devices_url())
    assert response.status_code == 200
    assert 'id="devices-failure"' in text_of(response)


@pytest.mark.django_db
def test_device_page_errors(operator_client, simulator):
    assert operator_client.get(devices_url(), {"upgrading": "yes"}).status_code == 400
    assert operator_client.get(devices_url(), {"page": "0"}).status_code == 400
    assert operator_client.get(devices_url("fw-does-not-exist")).status_code == 404
    simulator.reset_counters()
    assert operator_client.get("/orgs/demo/firmware/fw$x/devices/").status_code == 404
    assert simulator.counters["business"] == 0


# Access -----------------------------------------------------------------------------------------


@pytest.mark.django_db
@pytest.mark.parametrize("url", [jobs_url(), job_url(), devices_url()])
def test_outsiders_get_404_without_enos_being_asked(client, org, outsider, simulator, url):
    client.force_login(outsider)
    simulator.reset_counters()
    assert client.get(url).status_code == 404
    assert simulator.counters["business"] == 0


@pytest.mark.django_db
@pytest.mark.parametrize("url", [jobs_url(), job_url(), devices_url()])
def test_anonymous_visitors_are_sent_to_log_in(client, org, url):
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["各状态的设备任务", "升级策略", "重试间隔", "10 分钟", "失败", "每日时段"]),
        ("ja", ["状態別のタスク", "アップグレードポリシー", "再試行の間隔", "10 分", "失敗"]),
        ("es", ["Tareas por estado", "Política de actualización", "10 minutos", "Fallidos"]),
    ],
)
def test_the_job_page_speaks_the_viewers_language(operator_client, language, words):
    page = text_of(
        operator_client.get(job_url(), {"status": "failed"}, HTTP_ACCEPT_LANGUAGE=language)
    )
    for word in words:
        assert word in page
    for english in ("Tasks by status", "Upgrade policy", "Retry interval", "Daily window"):
        assert english not in page
