"""Tests of the EnOS gateway simulator over real HTTP.

Token encryptions and request signatures are computed here by hand from the contract
(docs/enos-api.md), independently of any project code.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import itertools
import json
import re
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from enos_simulator import (
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_ORG_ID,
    DEMO_ORG_ID_2,
    Fault,
    Simulator,
    build_arg_parser,
    main,
)
from enos_simulator.cli import fault_from_options
from tests.demo_fixtures import DEMO_FIRMWARE as ORG1
from tests.demo_fixtures import FIXTURES, names_of

TOKEN_GET = "/apim-token-service/v2.0/token/get"
TOKEN_REFRESH = "/apim-token-service/v2.0/token/refresh"
FIRMWARE = "/connect-service/v2.1/ota-firmwares"
JOBS = "/connect-service/v2.1/ota-jobs"
TURBINE = "fw-turbine-ctrl-3.2.1"
LEGACY = "fw-legacy-inverter-1.0.4"
FILES = "/connect-service/v2.5/files"
CORRUPTED = "5e5777cf9b12e2a054e0dec7"
STALLING = "37b328fb987d41f12ceb6ad4"

ORG2 = [fw for fw in FIXTURES["firmware"] if fw["orgId"] == DEMO_ORG_ID_2]

# Strictly increasing milliseconds: two token requests never share an encryption by accident.
_clock = itertools.count(int(time.time() * 1000))


def now_ms() -> int:
    return next(_clock)


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def sign_data(token: str, params: list[tuple[str, str]], body: bytes, ts: str, secret: str) -> str:
    params_data = "".join(name + value for name, value in sorted(params, key=lambda p: p[0]))
    return token + params_data + body.decode("utf-8") + ts + secret


@dataclass
class Resp:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def send(
    sim: Simulator,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    conn: http.client.HTTPConnection | None = None,
) -> Resp:
    own = conn is None
    conn = conn or http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        resp = Resp(response.status, response.headers, response.read())
    finally:
        if own:
            conn.close()
    # Every answer must be framed by Content-Length (keep-alive clients depend on it).
    assert int(resp.headers["Content-Length"]) == len(resp.body)
    return resp


def token_body(
    app_key: str = DEMO_APP_KEY, secret: str = DEMO_APP_SECRET, **extra: Any
) -> dict[str, Any]:
    ts = now_ms()
    encryption = sha256_hex(app_key + str(ts) + secret)
    return {"appKey": app_key, "timestamp": ts, "encryption": encryption, **extra}


def post_token(sim: Simulator, payload: Any, path: str = TOKEN_GET) -> dict[str, Any]:
    raw = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    resp = send(sim, "POST", path, raw, {"Content-Type": "application/json"})
    assert resp.status == 200
    reply = resp.json()
    assert reply["business"] == "apim-token-service"
    return reply


def get_token(sim: Simulator, app_key: str = DEMO_APP_KEY, secret: str = DEMO_APP_SECRET) -> str:
    reply = post_token(sim, token_body(app_key, secret))
    assert reply["status"] == 0, reply
    return reply["data"]["accessToken"]


def call(
    sim: Simulator,
    token: str,
    method: str,
    params: list[tuple[str, str]],
    body: bytes = b"",
    *,
    secret: str = DEMO_APP_SECRET,
    signed_body: bytes | None = None,
    conn: http.client.HTTPConnection | None = None,
    resource: str = FIRMWARE,
) -> Resp:
    path, headers = signed(
        token, params, body if signed_body is None else signed_body, secret, resource
    )
    if method == "POST":
        headers["Content-Type"] = "application/json"
    return send(sim, method, path, body if method == "POST" else None, headers, conn)


def signed(
    token: str,
    params: list[tuple[str, str]],
    body: bytes = b"",
    secret: str = DEMO_APP_SECRET,
    resource: str = FIRMWARE,
) -> tuple[str, dict[str, str]]:
    """The path and auth headers of a business call."""
    ts = str(now_ms())
    signature = sha256_hex(sign_data(token, params, body, ts, secret))
    path = resource + "?" + urllib.parse.urlencode(params, quote_via=urllib.parse.quote)
    return path, {"apim-accesstoken": token, "apim-signature": signature, "apim-timestamp": ts}


def get_firmware(
    sim: Simulator, token: str, firmware_id: str, org_id: str = DEMO_ORG_ID, **kwargs: Any
) -> Resp:
    params = [("action", "get"), ("orgId", org_id), ("firmwareId", firmware_id)]
    return call(sim, token, "GET", params, **kwargs)


def download(
    sim: Simulator, token: str, firmware_id: str, org_id: str = DEMO_ORG_ID, **kwargs: Any
) -> Resp:
    params = [("action", "downloadFirmwareFile"), ("orgId", org_id), ("firmwareId", firmware_id)]
    return call(sim, token, "GET", params, resource=FILES, **kwargs)


def search(sim: Simulator, token: str, request: Any = None, org_id: str = DEMO_ORG_ID) -> Any:
    raw = b"" if request is None else json.dumps(request).encode()
    resp = call(sim, token, "POST", [("action", "search"), ("orgId", org_id)], raw)
    assert resp.status == 200
    return resp.json()


def search_ids(sim: Simulator, token: str, expression: str) -> set[str]:
    reply = search(sim, token, {"expression": expression, "pagination": {"pageSize": 200}})
    assert reply["code"] == 0, reply
    assert reply["pagination"]["totalSize"] == len(reply["data"])
    return {fw["firmwareId"] for fw in reply["data"]}


def ids_where(predicate: Callable[[dict[str, Any]], bool]) -> set[str]:
    return {fw["firmwareId"] for fw in ORG1 if predicate(fw)}


@pytest.fixture
def sim() -> Iterator[Simulator]:
    with Simulator(port=0) as simulator:
        yield simulator


@pytest.fixture
def token(sim: Simulator) -> str:
    return get_token(sim)


# ---- token service ------------------------------------------------------------------------


def test_token_get_returns_the_same_token_while_valid(sim: Simulator) -> None:
    first = post_token(sim, token_body())
    second = post_token(sim, token_body())
    assert first["status"] == 0 and first["msg"] == "SUCCESS"
    assert first["data"]["expire"] == 7200
    assert second["data"]["accessToken"] == first["data"]["accessToken"]
    assert isinstance(second["data"]["expire"], int) and 7198 <= second["data"]["expire"] <= 7200
    assert sim.counters["token_get"] == 2


def _without(name: str) -> Callable[[], dict[str, Any]]:
    return lambda: {k: v for k, v in token_body().items() if k != name}


@pytest.mark.parametrize(
    ("make_payload", "status"),
    [
        (_without("appKey"), 1202),
        (_without("timestamp"), 1202),
        (_without("encryption"), 1202),
        (lambda: {**token_body(), "appKey": ""}, 1202),
        (lambda: {**token_body(), "encryption": ""}, 1202),
        (lambda: {**token_body(), "timestamp": "1572574909697"}, 1004),
        (lambda: {**token_body(), "timestamp": 1.5}, 1004),
        (lambda: b"{not json", 1004),
        (lambda: token_body(app_key="no-such-key"), 1002),
        (lambda: token_body(secret="wrong-secret"), 1003),
    ],
    ids=[
        "no-appKey",
        "no-timestamp",
        "no-encryption",
        "empty-appKey",
        "empty-encryption",
        "string-timestamp",
        "float-timestamp",
        "bad-json",
        "unknown-appKey",
        "wrong-secret",
    ],
)
def test_token_get_errors(sim: Simulator, make_payload: Callable[[], Any], status: int) -> None:
    reply = post_token(sim, make_payload())
    assert reply["status"] == status
    assert reply["data"] is None
    assert isinstance(reply["msg"], str) and reply["msg"]


def test_repeated_encryption_is_1001(sim: Simulator) -> None:
    payload = token_body()
    assert post_token(sim, payload)["status"] == 0
    assert post_token(sim, payload)["status"] == 1001


def test_refresh_mints_a_new_token_and_get_then_returns_it(sim: Simulator) -> None:
    old = get_token(sim)
    reply = post_token(sim, token_body(accessToken=old), TOKEN_REFRESH)
    assert reply["status"] == 0 and reply["data"]["expire"] == 7200
    new = reply["data"]["accessToken"]
    assert new != old
    for usable in (old, new):
        assert get_firmware(sim, usable, TURBINE).json()["code"] == 0
    assert get_token(sim) == new
    assert sim.counters["token_refresh"] == 1


def test_refresh_errors(sim: Simulator) -> None:
    sim.add_app("other-key", "other-secret", [DEMO_ORG_ID])
    foreign = get_token(sim, "other-key", "other-secret")
    unknown = post_token(sim, token_body(accessToken="not-a-token"), TOKEN_REFRESH)
    not_mine = post_token(sim, token_body(accessToken=foreign), TOKEN_REFRESH)
    missing = post_token(sim, token_body(), TOKEN_REFRESH)
    assert (unknown["status"], not_mine["status"], missing["status"]) == (1204, 1204, 1202)


# ---- signing ---------------------------------------------------------------------------------


def test_sign_helper_matches_the_contract_worked_example() -> None:
    params = [("k3", "v3"), ("k1", "v1"), ("k2", "v2")]
    data = sign_data("tok", params, b'{"a":1}', "1572574909697", "sec")
    assert data == 'tokk1v1k2v2k3v3{"a":1}1572574909697sec'


def test_signed_get_returns_the_firmware(sim: Simulator, token: str) -> None:
    resp = get_firmware(sim, token, TURBINE)
    reply = resp.json()
    assert resp.status == 200 and resp.headers["Content-Type"].startswith("application/json")
    assert (reply["code"], reply["msg"]) == (0, "OK")
    assert uuid.UUID(reply["requestId"])
    assert reply["data"] == next(fw for fw in ORG1 if fw["firmwareId"] == TURBINE)
    assert sim.counters["business"] == 1 and sim.counters["get"] == 1


def test_signed_post_with_extra_unsorted_params_is_accepted(sim: Simulator, token: str) -> None:
    params = [("k3", "v3"), ("action", "search"), ("k1", "v1"), ("orgId", DEMO_ORG_ID)]
    body = json.dumps({"pagination": {"pageNo": 1, "pageSize": 5}}).encode()
    reply = call(sim, token, "POST", params, body).json()
    assert reply["code"] == 0 and len(reply["data"]) == 5
    assert sim.counters["search"] == 1


def test_signature_uses_decoded_values(sim: Simulator, token: str) -> None:
    odd_id = "fw/ü +&=x;é"
    sim.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": odd_id, "version": "1"})
    reply = get_firmware(sim, token, odd_id).json()
    assert reply["code"] == 0 and reply["data"]["firmwareId"] == odd_id


def test_wrong_signatures_are_1003(sim: Simulator, token: str) -> None:
    wrong_secret = get_firmware(sim, token, TURBINE, secret="not-the-secret")
    body = json.dumps({"expression": "isVerified = true"}).encode()
    params = [("action", "search"), ("orgId", DEMO_ORG_ID)]
    other_body = call(sim, token, "POST", params, body, signed_body=b'{"expression": ""}')
    for resp in (wrong_secret, other_body):
        assert resp.status == 401
        assert resp.json()["code"] == 1003 and resp.json()["msg"] == "signature not valid"
    assert sim.counters["signature_failures"] == 2 and sim.counters["business"] == 0


def test_signing_encoded_values_is_rejected(sim: Simulator, token: str) -> None:
    ts = str(now_ms())
    encoded = [("action", "get"), ("orgId", DEMO_ORG_ID), ("firmwareId", "a%20b")]
    signature = sha256_hex(sign_data(token, encoded, b"", ts, DEMO_APP_SECRET))
    path = f"{FIRMWARE}?action=get&orgId={DEMO_ORG_ID}&firmwareId=a%20b"
    headers = {"apim-accesstoken": token, "apim-signature": signature, "apim-timestamp": ts}
    assert send(sim, "GET", path, headers=headers).json()["code"] == 1003


@pytest.mark.parametrize("header", ["apim-accesstoken", "apim-signature", "apim-timestamp"])
def test_missing_auth_header_is_401_1202(sim: Simulator, token: str, header: str) -> None:
    headers = {"apim-accesstoken": token, "apim-signature": "x" * 64, "apim-timestamp": "1"}
    del headers[header]
    resp = send(
        sim, "GET", f"{FIRMWARE}?action=get&orgId={DEMO_ORG_ID}&firmwareId=x", None, headers
    )
    assert resp.status == 401 and resp.json()["code"] == 1202
    assert sim.counters["business"] == 0


def test_unknown_token_is_1203(sim: Simulator) -> None:
    resp = get_firmware(sim, "0" * 32, TURBINE)
    assert resp.status == 401
    assert resp.json()["code"] == 1203 and resp.json()["msg"] == "access token expired"
    assert sim.counters["expired_token"] == 1


def test_expire_tokens_forces_a_new_token(sim: Simulator, token: str) -> None:
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0
    sim.expire_tokens()
    expired = get_firmware(sim, token, TURBINE)
    assert expired.status == 401 and expired.json()["code"] == 1203
    fresh = get_token(sim)
    assert fresh != token
    assert get_firmware(sim, fresh, TURBINE).json()["code"] == 0
    assert sim.counters["expired_token"] == 1


def test_short_token_lifetime_expires(sim: Simulator) -> None:
    sim.token_lifetime = 1
    reply = post_token(sim, token_body())
    assert reply["data"]["expire"] == 1
    short = reply["data"]["accessToken"]
    assert get_firmware(sim, short, TURBINE).json()["code"] == 0
    time.sleep(1.05)
    assert get_firmware(sim, short, TURBINE).json()["code"] == 1203


# ---- get ------------------------------------------------------------------------------------


def test_unknown_firmware_is_24404(sim: Simulator, token: str) -> None:
    resp = get_firmware(sim, token, "fw-does-not-exist")
    reply = resp.json()
    assert resp.status == 200
    assert (reply["code"], reply["msg"], reply["data"]) == (24404, "Firmware not found", None)
    assert uuid.UUID(reply["requestId"])


def test_firmware_id_is_compared_literally(sim: Simulator, token: str) -> None:
    injected = f"{TURBINE}&orgId={DEMO_ORG_ID_2}"
    assert get_firmware(sim, token, injected).json()["code"] == 24404


def test_same_id_in_two_orgs(sim: Simulator, token: str) -> None:
    first = get_firmware(sim, token, TURBINE).json()["data"]
    second = get_firmware(sim, token, TURBINE, DEMO_ORG_ID_2).json()["data"]
    assert (first["orgId"], second["orgId"]) == (DEMO_ORG_ID, DEMO_ORG_ID_2)
    assert first["version"] == "3.2.1" and second["version"] != first["version"]


def test_fixture_edge_records(sim: Simulator, token: str) -> None:
    def fetch(firmware_id: str) -> dict[str, Any]:
        return get_firmware(sim, token, firmware_id).json()["data"]

    turbine, legacy = fetch(TURBINE), fetch("fw-legacy-inverter-1.0.4")
    assert "productKey" not in turbine and set(turbine["name"]["i18nValue"]) == {
        "en_US",
        "zh_CN",
        "ja_JP",
        "es_ES",
    }
    # Each sign is the digest of the file the simulator serves, of the firmware's size.
    turbine_file, legacy_file = download(sim, token, TURBINE), download(sim, token, LEGACY)
    assert turbine["sign"] == hashlib.sha256(turbine_file.body).hexdigest()
    assert turbine["fileSize"] == 52428800 == len(turbine_file.body)
    assert turbine["fileUrl"].startswith("enos-connect://")
    assert legacy["sign"] == hashlib.md5(legacy_file.body, usedforsecurity=False).hexdigest()
    assert len(legacy_file.body) == 1048576
    assert legacy["productKey"] == "BXwU4kMk" and legacy["fileSize"] == "1048576"
    assert legacy["desc"] is None and "firmwareTags" not in legacy
    assert "name" not in fetch("fw-no-name")
    xss = fetch("fw-xss-tags")
    assert "<script>alert(1)</script>" in xss["firmwareTags"].values()
    assert xss["futureField"] == {"x": 1}
    unverified = fetch("fw-unverified")
    assert unverified["enableVerification"] and not unverified["isVerified"]
    assert len(ORG1) >= 60 and 5 <= len(ORG2) <= 8


def test_foreign_org_is_403(sim: Simulator, token: str) -> None:
    resp = get_firmware(sim, token, TURBINE, org_id="o99999999999999")
    assert resp.status == 200 and resp.json()["code"] == 403


def test_app_added_at_run_time_sees_only_its_org(sim: Simulator) -> None:
    sim.add_app("org2-key", "org2-secret", [DEMO_ORG_ID_2])
    token = get_token(sim, "org2-key", "org2-secret")
    own = get_firmware(sim, token, TURBINE, DEMO_ORG_ID_2, secret="org2-secret")
    other = get_firmware(sim, token, TURBINE, DEMO_ORG_ID, secret="org2-secret")
    assert (own.json()["code"], other.json()["code"]) == (0, 403)


@pytest.mark.parametrize(
    "params",
    [
        [("action", "get"), ("firmwareId", TURBINE)],
        [("orgId", DEMO_ORG_ID), ("firmwareId", TURBINE)],
    ],
    ids=["no-orgId", "no-action"],
)
def test_missing_org_or_action_is_400(
    sim: Simulator, token: str, params: list[tuple[str, str]]
) -> None:
    resp = call(sim, token, "GET", params)
    assert resp.status == 400 and resp.json()["code"] == 400


def test_other_paths_are_404(sim: Simulator) -> None:
    resp = send(sim, "GET", "/connect-service/v2.1/products?action=get")
    assert resp.status == 404 and resp.json() == {"code": 404, "msg": "not found"}


# ---- search ---------------------------------------------------------------------------------


def test_search_without_expression_lists_the_org_newest_first(sim: Simulator, token: str) -> None:
    for request in (None, {}):
        reply = search(sim, token, request)
        assert reply["pagination"] == {"pageNo": 1, "pageSize": 10, "totalSize": len(ORG1)}
        assert len(reply["data"]) == 10
    everything = search(sim, token, {"pagination": {"pageSize": 200}})["data"]
    times = [fw["createTime"] for fw in everything]
    assert times == sorted(times, reverse=True)
    assert {fw["firmwareId"] for fw in everything} == ids_where(lambda fw: True)


@pytest.mark.parametrize(
    ("expression", "predicate"),
    [
        ("productKey = 'BXwU4kMk'", lambda fw: fw.get("productKey") == "BXwU4kMk"),
        (
            "productKey in ('BXwU4kMk', 'Qw3rTy12')",
            lambda fw: fw.get("productKey") in ("BXwU4kMk", "Qw3rTy12"),
        ),
        ("isVerified = true", lambda fw: fw.get("isVerified") is True),
        ("isVerified=false", lambda fw: fw.get("isVerified") is False),
        (
            "productKey = 'BXwU4kMk' and isVerified = true",
            lambda fw: fw.get("productKey") == "BXwU4kMk" and fw.get("isVerified") is True,
        ),
        (
            "productKey IN ('Qw3rTy12') AND isVerified = FALSE",
            lambda fw: fw.get("productKey") == "Qw3rTy12" and fw.get("isVerified") is False,
        ),
        ("name like 'CONTROLLER'", lambda fw: any("controller" in n.lower() for n in names_of(fw))),
        ("name like '控制器'", lambda fw: any("控制器" in n for n in names_of(fw))),
        (
            "name.default like 'Inverter'",
            lambda fw: any("inverter" in n.lower() for n in names_of(fw, True)),
        ),
    ],
)
def test_search_expressions(
    sim: Simulator, token: str, expression: str, predicate: Callable[[dict[str, Any]], bool]
) -> None:
    expected = ids_where(predicate)
    assert expected and expected != ids_where(lambda fw: True)
    assert search_ids(sim, token, expression) == expected


@pytest.mark.parametrize(
    ("expression", "expected"),
    [
        (r"""name.default like 'O\'Brien\'s "test" 100% firmware_v2'""", {"fw-quote-name"}),
        ("name like '100%'", {"fw-quote-name"}),
        ("name like 'e_v2'", {"fw-quote-name"}),
        ("name like 'pitch and yaw'", {"fw-pitch-and-yaw"}),
        ("name like 'pitch and yaw' and productKey = 'Qw3rTy12'", {"fw-pitch-and-yaw"}),
        ("name like '边缘网关固件'", {"fw-unicode-name"}),
        ("name.default like '边缘网关固件'", set()),
        ("name like '风机控制器'", {TURBINE}),
        ("name.default like '风机'", set()),
        ("name.default like 'turbine CONTROLLER'", {TURBINE}),
    ],
)
def test_search_name_patterns(
    sim: Simulator, token: str, expression: str, expected: set[str]
) -> None:
    assert search_ids(sim, token, expression) == expected


def test_backslash_escapes_a_backslash(sim: Simulator, token: str) -> None:
    sim.add_firmware(
        {"orgId": DEMO_ORG_ID, "firmwareId": "fw-bs", "name": {"defaultValue": r"back\slash"}}
    )
    assert search_ids(sim, token, r"name.default like 'back\\slash'") == {"fw-bs"}


def test_is_verified_never_matches_a_record_without_it(sim: Simulator, token: str) -> None:
    sim.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": "fw-unknown-state", "isVerified": None})
    assert "fw-unknown-state" not in search_ids(sim, token, "isVerified = false")
    assert "fw-unknown-state" not in search_ids(sim, token, "isVerified = true")


@pytest.mark.parametrize(
    "expression",
    [
        "productKey = ",
        "productKey == 'x'",
        "firmwareId = 'x'",
        "name like 'open",
        "name like 'x\\",
        "isVerified = 'true'",
        "productKey = 'a' or isVerified = true",
        "productKey in ('a'",
        "name like 'x' and",
        "productKey = 'a' isVerified = true",
        'productKey = "a"',
    ],
)
def test_invalid_expressions_are_400(sim: Simulator, token: str, expression: str) -> None:
    reply = search(sim, token, {"expression": expression})
    assert reply["code"] == 400 and reply["msg"].startswith("invalid expression: ")


def test_pages_cover_everything_once(sim: Simulator, token: str) -> None:
    everything = [
        fw["firmwareId"] for fw in search(sim, token, {"pagination": {"pageSize": 200}})["data"]
    ]
    seen: list[str] = []
    for page_no in itertools.count(1):
        reply = search(sim, token, {"pagination": {"pageNo": page_no, "pageSize": 7}})
        assert reply["pagination"] == {"pageNo": page_no, "pageSize": 7, "totalSize": len(ORG1)}
        if not reply["data"]:
            break
        seen += [fw["firmwareId"] for fw in reply["data"]]
    assert seen == everything
    assert page_no == -(-len(ORG1) // 7) + 1  # the first empty page is just past the last


def test_page_beyond_the_last_is_empty(sim: Simulator, token: str) -> None:
    reply = search(sim, token, {"pagination": {"pageNo": 99, "pageSize": 50}})
    assert reply["code"] == 0 and reply["data"] == []
    assert reply["pagination"]["totalSize"] == len(ORG1)


@pytest.mark.parametrize(
    ("request_body", "ok"),
    [
        ({"pagination": {"pageSize": 200}}, True),
        ({"pagination": {"pageSize": 1}}, True),
        ({"pagination": None}, True),
        ({"pagination": {"pageSize": 201}}, False),
        ({"pagination": {"pageSize": 0}}, False),
        ({"pagination": {"pageNo": 0}}, False),
        ({"pagination": {"pageNo": -1}}, False),
        ({"pagination": {"pageSize": "10"}}, False),
        ({"pagination": {"pageNo": 1.5}}, False),
        ({"pagination": {"pageSize": True}}, False),
        ({"pagination": "first"}, False),
        ({"expression": 5}, False),
        ([], False),
    ],
)
def test_pagination_limits(sim: Simulator, token: str, request_body: Any, ok: bool) -> None:
    reply = search(sim, token, request_body)
    assert reply["code"] == (0 if ok else 400)


def test_invalid_json_search_body_is_400(sim: Simulator, token: str) -> None:
    resp = call(sim, token, "POST", [("action", "search"), ("orgId", DEMO_ORG_ID)], b"{oops")
    assert resp.status == 200 and resp.json()["code"] == 400


# ---- faults and latency ---------------------------------------------------------------------


def test_fault_kinds_are_known() -> None:
    assert set(Fault.KINDS) == {
        "http500",
        "html",
        "malformed_json",
        "error_code",
        "slow",
        "drop",
        "data_null",
        "wrong_shape",
        "mixed",
        "drip",
        "drip_chunked",
        "slow_headers",
        "huge_body",
        "huge_description",
        "odd_value",
        "rate_limited",
        "redirect",
    }
    assert set(Fault.MIXED_KINDS) == {"http500", "error_code", "malformed_json", "slow", "drop"}
    with pytest.raises(ValueError, match="unknown fault kind"):
        Fault("teapot")


def test_http500_fault_rotates_gateway_errors(sim: Simulator, token: str) -> None:
    sim.fault = Fault("http500")
    responses = [get_firmware(sim, token, TURBINE) for _ in range(4)]
    assert [r.status for r in responses] == [502, 503, 500, 502]
    assert all(r.headers["Content-Type"].startswith("text/html") for r in responses)
    assert all(b"nginx" in r.body for r in responses)
    assert post_token(sim, token_body())["status"] == 0  # the token service is never faulted
    assert sim.counters["faults"] == 4


@pytest.mark.parametrize(
    ("kind", "content_type"), [("html", "text/html"), ("malformed_json", "application/json")]
)
def test_unparsable_200_faults(sim: Simulator, token: str, kind: str, content_type: str) -> None:
    sim.fault = Fault(kind)
    resp = get_firmware(sim, token, TURBINE)
    assert resp.status == 200 and resp.headers["Content-Type"].startswith(content_type)
    with pytest.raises(ValueError):
        resp.json()


@pytest.mark.parametrize(("code", "expected"), [(None, 500), (24500, 24500)])
def test_error_code_fault(sim: Simulator, token: str, code: int | None, expected: int) -> None:
    sim.fault = Fault("error_code", code=code)
    reply = get_firmware(sim, token, TURBINE).json()
    assert reply["code"] == expected and reply["msg"] == "internal error"
    assert uuid.UUID(reply["requestId"])


@pytest.mark.parametrize(("kind", "data"), [("data_null", None), ("wrong_shape", "not-an-object")])
def test_bad_data_faults(sim: Simulator, token: str, kind: str, data: Any) -> None:
    sim.fault = Fault(kind)
    reply = search(sim, token, {})
    assert reply["code"] == 0 and reply["data"] == data


def test_slow_fault_delays_a_normal_answer(sim: Simulator, token: str) -> None:
    sim.fault = Fault("slow", delay=0.3)
    started = time.monotonic()
    reply = get_firmware(sim, token, TURBINE).json()
    assert time.monotonic() - started >= 0.3
    assert reply["code"] == 0 and reply["data"]["firmwareId"] == TURBINE


def test_drop_fault_closes_the_connection(sim: Simulator, token: str) -> None:
    sim.fault = Fault("drop")
    with pytest.raises(ConnectionError):
        get_firmware(sim, token, TURBINE)
    assert sim.counters["faults"] == 1


def test_fault_rate_is_reproducible_with_a_seed(sim: Simulator, token: str) -> None:
    def pattern() -> list[bool]:
        sim.fault = Fault("error_code", rate=0.5, seed=7)
        return [get_firmware(sim, token, TURBINE).json()["code"] == 500 for _ in range(16)]

    first = pattern()
    assert pattern() == first
    assert 0 < sum(first) < len(first)
    assert sim.counters["faults"] == 2 * sum(first)


def test_latency_is_added_to_business_calls(sim: Simulator, token: str) -> None:
    sim.latency = 0.2
    started = time.monotonic()
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0
    assert time.monotonic() - started >= 0.2


def test_latency_jitter_adds_a_random_share_to_each_call(sim: Simulator, token: str) -> None:
    sim.latency, sim.latency_jitter = 0.02, 0.08
    durations = []
    for _ in range(8):
        started = time.monotonic()
        assert get_firmware(sim, token, TURBINE).json()["code"] == 0
        durations.append(time.monotonic() - started)
    assert min(durations) >= 0.02
    assert max(durations) < 0.02 + 0.08 + 0.25  # the jitter is bounded (plus scheduling slack)
    assert max(durations) - min(durations) > 0.005  # not one fixed delay


def _outcome(sim: Simulator, token: str, delay: float) -> str:
    """Which failure a struck Get Firmware call showed, judged from the outside."""
    started = time.monotonic()
    try:
        resp = get_firmware(sim, token, TURBINE)
    except ConnectionError:
        return "drop"
    elapsed = time.monotonic() - started
    if resp.status >= 500 and resp.headers["Content-Type"].startswith("text/html"):
        return "http500"
    try:
        reply = resp.json()
    except ValueError:
        return "malformed_json"
    if reply["code"] == 500:
        return "error_code"
    assert reply["code"] == 0 and elapsed >= delay, (reply, elapsed)
    return "slow"


def test_mixed_fault_picks_each_kind_reproducibly_from_its_seed(sim: Simulator, token: str) -> None:
    def outcomes(seed: int) -> list[str]:
        sim.reset_counters()
        sim.fault = Fault("mixed", delay=0.02, seed=seed)
        return [_outcome(sim, token, 0.02) for _ in range(30)]

    first = outcomes(11)
    counters = sim.counters
    assert set(first) == set(Fault.MIXED_KINDS)
    # Slow and malformed answers are real answers (cut in half or late); the others replace them.
    assert counters["faults"] == 30
    assert counters["get"] == first.count("slow") + first.count("malformed_json")
    assert outcomes(11) == first
    assert outcomes(12) != first


# ---- fault scope: business calls, the token service or both ---------------------------------


def test_token_scope_hits_the_token_service_only(sim: Simulator, token: str) -> None:
    sim.fault = Fault("http500", scope="token")
    got = send(sim, "POST", TOKEN_GET, json.dumps(token_body()).encode())
    refreshed = send(sim, "POST", TOKEN_REFRESH, json.dumps(token_body(accessToken=token)).encode())
    assert (got.status, refreshed.status) == (502, 503) and b"nginx" in got.body
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0
    counters = sim.counters
    assert (counters["token_get"], counters["token_refresh"], counters["faults"]) == (2, 1, 2)
    sim.fault = None
    assert get_token(sim) == token  # the refresh was not served: the old token is current


@pytest.mark.parametrize(
    ("kind", "status", "data"),
    [("error_code", 500, None), ("data_null", 0, None), ("wrong_shape", 0, "not-an-object")],
)
def test_token_scope_failures_look_like_the_token_service(
    sim: Simulator, kind: str, status: int, data: Any
) -> None:
    sim.fault = Fault(kind, scope="token")
    reply = post_token(sim, token_body())
    assert (reply["status"], reply["data"]) == (status, data)


def test_scope_all_hits_token_and_business_calls(sim: Simulator, token: str) -> None:
    sim.fault = Fault("error_code", code=24500, scope="all")
    assert post_token(sim, token_body())["status"] == 24500
    assert get_firmware(sim, token, TURBINE).json()["code"] == 24500
    assert sim.counters["faults"] == 2


# ---- hostile faults: slow, dishonest or malicious gateways ----------------------------------


def raw_get(sim: Simulator, token: str, firmware_id: str = TURBINE) -> socket.socket:
    """A socket that has sent a signed Get Firmware call and not read anything yet."""
    params = [("action", "get"), ("orgId", DEMO_ORG_ID), ("firmwareId", firmware_id)]
    path, headers = signed(token, params)
    lines = [f"GET {path} HTTP/1.1", "Host: 127.0.0.1", *(f"{k}: {v}" for k, v in headers.items())]
    sock = socket.create_connection(("127.0.0.1", sim.port), timeout=5)
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def read_head(sock: socket.socket) -> tuple[bytes, bytes]:
    """The status line and headers (each line ending in CRLF), and the body bytes read past them."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(4096)
        assert chunk, f"closed before the head ended: {data!r}"
        data += chunk
    head, _, rest = data.partition(b"\r\n\r\n")
    return head + b"\r\n", rest


