"""The JSON API over HTTP (Django's test client) against the EnOS simulator: every endpoint, the
access rule with tokens of granted and ungranted users, revoked and expired tokens, and every
error as problem details."""

import csv
import io
import json
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.utils import timezone
from openapi_spec_validator import validate

from enos_simulator import DEMO_ORG_ID
from enos_simulator.faults import Fault
from firmware import services, tokens
from firmware.models import ApiToken
from tests.conftest import make_org

API = "/api/v1"
TURBINE = "fw-turbine-ctrl-3.2.1"
LEGACY = "fw-legacy-inverter-1.0.4"
ROLLOUT = "job-bx-271-rollout"
PROBLEM = "application/problem+json"


def bearer(raw: str) -> dict[str, str]:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def token(granted) -> str:
    return tokens.create(granted, "ci").raw


@pytest.fixture
def outsider_token(outsider, org) -> str:
    return tokens.create(outsider, "elsewhere").raw


def get(client, path: str, raw: str | None = None, **headers):
    return client.get(API + path, **(bearer(raw) if raw else {}), **headers)


def problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:500]
    assert response["Content-Type"] == PROBLEM
    body = json.loads(response.content)
    assert body["status"] == status
    assert body["title"]
    return body


# ---- access ----------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_token_lists_the_orgs_its_user_may_see(client, token, simulator):
    make_org(simulator.url, slug="other")  # exists, not granted
    body = get(client, "/orgs/", token).json()
    assert [org["slug"] for org in body["data"]] == ["demo"]
    assert body["data"][0]["orgId"] == DEMO_ORG_ID
    assert body["requestId"] is None
    assert body["stale"] is False
    assert body["fetchedAt"].endswith("Z")


@pytest.mark.django_db
def test_an_ungranted_users_token_sees_no_org_and_gets_404_not_403(client, outsider_token):
    assert get(client, "/orgs/", outsider_token).json()["data"] == []
    body = problem(get(client, "/orgs/demo/firmware/", outsider_token), 404)
    assert body["type"] == "about:blank"
    problem(get(client, f"/orgs/demo/firmware/{TURBINE}/", outsider_token), 404)
    problem(get(client, "/orgs/no-such-org/firmware/", outsider_token), 404)


@pytest.mark.django_db
def test_without_credentials_the_api_answers_401_never_a_login_redirect(client, org):
    response = get(client, "/orgs/")
    problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Bearer")
    problem(get(client, "/orgs/demo/firmware/"), 401)


@pytest.mark.django_db
@pytest.mark.parametrize("state", ["revoked", "expired", "unknown", "inactive user"])
def test_revoked_expired_unknown_tokens_and_inactive_users_are_refused(client, granted, state):
    new = tokens.create(granted, "old")
    raw = new.raw
    if state == "revoked":
        tokens.revoke(ApiToken.objects.filter(pk=new.token.pk))
    elif state == "expired":
        ApiToken.objects.filter(pk=new.token.pk).update(
            expires_at=timezone.now() - timedelta(seconds=1)
        )
    elif state == "unknown":
        raw = tokens.PREFIX + "x" * 43
    else:
        granted.is_active = False
        granted.save()
    body = problem(get(client, "/orgs/", raw), 401)
    assert "revoked or expired" in body["detail"]


@pytest.mark.django_db
def test_a_bad_token_is_refused_even_beside_a_valid_session(operator_client):
    problem(get(operator_client, "/orgs/", tokens.PREFIX + "y" * 43), 401)


@pytest.mark.django_db
def test_the_session_works_for_same_origin_reads(operator_client):
    body = get(operator_client, "/orgs/").json()
    assert [org["slug"] for org in body["data"]] == ["demo"]


@pytest.mark.django_db
def test_the_api_only_reads(client, token):
    for method in (client.post, client.put, client.delete):
        response = method(API + "/orgs/", **bearer(token))
        problem(response, 405)
        assert response["Allow"] == "GET"


@pytest.mark.django_db
def test_an_unknown_api_path_is_a_404_problem_not_a_page(client, token):
    problem(get(client, "/nothing-here/", token), 404)
    problem(client.get("/api/v2/orgs/"), 404)
    problem(client.get("/api/v1/"), 404)
    problem(get(client, "/orgs", token), 404)  # no redirect to the slash either


@pytest.mark.django_db
def test_the_token_is_stored_only_as_its_sha256(granted):
    new = tokens.create(granted, "ci")
    stored = ApiToken.objects.get(pk=new.token.pk)
    assert new.raw not in repr(stored.__dict__)
    assert stored.token_hash == tokens.digest(new.raw)
    assert new.raw.startswith(stored.hint)


