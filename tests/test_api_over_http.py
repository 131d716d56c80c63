"""The API as scripts meet it: real gunicorn (one worker, so its memory can be watched) and the
EnOS simulator holding 10,000 extra firmware, fwportal's default settings (the shared cache in
the database). Every endpoint, the access rule with granted, ungranted, revoked and expired
tokens, problem details for every error, the throttle across requests, the schema validated, and
a CSV of 10,000+ firmware streamed with constant memory.

Every loop is bounded; every child is stopped at the end."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from openapi_spec_validator import validate

from bench.stack import Stack, rss_kb, worker_pids
from enos_simulator import DEMO_ORG_ID
from enos_simulator.fixtures import DEFAULT_FIXTURES

pytestmark = pytest.mark.load

EXTRA_FIRMWARE = 10_000
THROTTLE = 30  # requests per window for each token, set for this stack
PROBLEM = "application/problem+json"
TURBINE = "fw-turbine-ctrl-3.2.1"
ROLLOUT = "job-bx-271-rollout"
MAKE_TOKENS = """
from datetime import timedelta
from django.contrib.auth.models import User
from django.utils import timezone
from firmware import tokens
from firmware.models import ApiToken
operator = User.objects.get(username="operator")
outsider, _ = User.objects.get_or_create(username="outsider")
revoked = tokens.create(operator, "revoked")
tokens.revoke(ApiToken.objects.filter(pk=revoked.token.pk))
expired = tokens.create(operator, "expired", timezone.now() - timedelta(seconds=1))
for name, raw in [
    ("operator", tokens.create(operator, "script").raw),
    ("throttled", tokens.create(operator, "busy").raw),
    ("outsider", tokens.create(outsider, "elsewhere").raw),
    ("revoked", revoked.raw),
    ("expired", expired.raw),
]:
    print(name, raw)