def read_for(sock: socket.socket, seconds: float) -> tuple[bytes, bool]:
    """What arrives within ``seconds``, and whether the server closed the connection by then."""
    deadline = time.monotonic() + seconds
    data = b""
    while (remaining := deadline - time.monotonic()) > 0:
        sock.settimeout(remaining)
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            break
        if not chunk:
            return data, True
        data += chunk
    return data, False


def handler_threads() -> set[threading.Thread]:
    """The simulator's live request-handler threads (socketserver names them after the target)."""
    return {t for t in threading.enumerate() if t.name.endswith("(process_request_thread)")}


def all_end(threads: set[threading.Thread], seconds: float = 3.0) -> bool:
    deadline = time.monotonic() + seconds
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
    return not any(thread.is_alive() for thread in threads)


# How every successful business answer begins on the wire.
REAL_ANSWER_START = b'{"code": 0, "msg": "OK", "requestId": "'


@pytest.mark.parametrize(
    ("kind", "defaults"),
    [
        ("drip", {"delay": 1.0, "size": 1_000_000, "max_seconds": 120.0}),
        ("drip_chunked", {"delay": 1.0, "size": 1_000_000, "max_seconds": 120.0}),
        ("slow_headers", {"delay": 1.0, "size": None, "max_seconds": 120.0}),
        ("huge_body", {"size": 6 * 1024 * 1024}),
        ("huge_description", {"size": 5_000_000}),
        ("rate_limited", {"retry_after": "2"}),
        ("redirect", {"code": 302}),
        ("slow", {"delay": 0.0, "size": None}),
    ],
)
def test_hostile_kinds_defaults(kind: str, defaults: dict[str, Any]) -> None:
    spec = Fault(kind).to_dict()
    assert {name: spec[name] for name in defaults} == defaults
    assert spec["scope"] == "business" and Fault.from_dict(spec).to_dict() == spec