@pytest.mark.django_db
def test_last_used_is_written_at_most_once_a_minute(client, granted):
    new = tokens.create(granted, "ci")
    get(client, "/orgs/", new.raw)
    first = ApiToken.objects.get(pk=new.token.pk).last_used_at
    assert first is not None
    get(client, "/orgs/", new.raw)
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at == first
    ApiToken.objects.filter(pk=new.token.pk).update(last_used_at=first - timedelta(minutes=2))
    get(client, "/orgs/", new.raw)
    assert ApiToken.objects.get(pk=new.token.pk).last_used_at > first


@pytest.mark.django_db
def test_each_token_is_throttled_with_a_429_saying_when_to_retry(client, granted, settings):
    settings.API_THROTTLE_REQUESTS = 2
    first, second = tokens.create(granted, "a").raw, tokens.create(granted, "b").raw
    assert get(client, "/orgs/", first).status_code == 200
    assert get(client, "/orgs/", first).status_code == 200
    response = get(client, "/orgs/", first)
    body = problem(response, 429)
    assert 1 <= int(response["Retry-After"]) <= settings.API_THROTTLE_SECONDS
    assert body["retryAfter"] == int(response["Retry-After"])
    assert get(client, "/orgs/", second).status_code == 200  # the other token has its own


# ---- firmware --------------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_firmware_list_speaks_enos_names_utc_times_and_the_callers_language(client, token):
    response = get(client, "/orgs/demo/firmware/?q=Turbine", token, HTTP_ACCEPT_LANGUAGE="ja")
    assert response.status_code == 200
    body = response.json()
    assert body["requestId"]
    assert body["stale"] is False
    assert body["fetchedAt"].endswith("Z")
    assert (body["pageNo"], body["totalSize"]) == (1, len(body["data"]))
    turbine = next(fw for fw in body["data"] if fw["firmwareId"] == TURBINE)
    assert turbine["displayName"] == "風車コントローラ"
    assert turbine["name"]["i18nValue"]["zh_CN"] == "风机控制器"
    assert turbine["name"]["defaultValue"] == "Turbine controller"
    assert turbine["fileSize"] == 52428800
    assert turbine["createTime"] == "2024-06-10T09:39:05.678Z"
    assert turbine["firmwareTags"] == {"site": "north", "channel": "stable"}


@pytest.mark.django_db
def test_the_list_takes_the_pages_parameters(client, token):
    everything = get(client, "/orgs/demo/firmware/", token).json()
    one_page = get(client, "/orgs/demo/firmware/?page=2&page_size=2", token).json()
    assert (one_page["pageNo"], one_page["pageSize"]) == (2, 2)
    assert one_page["totalSize"] == everything["totalSize"]
    assert [fw["firmwareId"] for fw in one_page["data"]] == [
        fw["firmwareId"] for fw in everything["data"][2:4]
    ]
    legacy = get(client, "/orgs/demo/firmware/?productKey=BXwU4kMk&verified=false", token).json()
    assert LEGACY in [fw["firmwareId"] for fw in legacy["data"]]
    assert {fw["productKey"] for fw in legacy["data"]} == {"BXwU4kMk"}
    by_size = get(client, "/orgs/demo/firmware/?sort=-size", token).json()["data"]
    sizes = [fw["fileSize"] for fw in by_size if fw["fileSize"] is not None]
    assert sizes == sorted(sizes, reverse=True)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("productKey=not a key!", "productKey"),
        ("page=0", "page"),
        ("page_size=100000", "page_size"),
        ("verified=maybe", "verified"),
        ("sort=colour", "sort"),
        ("format=xml", "format"),
    ],
)
def test_a_bad_filter_is_a_400_naming_the_parameter(client, token, query, parameter):
    body = problem(get(client, f"/orgs/demo/firmware/?{query}", token), 400)
    assert parameter in body["detail"]
    assert parameter in [error["parameter"] for error in body["errors"]]


@pytest.mark.django_db
def test_one_firmware(client, token):
    body = get(client, f"/orgs/demo/firmware/{LEGACY}/", token).json()
    assert body["org"]["slug"] == "demo"
    assert body["data"]["firmwareId"] == LEGACY
    assert body["data"]["signMethod"] == "md5"
    assert body["requestId"]


