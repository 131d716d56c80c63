"""The EnOS client over real HTTP against the simulator: auth, tokens, errors, parsing."""

import logging
import threading
import time
from datetime import UTC, datetime

import pytest
from django.core.cache import cache

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID, Fault
from firmware.enos import transport
from firmware.enos.client import ClientSettings, EnosClient, OrgCredentials
from firmware.enos.errors import (
    BadResponse,
    CredentialsRejected,
    NotFound,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.enos.transport import Limits

TURBINE = "fw-turbine-ctrl-3.2.1"


def make_client(url, *, secret=DEMO_APP_SECRET, access_key=DEMO_APP_KEY, **limits):
    credentials = OrgCredentials(
        label="demo", gateway_url=url, org_id=DEMO_ORG_ID, access_key=access_key, secret_key=secret
    )
    options = {"connect_timeout": 1.0, "read_timeout": 2.0, "total_timeout": 4.0, **limits}
    return EnosClient(credentials, cache=cache, settings=ClientSettings(limits=Limits(**options)))


def test_signed_get_is_accepted_and_parsed(simulator):
    firmware = make_client(simulator.url).get_firmware(TURBINE)
    assert firmware.firmware_id == TURBINE
    assert firmware.version == "3.2.1"
    assert firmware.name.for_locale("zh_CN") == "风机控制器"
    assert firmware.file_size == 52428800
    assert firmware.sign_method == "sha256"
    assert firmware.product_key is None
    assert (firmware.enable_verification, firmware.is_verified) == (True, True)
    assert (firmware.max_allowed_for_verification, firmware.min_success_for_verified) == (10, 8)
    assert firmware.tags == {"site": "north", "channel": "stable"}
    assert firmware.created_at.tzinfo is not None
    assert len(firmware.request_id) == 36
    assert simulator.counters["signature_failures"] == 0


def test_signed_search_post_is_accepted(simulator):
    page = make_client(simulator.url).search_firmware(
        expression="isVerified = true", page=1, page_size=5
    )
    assert len(page.items) == 5
    assert page.total_size > 5
    assert all(item.is_verified for item in page.items)
    assert simulator.counters["signature_failures"] == 0


def test_wrong_secret_is_credentials_rejected_with_the_enos_code(simulator):
    with pytest.raises(CredentialsRejected) as excinfo:
        make_client(simulator.url, secret="wrong").get_firmware(TURBINE)
    assert excinfo.value.code == 1003


def test_unknown_access_key_is_credentials_rejected_1002(simulator):
    with pytest.raises(CredentialsRejected) as excinfo:
        make_client(simulator.url, access_key="nobody").get_firmware(TURBINE)
    assert excinfo.value.code == 1002


def test_one_token_serves_100_calls(simulator):
    client = make_client(simulator.url)
    for _ in range(100):
        client.get_firmware(TURBINE)
    assert simulator.counters["token_get"] == 1
    assert simulator.counters["get"] == 100
    assert simulator.counters["connections"] == 1  # keep-alive


def test_the_token_is_shared_by_clients_of_the_same_access_key(simulator):
    make_client(simulator.url).get_firmware(TURBINE)
    make_client(simulator.url).get_firmware(TURBINE)
    assert simulator.counters["token_get"] == 1


def test_token_is_refreshed_before_it_expires(simulator):
    simulator.token_lifetime = 2
    client = make_client(simulator.url)
    client.get_firmware(TURBINE)
    time.sleep(1.2)  # past half of a 2 s lifetime: renewal time, not yet expired
    client.get_firmware(TURBINE)
    assert simulator.counters["token_get"] == 1
    assert simulator.counters["token_refresh"] == 1
    assert simulator.counters["expired_token"] == 0


def test_a_new_token_is_fetched_after_expiry(simulator):
    simulator.token_lifetime = 1
    client = make_client(simulator.url)
    client.get_firmware(TURBINE)
    time.sleep(1.1)
    client.get_firmware(TURBINE)
    assert simulator.counters["token_get"] == 2
    assert simulator.counters["expired_token"] == 0


def test_1203_gets_a_new_token_and_retries_once(simulator):
    client = make_client(simulator.url)
    client.get_firmware(TURBINE)
    simulator.expire_tokens()
    assert client.get_firmware(TURBINE).firmware_id == TURBINE
    assert simulator.counters["expired_token"] == 1
    assert simulator.counters["token_get"] == 2
    assert simulator.counters["get"] == 2


def test_firmware_not_found_carries_code_and_request_id(simulator):
    with pytest.raises(NotFound) as excinfo:
        make_client(simulator.url).get_firmware("no-such-firmware")
    assert excinfo.value.code == 24404
    assert excinfo.value.request_id


def test_a_firmware_id_cannot_inject_query_parameters(simulator):
    simulator.add_firmware({"orgId": DEMO_ORG_ID, "firmwareId": "x&orgId=other", "version": "9"})
    firmware = make_client(simulator.url).get_firmware("x&orgId=other")
    assert (firmware.firmware_id, firmware.version) == ("x&orgId=other", "9")
    with pytest.raises(NotFound):
        make_client(simulator.url).get_firmware("x&firmwareId=" + TURBINE)
    assert simulator.counters["signature_failures"] == 0


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        (Fault("http500"), UpstreamError),
        (Fault("html"), BadResponse),
        (Fault("malformed_json"), BadResponse),
        (Fault("error_code", code=50000), UpstreamError),
        (Fault("data_null"), BadResponse),
        (Fault("wrong_shape"), BadResponse),
        (Fault("drop"), Unreachable),
        (Fault("slow", delay=3.0), UpstreamTimeout),
    ],
)
def test_every_fault_is_the_right_error_within_the_timeout(simulator, fault, error):
    client = make_client(simulator.url, read_timeout=0.5)
    client.check_credentials()
    simulator.fault = fault
    started = time.monotonic()
    with pytest.raises(error):
        client.get_firmware(TURBINE)
    assert time.monotonic() - started < 1.5