def test_drip_sends_the_head_then_a_byte_per_delay_until_the_client_leaves(
    sim: Simulator, token: str
) -> None:
    sim.fault = Fault("drip", delay=0.5, size=5000)
    before = handler_threads()
    with raw_get(sim, token) as sock:
        head, body = read_head(sock)
        dripping = handler_threads() - before
        more, closed = read_for(sock, 1.2)
    body += more
    assert head.startswith(b"HTTP/1.1 200 OK\r\n") and b"\r\nContent-Length: 5000\r\n" in head
    assert not closed and 1 <= len(body) <= 3 and REAL_ANSWER_START.startswith(body)
    assert len(dripping) == 1 and all_end(dripping)  # the handler noticed the client left
    assert control(sim, "GET", "counters").json()["faults"] == 1
    started = time.monotonic()
    sim.stop()
    assert time.monotonic() - started < 1


def test_drip_at_full_speed_is_the_real_answer_cut_to_size(sim: Simulator, token: str) -> None:
    sim.fault = Fault("drip", delay=0, size=20)
    resp = get_firmware(sim, token, TURBINE)
    assert resp.status == 200 and resp.body == REAL_ANSWER_START[:20]
    assert resp.headers["Connection"] == "close"


def test_drip_chunked_sends_one_byte_chunks(sim: Simulator, token: str) -> None:
    sim.fault = Fault("drip_chunked", delay=0.2)
    before = handler_threads()
    with raw_get(sim, token) as sock:
        head, body = read_head(sock)
        dripping = handler_threads() - before
        more, closed = read_for(sock, 0.7)
    chunks = re.fullmatch(rb"(?:1\r\n.\r\n)+", body + more, re.DOTALL)
    assert b"\r\nTransfer-Encoding: chunked\r\n" in head and b"Content-Length" not in head
    assert not closed and chunks is not None and 1 <= len(chunks[0]) // 6 <= 4
    assert REAL_ANSWER_START.startswith(bytes(chunks[0][3::6]))
    assert len(dripping) == 1 and all_end(dripping)