@pytest.mark.django_db
def test_an_unknown_or_malformed_firmware_is_a_404_problem(client, token):
    problem(get(client, "/orgs/demo/firmware/fw-does-not-exist/", token), 404)
    problem(get(client, "/orgs/demo/firmware/bad%20id/", token), 404)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fault", "status", "kind", "has_code"),
    [
        (Fault("http500"), 502, "upstream", False),
        (Fault("error_code", code=50000), 502, "upstream", True),
        (Fault("malformed_json"), 502, "bad_response", False),
        (Fault("slow", delay=2), 504, "timeout", False),
        (Fault("drop"), 503, "unreachable", False),
    ],
)
def test_enos_failures_are_problems_with_the_pages_status_and_enos_code(
    client, token, simulator, settings, fault, status, kind, has_code
):
    settings.ENOS_READ_TIMEOUT = 0.5
    simulator.fault = fault
    body = problem(get(client, f"/orgs/demo/firmware/{TURBINE}/", token), status)
    assert body["type"] == f"urn:fwportal:problem:{kind}"
    assert ("code" in body) is has_code
    assert ("requestId" in body) is has_code
    if has_code:
        assert body["code"] == 50000
    assert "Traceback" not in json.dumps(body)


@pytest.mark.django_db
def test_a_stale_copy_says_so(client, token, simulator, org):
    fresh = get(client, f"/orgs/demo/firmware/{TURBINE}/", token).json()
    assert fresh["stale"] is False
    cache.delete(services._cache_key(org, "get", TURBINE) + ":fresh")  # as if time went by
    simulator.stop()
    body = get(client, f"/orgs/demo/firmware/{TURBINE}/", token).json()
    assert body["stale"] is True
    assert body["fetchedAt"] == fresh["fetchedAt"]
    assert body["requestId"] == fresh["requestId"]


@pytest.mark.django_db
def test_find_looks_in_every_visible_org(client, token, simulator, granted):
    make_org(simulator.url, slug="second", org_id="o16000000000002").granted_users.add(granted)
    body = get(client, f"/find/?firmware_id={TURBINE}", token).json()
    assert body["asked"] == 2
    assert sorted(match["org"]["slug"] for match in body["matches"]) == ["demo", "second"]
    versions = {match["org"]["slug"]: match["data"]["version"] for match in body["matches"]}
    assert versions == {"demo": "3.2.1", "second": "3.3.0"}
    assert body["unanswered"] == []
    problem(get(client, "/find/?firmware_id=no%20spaces", token), 400)
    problem(get(client, "/find/", token), 400)


# ---- OTA jobs, tasks, devices ------------------------------------------------------------------


@pytest.mark.django_db
def test_jobs_filtered_by_type_status_and_firmware(client, token):
    every = get(client, "/orgs/demo/jobs/", token).json()
    assert ROLLOUT in [job["jobId"] for job in every["data"]]
    verify = get(client, "/orgs/demo/jobs/?type=verify", token).json()
    assert verify["data"] and {job["type"] for job in verify["data"]} == {"verify"}
    of_one = get(client, "/orgs/demo/jobs/?firmware=2a384c6ba0cac464ebdff5c9", token).json()
    assert sorted(job["jobId"] for job in of_one["data"]) == [ROLLOUT, "job-bx-271-verify"]
    body = problem(get(client, "/orgs/demo/jobs/?type=explode", token), 400)
    assert body["errors"][0]["parameter"] == "type"


@pytest.mark.django_db
def test_a_job_with_its_task_counts(client, token):
    body = get(client, f"/orgs/demo/jobs/{ROLLOUT}/", token, HTTP_ACCEPT_LANGUAGE="zh-Hans").json()
    assert body["data"]["jobId"] == ROLLOUT
    assert body["data"]["taskCounts"] == {
        "init": 64,
        "published": 87,
        "upgrading": 96,
        "succeeded": 2712,
        "failed": 41,
        "total": 3000,
    }
    assert body["data"]["taskCountsProblem"] is None
    assert body["data"]["name"]["i18nValue"]["zh_CN"] == body["data"]["displayName"]
    assert body["requestId"]
    problem(get(client, "/orgs/demo/jobs/job-none/", token), 404)


@pytest.mark.django_db
def test_a_jobs_tasks_by_status_and_page(client, token):
    body = get(client, f"/orgs/demo/jobs/{ROLLOUT}/tasks/?status=failed&page_size=10", token).json()
    assert body["totalSize"] == 41
    assert len(body["data"]) == 10
    assert {task["status"] for task in body["data"]} == {"failed"}
    assert all(task["updateTime"].endswith("Z") for task in body["data"])
    problem(get(client, f"/orgs/demo/jobs/{ROLLOUT}/tasks/?status=lost", token), 400)