def test_error_code_keeps_enos_code_and_request_id(simulator):
    simulator.fault = Fault("error_code", code=50000)
    with pytest.raises(UpstreamError) as excinfo:
        make_client(simulator.url).get_firmware(TURBINE)
    assert excinfo.value.code == 50000
    assert excinfo.value.request_id


def test_nothing_listening_is_unreachable():
    with pytest.raises(Unreachable):
        make_client("http://127.0.0.1:9").get_firmware(TURBINE)


def test_an_oversized_answer_is_refused(simulator):
    with pytest.raises(BadResponse, match="larger than"):
        make_client(simulator.url, max_response_bytes=200).get_firmware(TURBINE)


def test_log_line_per_call_without_secrets(simulator, caplog):
    client = make_client(simulator.url)
    with caplog.at_level(logging.INFO, logger="firmware.enos.client"):
        firmware = client.get_firmware(TURBINE)
    lines = [record.getMessage() for record in caplog.records]
    assert len(lines) == 2  # token, then the call
    assert lines[0].startswith("enos token_get org=demo")
    assert lines[1].startswith(f"enos get org=demo firmware={TURBINE} http=200 code=0")
    assert f"request_id={firmware.request_id}" in lines[1]
    assert "duration_ms=" in lines[1]
    token = cache.get(client._tokens._cache_key).value
    for line in lines:
        assert DEMO_APP_SECRET not in line and token not in line


@pytest.mark.parametrize(
    ("firmware_id", "check"),
    [
        (
            "fw-legacy-inverter-1.0.4",
            lambda f: (
                f.product_key == "BXwU4kMk"
                and f.file_size == 1048576
                and f.sign_method == "md5"
                and f.description is None
                and f.tags == {}
                and f.max_allowed_for_verification is None
                and f.name.for_locale("ja_JP") == f.name.default
            ),
        ),
        ("fw-no-name", lambda f: not f.name and f.file_size is None),
        (
            "fw-null-fields",
            lambda f: (
                f.version is None
                and f.tags == {}
                and f.sign is None
                and f.enable_verification is None
                and not f.name
            ),
        ),
        ("fw-xss-tags", lambda f: "<script>alert(1)</script>" in f.tags.values()),
        (
            "fw-unicode-name",
            lambda f: (
                f.name.for_locale("en_US") is None and f.name.for_locale("zh_CN") == "边缘网关固件"
            ),
        ),
    ],
)
def test_every_fixture_shape_parses(simulator, firmware_id, check):
    firmware = make_client(simulator.url).get_firmware(firmware_id)
    assert check(firmware), firmware


def test_created_time_is_an_aware_utc_datetime(simulator):
    firmware = make_client(simulator.url).get_firmware(TURBINE)
    assert firmware.created_at.utcoffset().total_seconds() == 0
    assert firmware.created_at > datetime(2015, 1, 1, tzinfo=UTC)


def test_concurrent_calls_with_a_cold_cache_fetch_one_token(simulator):
    ids = ["fw-turbine-ctrl-3.2.1", "fw-unverified", "fw-no-name", "fw-xss-tags"] * 3
    barrier = threading.Barrier(len(ids))

    def call(firmware_id):
        client = make_client(simulator.url)  # a client per request, as the services make them
        barrier.wait()
        client.get_firmware(firmware_id)

    threads = [threading.Thread(target=call, args=(i,)) for i in ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)
    assert simulator.counters["token_get"] == 1
    assert simulator.counters["get"] == len(ids)


def test_the_environments_proxy_is_read_once_per_gateway_and_followed(monkeypatch, simulator):
    """HTTPS_PROXY/HTTP_PROXY are honoured (read when the gateway's session is made, not on
    every call): a proxy that does not answer makes the gateway unreachable; NO_PROXY exempts."""
    monkeypatch.setattr(transport, "_sessions", {})
    monkeypatch.setenv("HTTP_PROXY", "http://127.0.0.1:9")  # the discard port: nothing answers
    monkeypatch.delenv("NO_PROXY", raising=False)
    monkeypatch.delenv("no_proxy", raising=False)
    with pytest.raises(Unreachable):
        make_client(simulator.url).get_firmware("fw-turbine-ctrl-3.2.1")
    cache.clear()  # the failure is everyone's answer for a while
    monkeypatch.setattr(transport, "_sessions", {})
    monkeypatch.setenv("NO_PROXY", "127.0.0.1")
    assert make_client(simulator.url).get_firmware("fw-turbine-ctrl-3.2.1").version == "3.2.1"


def test_a_ca_bundle_is_used_for_https_gateways_only(monkeypatch):
    """REQUESTS_CA_BUNDLE verifies an HTTPS gateway; a plain-HTTP one has nothing to verify (and
    requests would look the bundle up on the file system at every call)."""
    monkeypatch.setattr(transport, "_sessions", {})
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", "/etc/ssl/certs/ca-certificates.crt")
    assert transport._session_for("https://gateway.example", 4).verify == (
        "/etc/ssl/certs/ca-certificates.crt"
    )
    assert transport._session_for("http://127.0.0.1:9", 4).verify is True