def test_drip_chunked_at_full_speed_is_the_real_answer_padded(sim: Simulator, token: str) -> None:
    normal = get_firmware(sim, token, TURBINE)
    sim.fault = Fault("drip_chunked", delay=0, size=len(normal.body) + 5)
    path, headers = signed(
        token, [("action", "get"), ("orgId", DEMO_ORG_ID), ("firmwareId", TURBINE)]
    )
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    assert response.getheader("Transfer-Encoding") == "chunked"
    assert len(body) == len(normal.body) + 5 and body.endswith(b"     ")
    assert {**json.loads(body), "requestId": None} == {**normal.json(), "requestId": None}


def test_slow_headers_sends_the_head_a_byte_per_delay(sim: Simulator, token: str) -> None:
    sim.fault = Fault("slow_headers", delay=0.2)
    before = handler_threads()
    with raw_get(sim, token) as sock:
        data, closed = read_for(sock, 0.5)
        slow = handler_threads() - before
    assert not closed and len(data) < 3 and b"HTTP/1.1 200".startswith(data)
    assert len(slow) == 1 and all_end(slow)
    sim.fault = Fault("slow_headers", delay=0)
    resp = get_firmware(sim, token, TURBINE)  # a well-formed head, once it is all there
    assert resp.json()["data"]["firmwareId"] == TURBINE and resp.headers["Connection"] == "close"