"""


def many_firmware_fixtures(path: Path) -> Path:
    """The default fixtures and EXTRA_FIRMWARE more firmware in the demo org, each with a long
    description and names in four languages, so that holding them all would show in memory."""
    fixtures = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
    for n in range(EXTRA_FIRMWARE):
        fixtures["firmware"].append(
            {
                "orgId": DEMO_ORG_ID,
                "firmwareId": f"fw-bulk-{n:05d}",
                "name": {
                    "defaultValue": f"Bulk controller {n}",
                    "i18nValue": {
                        "en_US": f"Bulk controller {n}",
                        "zh_CN": f"批量控制器 {n}",
                        "ja_JP": f"一括コントローラ {n}",
                        "es_ES": f"Controlador en lote {n}",
                    },
                },
                "version": f"1.{n // 100}.{n % 100}",
                "desc": f"Bulk firmware {n}: " + "x" * 2000,
                "productKey": "BulkPk01",
                "signMethod": "sha256",
                "sign": f"{n:064x}",
                "fileUrl": f"enos-connect://bulk-{n}.zip",
                "fileSize": 1_000_000 + n,
                "enableVerification": False,
                "isVerified": n % 2 == 0,
                "createTime": 1_600_000_000_000 + n,
                "firmwareTags": {"batch": str(n // 1000)},
            }
        )
    path.write_text(json.dumps(fixtures), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("api-http")
    env = {
        "API_THROTTLE_REQUESTS": str(THROTTLE),
        "API_THROTTLE_SECONDS": "3600",
        "ENOS_READ_TIMEOUT": "30",
        "ENOS_TOTAL_TIMEOUT": "60",
    }
    with Stack(work, "fwportal.settings", env, workers=1, threads=4) as stack:
        stack.env.pop("CACHE_URL", None)  # the defaults, whatever the test run was given
        stack.start_simulator("--fixtures", str(many_firmware_fixtures(work / "fixtures.json")))
        stack.set_up_demo()
        made = stack.manage("shell", "-c", MAKE_TOKENS)
        stack.tokens = dict(line.split(" ", 1) for line in made.split("\n") if line.strip())
        stack.start_gunicorn()
        yield stack


def api(stack: Stack, path: str, who: str | None = "operator", **kwargs) -> requests.Response:
    headers = kwargs.pop("headers", {})
    if who:
        headers["Authorization"] = f"Bearer {stack.tokens[who]}"
    return requests.get(
        f"{stack.web_url}/api/v1{path}",
        headers=headers,
        allow_redirects=False,
        timeout=120,
        **kwargs,
    )


def problem(response: requests.Response, status: int) -> dict:
    assert response.status_code == status, response.text[:300]
    assert response.headers["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    return body


def test_every_endpoint_answers_a_granted_token(stack: Stack) -> None:
    orgs = api(stack, "/orgs/").json()["data"]
    assert sorted(org["slug"] for org in orgs) == ["demo", "demo-solar"]
    listing = api(stack, "/orgs/demo/firmware/?q=Turbine&page_size=5").json()
    assert listing["data"] and listing["requestId"]
    one = api(stack, f"/orgs/demo/firmware/{TURBINE}/", headers={"Accept-Language": "es"}).json()
    assert one["data"]["displayName"] == "Controlador de turbina"
    found = api(stack, f"/find/?firmware_id={TURBINE}").json()
    assert sorted(match["org"]["slug"] for match in found["matches"]) == ["demo", "demo-solar"]
    assert api(stack, "/orgs/demo/jobs/?type=upgrade").json()["data"]
    job = api(stack, f"/orgs/demo/jobs/{ROLLOUT}/").json()
    assert job["data"]["taskCounts"]["total"] == 3000
    tasks = api(stack, f"/orgs/demo/jobs/{ROLLOUT}/tasks/?status=failed").json()
    assert tasks["totalSize"] == 41
    devices = api(stack, "/orgs/demo/firmware/fw-legacy-inverter-1.0.4/devices/").json()
    assert devices["totalSize"] == 100


def test_the_access_rule_over_http(stack: Stack) -> None:
    assert api(stack, "/orgs/", "outsider").json()["data"] == []
    problem(api(stack, "/orgs/demo/firmware/", "outsider"), 404)
    for refused in ("revoked", "expired"):
        problem(api(stack, "/orgs/", refused), 401)
    nobody = problem(api(stack, "/orgs/demo/firmware/", None), 401)
    assert "Bearer" in nobody["detail"]


def test_errors_are_problem_details_never_html(stack: Stack) -> None:
    body = problem(api(stack, "/orgs/demo/firmware/?page_size=0"), 400)
    assert body["errors"][0]["parameter"] == "page_size"
    problem(api(stack, "/orgs/demo/firmware/fw-none/"), 404)
    problem(api(stack, "/no/such/path"), 404)
    posted = requests.post(
        f"{stack.web_url}/api/v1/orgs/",
        headers={"Authorization": f"Bearer {stack.tokens['operator']}"},
        timeout=30,
    )
    problem(posted, 405)


def test_a_token_is_throttled_across_requests_with_429(stack: Stack) -> None:
    statuses = [api(stack, "/orgs/", "throttled").status_code for _ in range(THROTTLE + 1)]
    assert statuses[:THROTTLE] == [200] * THROTTLE
    refused = api(stack, "/orgs/", "throttled")
    problem(refused, 429)
    assert int(refused.headers["Retry-After"]) > 0
    assert api(stack, "/orgs/", "outsider").status_code == 200  # another token's own window


def test_the_schema_is_valid_openapi(stack: Stack) -> None:
    validate(api(stack, "/openapi.json", None).json())


def test_a_csv_of_ten_thousand_firmware_streams_in_constant_memory(stack: Stack) -> None:
    (worker,) = worker_pids(stack.master)
    # Warm up the worker (imports, connections, the first page's code paths) on a short CSV.
    warm = api(stack, "/orgs/demo/firmware/?format=csv&q=Turbine")
    assert warm.status_code == 200
    before = rss_kb(worker)
    lines = 0
    size = 0
    with api(stack, "/orgs/demo/firmware/?format=csv", stream=True) as response:
        assert response.status_code == 200
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
        assert "Content-Length" not in response.headers  # streamed, not built first
        peak = before
        for chunk in response.iter_content(chunk_size=256 * 1024):
            size += len(chunk)
            lines += chunk.count(b"\n")
            last_chunk = chunk
            peak = max(peak, rss_kb(worker))  # while the worker is still sending
    after = rss_kb(worker)
    tail = last_chunk.decode("utf-8", errors="replace").splitlines()[-1]
    total = api(stack, "/orgs/demo/firmware/?page_size=1").json()["totalSize"]
    assert total > EXTRA_FIRMWARE
    assert lines == total + 1  # the header and every firmware; no limit line
    assert not tail.startswith("# ")
    assert size > 20_000_000  # 2 kB descriptions: holding it all would show
    growth_mb = (max(peak, after) - before) / 1024
    print(f"CSV {size / 1e6:.1f} MB, {lines} lines; worker RSS {before} -> {peak} -> {after} kB")
    assert growth_mb < 25, f"worker RSS grew {growth_mb:.1f} MiB over a {size / 1e6:.0f} MB CSV"


def test_the_csv_parses_with_a_bom_and_a_column_per_language(stack: Stack) -> None:
    response = api(stack, "/orgs/demo/firmware/?format=csv&productKey=BulkPk01&verified=true")
    assert response.content.startswith("\ufeff".encode())
    header, *rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert "name.zh_CN" in header and "name.ja_JP" in header
    assert len(rows) == EXTRA_FIRMWARE // 2
    first = dict(zip(header, rows[0], strict=True))
    assert first["name.zh_CN"].startswith("批量控制器")
    assert first["isVerified"] == "true"