@pytest.mark.django_db
def test_devices_on_a_firmwares_version(client, token):
    body = get(client, f"/orgs/demo/firmware/{LEGACY}/devices/?page_size=5", token).json()
    assert (body["productKey"], body["firmwareVersion"]) == ("BXwU4kMk", "1.0.4")
    assert body["totalSize"] == 100
    assert len(body["data"]) == 5
    assert {device["firmwareVersion"] for device in body["data"]} == {"1.0.4"}
    upgrading = get(client, f"/orgs/demo/firmware/{LEGACY}/devices/?upgrading=1", token).json()
    assert upgrading["totalSize"] < 100
    assert {device["isUpgrading"] for device in upgrading["data"]} <= {True}
    problem(get(client, f"/orgs/demo/firmware/{LEGACY}/devices/?upgrading=yes", token), 400)
    # A new firmware names no product: its jobs do.
    turbine = get(client, f"/orgs/demo/firmware/{TURBINE}/devices/", token).json()
    assert turbine["productKey"] == "Tb7kR2xQ"


# ---- CSV ---------------------------------------------------------------------------------------


def csv_rows(response) -> list[list[str]]:
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


@pytest.mark.django_db
@pytest.mark.parametrize("ask", [{"format": "csv"}, {"HTTP_ACCEPT": "text/csv"}])
def test_the_csv_holds_every_matching_firmware_with_a_column_per_language(client, token, ask):
    total = get(client, "/orgs/demo/firmware/", token).json()["totalSize"]
    query = "?format=csv&page_size=1" if "format" in ask else "?page_size=1"
    headers = {k: v for k, v in ask.items() if k != "format"}
    response = get(client, f"/orgs/demo/firmware/{query}", token, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = csv_rows(response)
    assert header[:8] == [
        "orgId",
        "firmwareId",
        "name.defaultValue",
        "name.en_US",
        "name.zh_CN",
        "name.ja_JP",
        "name.es_ES",
        "version",
    ]
    assert len(rows) == total  # every firmware, not the one page asked for
    turbine = dict(zip(header, next(row for row in rows if row[1] == TURBINE), strict=True))
    assert turbine["name.ja_JP"] == "風車コントローラ"
    assert turbine["fileSize"] == "52428800"
    assert turbine["createTime"] == "2024-06-10T09:39:05.678Z"


@pytest.mark.django_db
def test_the_csv_says_in_its_last_line_when_the_limit_cut_it(client, token, settings):
    settings.CSV_EXPORT_MAX = 3
    total = get(client, "/orgs/demo/firmware/", token).json()["totalSize"]
    _header, *rows = csv_rows(get(client, "/orgs/demo/firmware/?format=csv", token))
    assert len(rows) == 4
    assert rows[-1] == [f"# Limited to the first 3 of {total} firmware (CSV_EXPORT_MAX)"]


@pytest.mark.django_db
def test_the_csv_keeps_the_filters(client, token):
    _header, *rows = csv_rows(
        get(client, "/orgs/demo/firmware/?format=csv&productKey=BXwU4kMk", token)
    )
    assert rows and {row[8] for row in rows} == {"BXwU4kMk"}


@pytest.mark.django_db
def test_a_csv_whose_first_page_fails_is_a_problem(client, token, simulator):
    simulator.fault = Fault("http500")
    problem(get(client, "/orgs/demo/firmware/?format=csv", token), 502)


@pytest.mark.django_db
def test_the_list_page_offers_the_csv_of_its_filters(operator_client):
    page = operator_client.get("/orgs/demo/firmware/?productKey=BXwU4kMk&page=1").content.decode()
    assert 'href="/api/v1/orgs/demo/firmware/?productKey=BXwU4kMk&amp;format=csv"' in page
    response = operator_client.get("/api/v1/orgs/demo/firmware/?productKey=BXwU4kMk&format=csv")
    assert response.status_code == 200


# ---- schema and docs -------------------------------------------------------------------------


@pytest.mark.django_db
def test_the_openapi_schema_is_valid_openapi_3(client):
    response = client.get(API + "/openapi.json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    validate(schema)
    assert {"/api/v1/orgs/", "/api/v1/orgs/{slug}/jobs/{job_id}/tasks/"} <= set(schema["paths"])
    schemes = schema["components"]["securitySchemes"]
    assert {scheme["type"] for scheme in schemes.values()} == {"http", "apiKey"}


@pytest.mark.django_db
def test_the_docs_load_our_own_static_files_and_no_inline_script(client):
    response = client.get(API + "/docs")
    assert response.status_code == 200
    page = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in page
    assert "cdn" not in page.lower()
    scripts = [part.split(">", 1)[0] for part in page.split("<script")[1:]]
    assert all("src=" in tag or "application/json" in tag for tag in scripts)
    assert "script-src 'self'" in response["Content-Security-Policy"]