def test_paced_faults_hit_the_token_service_too(sim: Simulator) -> None:
    sim.fault = Fault("slow_headers", delay=0, scope="token")
    assert post_token(sim, token_body())["status"] == 0
    assert sim.counters["faults"] == 1


def test_a_paced_answer_ends_after_max_seconds(sim: Simulator, token: str) -> None:
    sim.fault = Fault("drip", delay=0.1, max_seconds=0.5)
    with raw_get(sim, token) as sock:
        started = time.monotonic()
        _, body = read_head(sock)
        more, closed = read_for(sock, 3)
    assert closed and time.monotonic() - started < 1.5
    assert 1 <= len(body + more) <= 6


def test_stop_cuts_a_paced_answer(sim: Simulator, token: str) -> None:
    sim.fault = Fault("drip", delay=0.2)
    before = handler_threads()
    with raw_get(sim, token) as sock:
        read_head(sock)
        dripping = handler_threads() - before
        started = time.monotonic()
        sim.stop()
        assert time.monotonic() - started < 1
        _, closed = read_for(sock, 2)
    assert closed and len(dripping) == 1 and all_end(dripping)


def test_huge_body_is_a_valid_answer_of_size_bytes(sim: Simulator, token: str) -> None:
    sim.fault = Fault("huge_body")
    resp = get_firmware(sim, token, TURBINE)
    reply = resp.json()
    assert resp.status == 200 and len(resp.body) == 6 * 1024 * 1024
    assert reply["code"] == 0 and reply["data"]["firmwareId"] == TURBINE
    assert reply["padding"].strip() == ""
    sim.fault = Fault("huge_body", size=10)  # an answer already longer is sent as it is
    assert "padding" not in get_firmware(sim, token, TURBINE).json()
    assert sim.counters["faults"] == 2 and sim.counters["get"] == 2


def test_huge_description_replaces_every_desc(sim: Simulator, token: str) -> None:
    request = {"pagination": {"pageSize": 50}}
    normal = search(sim, token, request)["data"]
    sim.fault = Fault("huge_description")
    reply = get_firmware(sim, token, TURBINE).json()
    assert reply["code"] == 0 and len(reply["data"]["desc"]) == 5_000_000
    sim.fault = Fault("huge_description", size=1000)
    found = search(sim, token, request)["data"]
    assert len(found) == 50 and {len(fw["desc"]) for fw in found} == {1000}
    assert [{**fw, "desc": None} for fw in found] == [{**fw, "desc": None} for fw in normal]


FIVE_THOUSAND_DIGITS = "9" * 5000


@pytest.mark.parametrize(
    ("endpoint", "field", "value", "count"),
    [
        ("get", "data.fileSize", "Infinity", 1),
        ("get", "code", "1e999", 1),
        ("get", "data.firmwareId", '"a/b"', 1),
        ("get", "data.name.defaultValue", '"x\\u0000y"', 1),
        ("get", "data.fileSize", FIVE_THOUSAND_DIGITS, 1),
        ("search", "pagination.totalSize", "1000000000000000000000000000000", 1),
        ("search", "data[].firmwareId", '"²"', 10),
        ("token", "data.expire", "1e999", 1),
        ("token", "status", "Infinity", 1),
    ],
)
def test_odd_value_puts_raw_text_at_the_path(
    sim: Simulator, token: str, endpoint: str, field: str, value: str, count: int
) -> None:
    scope = "token" if endpoint == "token" else "business"
    sim.fault = Fault("odd_value", field=field, value=value, scope=scope)
    if endpoint == "token":
        body = send(sim, "POST", TOKEN_GET, json.dumps(token_body()).encode()).body
    elif endpoint == "search":
        body = call(sim, token, "POST", [("action", "search"), ("orgId", DEMO_ORG_ID)]).body
    else:
        body = get_firmware(sim, token, TURBINE).body
    key = field.rsplit(".", 1)[-1].removeprefix("data[]")
    assert body.count(f'"{key}": {value}'.encode()) == count
    assert sim.counters["faults"] == 1


def test_odd_value_path_that_reaches_nothing_changes_nothing(sim: Simulator, token: str) -> None:
    sim.fault = Fault("odd_value", field="data.nothing.here", value="Infinity")
    reply = get_firmware(sim, token, TURBINE).json()
    assert reply["data"] == next(fw for fw in ORG1 if fw["firmwareId"] == TURBINE)


@pytest.mark.parametrize("field", ["", "data..x", ".code", "data.", "data[", "data[0].x", "a]b"])
def test_odd_value_rejects_a_bad_path(field: str) -> None:
    with pytest.raises(ValueError, match="dotted path"):
        Fault("odd_value", field=field, value="1")


@pytest.mark.parametrize("retry_after", [None, "Wed, 21 Oct 2015 07:28:00 GMT", "-1"])
def test_rate_limited_is_429_with_retry_after_and_unserved(
    sim: Simulator, token: str, retry_after: str | None
) -> None:
    sim.fault = Fault(
        "rate_limited", **({} if retry_after is None else {"retry_after": retry_after})
    )
    resp = get_firmware(sim, token, TURBINE)
    assert resp.status == 429 and resp.headers["Retry-After"] == (retry_after or "2")
    assert resp.json() == {"code": 429, "msg": "Too Many Requests"}
    assert (sim.counters["get"], sim.counters["faults"]) == (0, 1)


