"""Request signing and token encryption against vectors computed by hand (contract section 3)."""

import pytest
import requests

from firmware.enos import auth
from firmware.enos.auth import EnosAuth, request_signature, token_encryption

TIMESTAMP = 1572574909697


@pytest.fixture
def frozen_clock(monkeypatch):
    monkeypatch.setattr(auth, "now_millis", lambda: TIMESTAMP)


def test_worked_example_of_the_contract():
    # signData = tokk1v1k2v2k3v3{"a":1}1572574909697sec
    query = [("k3", "v3"), ("k1", "v1"), ("k2", "v2")]
    assert (
        request_signature("tok", query, b'{"a":1}', TIMESTAMP, "sec")
        == "80138b58d5e2e7bf66667df45817b99816bc6f038ba572cd4c6f85eb69a995bf"
    )


def test_token_encryption_is_sha256_of_key_timestamp_secret():
    # demo-access-key1572574909697demo-secret-key
    assert (
        token_encryption("demo-access-key", TIMESTAMP, "demo-secret-key")
        == "55dc272564e6f3c733876ffd39a1a34a3039fa33b679ac853241b945f0950019"
    )


def test_get_request_signs_the_decoded_query_sorted_by_name(frozen_clock):
    # tokactiongetfirmwareIdfw-1orgIdo11572574909697sec
    request = requests.Request(
        "GET",
        "http://gw.example/connect-service/v2.1/ota-firmwares",
        params={"orgId": "o1", "firmwareId": "fw-1", "action": "get"},
    ).prepare()
    EnosAuth("tok", "sec")(request)
    assert request.headers["apim-accesstoken"] == "tok"
    assert request.headers["apim-timestamp"] == str(TIMESTAMP)
    assert (
        request.headers["apim-signature"]
        == "652d49e76ea66ffa7601cb94918084c768f67a8fbe392d5951d51b3471c7626e"
    )


def test_non_ascii_query_values_are_signed_decoded(frozen_clock):
    # tok + name + "OBrien风机 ü" + 1572574909697 + sec
    request = requests.Request(
        "GET", "http://gw.example/x", params={"name": "OBrien风机 ü"}
    ).prepare()
    assert "%E9%A3%8E" in request.url  # sent percent-encoded, signed decoded
    EnosAuth("tok", "sec")(request)
    assert (
        request.headers["apim-signature"]
        == "ade91fb15e3d28d59507cb776b283724c1df57d4952fede6304ab68f77f138a3"
    )


def test_json_body_is_signed_byte_for_byte_after_the_query(frozen_clock):
    # tokactionsearchorgIdo1{"pagination":{"pageNo":2,"pageSize":10}}1572574909697sec
    body = b'{"pagination":{"pageNo":2,"pageSize":10}}'
    request = requests.Request(
        "POST", "http://gw.example/x", params={"orgId": "o1", "action": "search"}, data=body
    ).prepare()
    EnosAuth("tok", "sec")(request)
    assert request.body == body
    assert (
        request.headers["apim-signature"]
        == "7640efedd1aee8cf6fb33f48d5495b8ae0c4478d0af7f04e7fdcecc6045773c0"
    )


def test_non_ascii_json_body(frozen_clock):
    # tok{"expression":"name like '风机'","pagination":{"pageNo":1,"pageSize":50}}1572574909697sec
    body = '{"expression":"name like \'风机\'","pagination":{"pageNo":1,"pageSize":50}}'.encode()
    request = requests.Request("POST", "http://gw.example/x", data=body).prepare()
    EnosAuth("tok", "sec")(request)
    assert (
        request.headers["apim-signature"]
        == "54b3a0b3a760ce6da1aef10b41625b2e8c4fdf04a51e6b10502b94d49e6f69f0"
    )