@pytest.mark.parametrize("code", [None, 301, 307])
def test_redirect_carries_the_real_answer(sim: Simulator, token: str, code: int | None) -> None:
    sim.fault = Fault("redirect", **({} if code is None else {"code": code}))
    params = [("action", "get"), ("orgId", DEMO_ORG_ID), ("firmwareId", TURBINE)]
    resp = call(sim, token, "GET", params)
    assert resp.status == (code or 302)
    assert resp.headers["Location"] == sim.url + signed(token, params)[0]
    assert resp.json()["code"] == 0 and resp.json()["data"]["firmwareId"] == TURBINE


def test_redirect_of_the_token_service_carries_the_token(sim: Simulator, token: str) -> None:
    sim.fault = Fault("redirect", scope="token")
    got = send(sim, "POST", TOKEN_GET, json.dumps(token_body()).encode())
    assert got.status == 302 and got.headers["Location"] == sim.url + TOKEN_GET
    assert got.json()["data"]["accessToken"] == token


def test_huge_description_is_for_business_answers_only() -> None:
    with pytest.raises(ValueError, match="scope must be business"):
        Fault("huge_description", scope="token")


# ---- control plane (for a simulator in another process) -------------------------------------


# Faults the control plane and the command line refuse, and what the error says.
BAD_FAULTS = [
    ({"kind": "drop", "scope": "nowhere"}, "unknown fault scope"),
    ({"kind": "drop", "scope": 1}, "scope must be a string"),
    ({"kind": "huge_body", "size": 0}, "size must be a positive integer"),
    ({"kind": "huge_body", "size": 1.5}, "size must be an integer"),
    ({"kind": "drip", "max_seconds": 0}, "max_seconds must be positive"),
    ({"kind": "drip", "max_seconds": "1"}, "max_seconds must be a finite number"),
    ({"kind": "drip", "delay": -1}, "delay must not be negative"),
    ({"kind": "odd_value", "value": "1"}, "odd_value needs field"),
    ({"kind": "odd_value", "field": "code"}, "odd_value needs field"),
    ({"kind": "odd_value", "field": "data..x", "value": "1"}, "dotted path"),
    ({"kind": "odd_value", "field": "code", "value": 1}, "value must be a string"),
    ({"kind": "odd_value", "field": "code", "value": "\ud800"}, "without lone surrogates"),
    ({"kind": "rate_limited", "retry_after": "1\r\nX-Evil: 1"}, "one line of Latin-1"),
    ({"kind": "rate_limited", "retry_after": 2}, "retry_after must be a string"),
    ({"kind": "redirect", "code": 200}, "3xx"),
    ({"kind": "huge_description", "scope": "token"}, "scope must be business"),
]

# The keys a fault's JSON form has besides kind, rate, delay, code and seed, at their defaults.
NEW_FAULT_DEFAULTS = {
    "scope": "business",
    "size": None,
    "max_seconds": 120.0,
    "field": None,
    "value": None,
    "retry_after": "2",
}


def control(sim: Simulator, method: str, path: str, payload: Any = None) -> Resp:
    body = None if payload is None else json.dumps(payload).encode()
    headers = {} if body is None else {"Content-Type": "application/json"}
    return send(sim, method, "/_simulator/" + path, body, headers)


def test_control_counters_and_reset_are_not_counted_as_calls(sim: Simulator, token: str) -> None:
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0
    counters = control(sim, "GET", "counters")
    assert counters.status == 200 and counters.headers["Content-Type"].startswith("application/")
    seen = counters.json()
    assert (seen["token_get"], seen["business"], seen["get"]) == (1, 1, 1)
    assert seen == {**sim.counters, "connections": seen["connections"]}
    assert sim.counters["connections"] == 3  # token, get, this control call: one connection each
    reset = control(sim, "POST", "reset")
    assert reset.status == 200 and set(reset.json().values()) == {0}
    after = control(sim, "GET", "counters").json()
    assert after == {**dict.fromkeys(seen, 0), "connections": 1}  # only the control connection


def test_control_config_applies_the_keys_given(sim: Simulator, token: str) -> None:
    fault = {"kind": "error_code", "rate": 1, "delay": 0, "code": 24500, "seed": 5}
    reply = control(sim, "POST", "config", {"latency": 0.01, "fault": fault})
    assert reply.status == 200
    assert reply.json() == {
        "latency": 0.01,
        "latency_jitter": 0.0,
        "token_lifetime": 7200,
        "fault": {**fault, "rate": 1.0, "delay": 0.0, **NEW_FAULT_DEFAULTS},
    }
    assert sim.latency == 0.01 and sim.fault is not None and sim.fault.kind == "error_code"
    assert get_firmware(sim, token, TURBINE).json()["code"] == 24500
    reply = control(sim, "POST", "config", {"latency_jitter": 0.02, "token_lifetime": 60})
    assert reply.json()["fault"]["kind"] == "error_code"  # keys not given stay as they were
    assert (sim.latency, sim.latency_jitter, sim.token_lifetime) == (0.01, 0.02, 60)
    assert control(sim, "POST", "config", {"fault": None}).json()["fault"] is None
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0
    assert post_token(sim, token_body())["data"]["accessToken"] == token  # still valid
    assert control(sim, "POST", "config", {}).json()["latency_jitter"] == 0.02


def test_control_mixed_fault_by_config(sim: Simulator, token: str) -> None:
    control(sim, "POST", "config", {"fault": {"kind": "mixed", "delay": 0.02, "seed": 11}})
    over_http = [_outcome(sim, token, 0.02) for _ in range(30)]
    sim.fault = Fault("mixed", delay=0.02, seed=11)
    assert [_outcome(sim, token, 0.02) for _ in range(30)] == over_http


@pytest.mark.parametrize(
    "payload",
    [
        [],
        {"latency": "fast"},
        {"latency": -1},
        {"latency_jitter": True},
        {"token_lifetime": 0},
        {"colour": "red"},
        {"fault": "drop"},
        {"fault": {"kind": "teapot"}},
        {"fault": {"rate": 0.5}},
        {"fault": {"kind": "drop", "rate": 2}},
        {"fault": {"kind": "slow", "delay": -0.1}},
        {"fault": {"kind": "error_code", "code": "500"}},
        {"fault": {"kind": "drop", "seed": 1.5}},
        {"fault": {"kind": "drop", "extra": 1}},
        {"latency": 0.5, "fault": {"kind": "teapot"}},
        *({"fault": fault} for fault, _ in BAD_FAULTS),
    ],
)
def test_control_config_rejects_bad_input_and_changes_nothing(sim: Simulator, payload: Any) -> None:
    reply = control(sim, "POST", "config", payload)
    assert reply.status == 400 and reply.json()["error"]
    assert (sim.latency, sim.latency_jitter, sim.token_lifetime, sim.fault) == (0, 0, 7200, None)


@pytest.mark.parametrize(("fault", "message"), BAD_FAULTS)
def test_control_config_says_what_is_wrong_with_a_fault(
    sim: Simulator, fault: dict[str, Any], message: str
) -> None:
    assert message in control(sim, "POST", "config", {"fault": fault}).json()["error"]


def test_control_config_takes_the_hostile_parameters(sim: Simulator, token: str) -> None:
    fault = {"kind": "odd_value", "scope": "all", "field": "data[].firmwareId", "value": '"²"'}
    reply = control(sim, "POST", "config", {"fault": fault}).json()["fault"]
    assert reply == {
        **{"kind": "odd_value", "rate": 1.0, "delay": 0.0, "code": None, "seed": None},
        **NEW_FAULT_DEFAULTS,
        **fault,
    }
    assert (
        call(sim, token, "POST", [("action", "search"), ("orgId", DEMO_ORG_ID)]).body.count(
            '"firmwareId": "²"'.encode()
        )
        == 10
    )
    drip = {"kind": "drip", "delay": 0.5, "size": 10, "max_seconds": 3, "rate": 0.5, "seed": 1}
    reply = control(sim, "POST", "config", {"fault": drip}).json()["fault"]
    assert (reply["delay"], reply["size"], reply["max_seconds"]) == (0.5, 10, 3.0)
    limit = {"kind": "rate_limited", "scope": "token", "retry_after": "60"}
    assert control(sim, "POST", "config", {"fault": limit}).json()["fault"]["retry_after"] == "60"
    assert send(sim, "POST", TOKEN_GET, json.dumps(token_body()).encode()).status == 429


def test_control_config_rejects_a_body_that_is_not_json(sim: Simulator) -> None:
    resp = send(sim, "POST", "/_simulator/config", b"{oops", {"Content-Type": "text/plain"})
    assert resp.status == 400 and resp.json()["error"]


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [("POST", "counters", 405), ("GET", "reset", 405), ("GET", "config", 405), ("GET", "x", 404)],
)
def test_control_wrong_method_or_path(sim: Simulator, method: str, path: str, status: int) -> None:
    assert control(sim, method, path).status == status
    assert sim.counters["business"] == 0


# ---- OTA jobs, tasks and device versions ------------------------------------------------------


def ota_search(
    sim: Simulator, token: str, action: str, request: Any = None, org_id: str = DEMO_ORG_ID
) -> Any:
    resource = FIRMWARE if action == "searchDeviceUpgrade" else JOBS
    raw = b"" if request is None else json.dumps(request).encode()
    params = [("action", action), ("orgId", org_id)]
    resp = call(sim, token, "POST", params, raw, resource=resource)
    assert resp.status == 200
    return resp.json()


def get_job(sim: Simulator, token: str, job_id: str, **kwargs: Any) -> Resp:
    params = [("action", "get"), ("orgId", DEMO_ORG_ID), ("jobId", job_id)]
    return call(sim, token, "GET", params, resource=JOBS, **kwargs)


def test_signed_get_job_returns_the_job(sim: Simulator, token: str) -> None:
    reply = get_job(sim, token, "job-bx-271-rollout").json()
    assert reply["code"] == 0 and reply["data"]["firmwareId"] == "2a384c6ba0cac464ebdff5c9"
    assert "tasks" not in reply["data"] and "statuses" not in reply["data"]
    assert (sim.counters["business"], sim.counters["get_job"]) == (1, 1)


def test_job_calls_check_the_signature(sim: Simulator, token: str) -> None:
    assert get_job(sim, token, "job-bx-271-rollout", secret="wrong").json()["code"] == 1003
    params = [("action", "searchTask"), ("orgId", DEMO_ORG_ID)]
    resp = call(sim, token, "POST", params, b"{}", signed_body=b"{ }", resource=JOBS)
    assert resp.json()["code"] == 1003
    assert sim.counters["signature_failures"] == 2 and sim.counters["business"] == 0


def test_unknown_job_is_24404(sim: Simulator, token: str) -> None:
    reply = get_job(sim, token, "job-nobody-made").json()
    assert (reply["code"], reply["msg"], reply["data"]) == (24404, "Job not found", None)


@pytest.mark.parametrize(
    ("action", "expression", "total"),
    [
        ("search", "firmwareId = '2a384c6ba0cac464ebdff5c9'", 2),
        ("search", "productKey in ('BXwU4kMk', 'Qw3rTy12') and type = 'verify'", 3),
        ("search", "firmwareVersion in ('2.7.1') and status = 'started'", 1),
        ("search", "name like '一斉'", 0),  # like looks at default, zh_CN and en_US only
        ("search", "firmwareName like '振动'", 2),
        ("searchTask", "jobId = 'job-bx-271-rollout'", 3000),
        ("searchTask", "jobId = 'job-bx-271-rollout' and status in ('failed', 'init')", 105),
        ("searchTask", "toVersion = '4.0.0-rc1' and fromVersion = '2.3.3'", 2),
        ("searchTask", "deviceKey in ('INV-BX-00000') and jobId = 'job-bx-271-verify'", 1),
        ("searchTask", "desc = 'Not enough free flash space' and status = 'succeeded'", 0),
        ("searchDeviceUpgrade", "productKey = 'BXwU4kMk' and firmwareVersion = '1.0.4'", 100),
        ("searchDeviceUpgrade", "productKey = 'Qw3rTy12' and isUpgrading = true", 1),
    ],
)
def test_ota_search_expressions(
    sim: Simulator, token: str, action: str, expression: str, total: int
) -> None:
    reply = ota_search(
        sim, token, action, {"expression": expression, "pagination": {"pageSize": 1}}
    )
    assert reply["code"] == 0, reply
    assert reply["pagination"] == {"pageNo": 1, "pageSize": 1, "totalSize": total}
    assert len(reply["data"]) == min(total, 1)


@pytest.mark.parametrize(
    ("action", "expression"),
    [
        ("search", "status in ('started')"),  # type and status take = only
        ("search", "isVerified = true"),
        ("searchTask", "progress = '100'"),
        ("searchTask", "jobId like 'job'"),
        ("searchDeviceUpgrade", "isUpgrading = 'yes'"),
        ("searchDeviceUpgrade", "deviceKey = 'INV-BX-00000'"),
    ],
)
def test_ota_searches_refuse_fields_and_operators_the_contract_does_not_list(
    sim: Simulator, token: str, action: str, expression: str
) -> None:
    assert ota_search(sim, token, action, {"expression": expression})["code"] == 400


def test_ota_searches_page_newest_first_with_the_default_page_size(
    sim: Simulator, token: str
) -> None:
    jobs = ota_search(sim, token, "search")
    times = [job["createTime"] for job in jobs["data"]]
    assert times == sorted(times, reverse=True) and jobs["pagination"]["pageSize"] == 10
    request = {"expression": "jobId = 'job-bx-271-rollout'", "pagination": {"pageSize": 200}}
    seen, updated = [], []
    for page_no in range(1, 16):
        request["pagination"]["pageNo"] = page_no
        page = ota_search(sim, token, "searchTask", request)["data"]
        seen += [task["taskId"] for task in page]
        updated += [task["updateTime"] for task in page]
    assert len(set(seen)) == 3000 and updated == sorted(updated, reverse=True)
    request["pagination"]["pageNo"] = 16
    assert ota_search(sim, token, "searchTask", request)["data"] == []


def test_generated_tasks_are_the_same_in_every_simulator(sim: Simulator, token: str) -> None:
    request = {"expression": "jobId = 'job-bx-271-rollout'", "pagination": {"pageSize": 200}}
    first = ota_search(sim, token, "searchTask", request)["data"]
    with Simulator(port=0) as other:
        again = ota_search(other, get_token(other), "searchTask", request)["data"]
    assert first == again
    failed = [task for task in first if task["status"] == "failed"]
    assert failed and all(task["progress"] < 0 and task["desc"] for task in failed)


def test_a_page_of_200_tasks_and_a_count_are_quick(sim: Simulator, token: str) -> None:
    page = {"expression": "jobId = 'job-bx-271-rollout'", "pagination": {"pageSize": 200}}
    count = {
        "expression": "jobId = 'job-bx-271-rollout' and status = 'failed'",
        "pagination": {"pageSize": 1},
    }
    timings = []
    for request in (page, count) * 5:
        started = time.perf_counter()
        ota_search(sim, token, "searchTask", request)
        timings.append(time.perf_counter() - started)
    assert sorted(timings)[len(timings) // 2] < 0.05


def test_ota_faults_use_the_business_scope(sim: Simulator, token: str) -> None:
    sim.fault = Fault("error_code", code=50000)
    assert get_job(sim, token, "job-bx-271-rollout").json()["code"] == 50000
    assert ota_search(sim, token, "searchDeviceUpgrade")["code"] == 50000
    assert (sim.counters["faults"], sim.counters["get_job"]) == (2, 0)
    sim.fault = Fault("huge_description", size=10)
    tasks = ota_search(sim, token, "searchTask", {"pagination": {"pageSize": 3}})["data"]
    assert [len(task["desc"]) for task in tasks] == [10, 10, 10]


def test_ota_calls_need_the_right_method(sim: Simulator, token: str) -> None:
    params = [("action", "searchTask"), ("orgId", DEMO_ORG_ID)]
    assert call(sim, token, "GET", params, resource=JOBS).json()["code"] == 400


def test_added_records_are_searched_at_once(sim: Simulator, token: str) -> None:
    request = {"expression": "jobId = 'job-new'", "pagination": {"pageSize": 1}}
    assert ota_search(sim, token, "searchTask", request)["pagination"]["totalSize"] == 0
    sim.add_job({"orgId": DEMO_ORG_ID, "jobId": "job-new", "createTime": 1})
    sim.add_tasks([{"orgId": DEMO_ORG_ID, "taskId": "t", "jobId": "job-new"}])
    assert ota_search(sim, token, "searchTask", request)["pagination"]["totalSize"] == 1
    assert get_job(sim, token, "job-new").json()["data"]["jobId"] == "job-new"
    with pytest.raises(ValueError, match="taskId"):
        sim.add_tasks([{"orgId": DEMO_ORG_ID}])


# ---- server lifecycle -----------------------------------------------------------------------


def test_url_and_port(sim: Simulator) -> None:
    assert sim.port > 0 and sim.url == f"http://127.0.0.1:{sim.port}"


def test_keep_alive_connection_is_counted_once(sim: Simulator) -> None:
    sim.reset_counters()
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=5)
    try:
        body = json.dumps(token_body()).encode()
        reply = json.loads(send(sim, "POST", TOKEN_GET, body, conn=conn).body)
        token = reply["data"]["accessToken"]
        for _ in range(4):
            assert get_firmware(sim, token, TURBINE, conn=conn).json()["code"] == 0
    finally:
        conn.close()
    snapshot = sim.counters
    assert snapshot["connections"] == 1 and snapshot["business"] == 4
    snapshot["business"] = 99
    assert sim.counters["business"] == 4
    sim.reset_counters()
    assert set(sim.counters.values()) == {0}


def test_stop_drops_keep_alive_connections_and_start_reuses_the_port(sim: Simulator) -> None:
    token = get_token(sim)
    port = sim.port
    stale = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    try:
        assert get_firmware(sim, token, TURBINE, conn=stale).json()["code"] == 0
        sim.stop()
        with pytest.raises(ConnectionRefusedError):
            send(sim, "GET", "/")
        assert sim.start() is sim and sim.port == port
        with pytest.raises(ConnectionError):
            get_firmware(sim, token, TURBINE, conn=stale)
    finally:
        stale.close()
    assert get_firmware(sim, token, TURBINE).json()["code"] == 0


def test_access_log_is_silent(sim: Simulator, capfd: pytest.CaptureFixture[str]) -> None:
    assert send(sim, "GET", "/nowhere").status == 404
    assert capfd.readouterr() == ("", "")


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_command_line_serves_until_signalled(signum: int) -> None:
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "enos_simulator", "--port", "0", "--latency-ms", "1"]
    proc = subprocess.Popen(
        command, cwd=root, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().strip()
        prefix = "EnOS simulator listening on http://127.0.0.1:"
        assert line.startswith(prefix) and int(line[len(prefix) :]) > 0
        request = urllib.request.Request(
            line.rsplit(" ", 1)[1] + TOKEN_GET,
            json.dumps(token_body()).encode(),
            {"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=5) as answer:
            assert json.load(answer)["status"] == 0
        with urllib.request.urlopen(line.rsplit(" ", 1)[1] + "/_simulator/counters") as answer:
            assert json.load(answer)["token_get"] == 1
        proc.send_signal(signum)
        assert proc.wait(timeout=5) == 0
        assert proc.stderr is not None and proc.stderr.read() == ""
    finally:
        proc.kill()
        proc.wait()


@contextlib.contextmanager
def simulator_process(*options: str) -> Iterator[tuple[str, dict]]:
    """`python -m enos_simulator` with these options: its URL and its configuration as the
    control plane tells it."""
    root = Path(__file__).resolve().parents[1]
    command = [sys.executable, "-m", "enos_simulator", "--port", "0", *options]
    proc = subprocess.Popen(command, cwd=root, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().strip().rsplit(" ", 1)[1]
        request = urllib.request.Request(url + "/_simulator/config", b"{}", method="POST")
        with urllib.request.urlopen(request, timeout=5) as answer:
            yield url, json.load(answer)
    finally:
        proc.terminate()
        proc.wait(timeout=5)


def test_command_line_takes_the_hostile_parameters() -> None:
    with simulator_process(
        *("--fault", "odd_value", "--fault-scope", "token"),
        *("--fault-field", "data.expire", "--fault-value", "1e999"),
        *("--fault-size", "7", "--fault-max-seconds", "5", "--fault-retry-after", "9"),
    ) as (url, config):
        token_request = urllib.request.Request(
            url + TOKEN_GET, json.dumps(token_body()).encode(), {"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(token_request, timeout=5) as answer:
            assert b'"expire": 1e999' in answer.read()
    assert config["fault"] == {
        **{"kind": "odd_value", "rate": 1.0, "delay": 0.0, "code": None, "seed": None},
        **{"scope": "token", "size": 7, "max_seconds": 5.0, "retry_after": "9"},
        **{"field": "data.expire", "value": "1e999"},
    }


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault", "drop", "--fault-scope", "nowhere"], "invalid choice: 'nowhere'"),
        (["--fault", "drop", "--fault-rate", "2"], "fault rate must be within [0, 1]"),
        (["--fault", "odd_value", "--fault-value", "1"], "odd_value needs field"),
        (["--fault", "odd_value", "--fault-field", "a..b", "--fault-value", "1"], "dotted path"),
        (["--fault", "redirect", "--fault-code", "200"], "3xx"),
        (["--fault", "huge_body", "--fault-size", "0"], "size must be a positive integer"),
        (["--fault", "drip", "--fault-max-seconds", "0"], "max_seconds must be positive"),
        (["--fault", "rate_limited", "--fault-retry-after", "1\n2"], "one line of Latin-1"),
    ],
)
def test_command_line_refuses_a_bad_fault_with_a_usage_error(
    args: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--port", "0", *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("usage: python -m enos_simulator") and message in err


@pytest.mark.parametrize(
    ("kind", "delay", "size", "code"),
    [("drip", 1.0, 1_000_000, None), ("slow", 0.0, None, None), ("redirect", 0.0, None, 302)],
)
def test_command_line_leaves_the_kind_defaults_alone(
    kind: str, delay: float, size: int | None, code: int | None
) -> None:
    fault = fault_from_options(vars(build_arg_parser().parse_args(["--fault", kind])))
    assert fault is not None and (fault.delay, fault.size, fault.code) == (delay, size, code)


def test_command_line_latency_jitter_and_mixed_fault_show_in_the_control_plane() -> None:
    with simulator_process(
        *("--latency-ms", "20", "--latency-jitter-ms", "30"),
        *("--fault", "mixed", "--fault-rate", "0.1", "--fault-seed", "3", "--fault-delay", "2"),
    ) as (_url, config):
        assert config == {
            "latency": 0.02,
            "latency_jitter": 0.03,
            "token_lifetime": 7200,
            "fault": {
                **{"kind": "mixed", "rate": 0.1, "delay": 2.0, "code": None, "seed": 3},
                **NEW_FAULT_DEFAULTS,
            },
        }


# ---- V2.5 Download Firmware File --------------------------------------------------------------


def test_download_serves_the_bytes_the_sign_names_and_counts_it(sim: Simulator, token: str) -> None:
    sim.reset_counters()
    info = get_firmware(sim, token, "fw-quote-name").json()["data"]
    resp = download(sim, token, "fw-quote-name")
    assert resp.status == 200 and resp.headers["Content-Type"] == "application/octet-stream"
    assert len(resp.body) == info["fileSize"]
    assert hashlib.md5(resp.body, usedforsecurity=False).hexdigest() == info["sign"]
    assert sim.counters["download"] == 1


def test_a_firmware_without_a_size_gets_a_file_of_one_mib(sim: Simulator, token: str) -> None:
    info = get_firmware(sim, token, "fw-no-name").json()["data"]
    resp = download(sim, token, "fw-no-name")
    assert len(resp.body) == 1024 * 1024
    assert hashlib.sha256(resp.body).hexdigest() == info["sign"]


def test_the_corrupted_firmware_does_not_match_its_sign(sim: Simulator, token: str) -> None:
    info = get_firmware(sim, token, CORRUPTED).json()["data"]
    resp = download(sim, token, CORRUPTED)
    assert len(resp.body) == info["fileSize"]
    assert hashlib.sha256(resp.body).hexdigest() != info["sign"]


def test_set_file_serves_exact_content_and_an_unknown_firmware_is_a_json_error(
    sim: Simulator, token: str
) -> None:
    sim.set_file(DEMO_ORG_ID, TURBINE, content=b"exact bytes")
    assert download(sim, token, TURBINE).body == b"exact bytes"
    missing = download(sim, token, "fw-nowhere")
    assert missing.status == 404 and missing.json()["code"] == 24404


def test_the_stalling_firmware_sends_its_first_mib_then_nothing(sim: Simulator, token: str) -> None:
    path, headers = signed(
        token,
        [("action", "downloadFirmwareFile"), ("orgId", DEMO_ORG_ID), ("firmwareId", STALLING)],
        resource=FILES,
    )
    conn = http.client.HTTPConnection("127.0.0.1", sim.port, timeout=1)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        assert int(response.headers["Content-Length"]) > 1024 * 1024
        assert len(response.read(1024 * 1024)) == 1024 * 1024
        with pytest.raises(TimeoutError):
            response.read(1)
    finally:
        conn.close()


def test_a_files_fault_hits_downloads_only(sim: Simulator, token: str) -> None:
    sim.fault = Fault("error_code", code=500, scope="files")
    assert download(sim, token, "fw-quote-name").json()["code"] == 500
    assert get_firmware(sim, token, "fw-quote-name").json()["code"] == 0
