"""The benchmarks' floors: raw signed EnOS calls on one keep-alive http.client connection, with
an access token fetched once (docs/enos-api.md sections 2 and 3).

* RawGetFirmware: Get Firmware File, what a firmware page asks first;
* RawSearchFirmware: Search Firmware File, page 1 of a page size, no expression, what the
  firmware list asks (the same path, query and body as firmware/enos/client.py's search).

They sign with fwportal's own pure functions (firmware/enos/auth.py) and nothing else of its
client: no `requests`, token cache, bulkhead or deadline, so a page measured against them carries
all of fwportal's cost (issue 18).
"""

from __future__ import annotations

import http.client
import json
from urllib.parse import urlencode, urlsplit

from firmware.enos.auth import (
    TOKEN_GET_PATH,
    now_millis,
    request_signature,
    token_encryption,
)
from firmware.enos.client import FIRMWARE_PATH

TIMEOUT_SECONDS = 30


class RawCalls:
    """Signed business calls of `org_id` to one gateway on one keep-alive connection."""

    def __init__(self, gateway_url: str, org_id: str, access_key: str, secret_key: str) -> None:
        parts = urlsplit(gateway_url)
        if parts.scheme != "http" or parts.hostname is None:
            raise ValueError(f"the floor speaks plain HTTP to a host: {gateway_url!r}")
        self._connection = http.client.HTTPConnection(
            parts.hostname, parts.port or 80, timeout=TIMEOUT_SECONDS
        )
        self._org_id = org_id
        self._secret_key = secret_key
        self._token = self._fetch_token(access_key)

    def _exchange(
        self, method: str, path: str, body: bytes | None, headers: dict[str, str]
    ) -> tuple[int, dict]:
        self._connection.request(method, path, body=body, headers=headers)
        response = self._connection.getresponse()
        return response.status, json.loads(response.read())

    def _fetch_token(self, access_key: str) -> str:
        timestamp = now_millis()
        body = {
            "appKey": access_key,
            "timestamp": timestamp,
            "encryption": token_encryption(access_key, timestamp, self._secret_key),
        }
        headers = {"Content-Type": "application/json"}
        status, envelope = self._exchange(
            "POST", TOKEN_GET_PATH, json.dumps(body).encode(), headers
        )
        if status != 200 or envelope.get("status") != 0:
            raise RuntimeError(f"the token service refused the floor: HTTP {status} {envelope}")
        return envelope["data"]["accessToken"]

    def _signed(
        self, method: str, path: str, action: str, extra: list[tuple[str, str]], body: bytes | None
    ) -> tuple[int, dict]:
        """One signed business call: its HTTP status and JSON envelope."""
        query = [("action", action), ("orgId", self._org_id), *extra]
        timestamp = now_millis()
        headers = {
            "apim-accesstoken": self._token,
            "apim-signature": request_signature(
                self._token, query, body, timestamp, self._secret_key
            ),
            "apim-timestamp": str(timestamp),
        }
        if body is not None:
            headers["Content-Type"] = "application/json;charset=UTF-8"
        return self._exchange(method, f"{path}?{urlencode(query)}", body, headers)

    def close(self) -> None:
        self._connection.close()


def _failure(status: int, envelope: dict) -> str | None:
    """What went wrong with a business call ("HTTP 502", "code 24404"), or None."""
    if status != 200:
        return f"HTTP {status}"
    if envelope.get("code") != 0:
        return f"code {envelope.get('code')}"
    return None


class RawGetFirmware(RawCalls):
    """`call(firmware_id)` asks the gateway for one firmware of `org_id`: "ok", or what went
    wrong ("HTTP 502", "code 24404", "another firmware")."""

    def call(self, firmware_id: str) -> str:
        status, envelope = self._signed(
            "GET", FIRMWARE_PATH, "get", [("firmwareId", firmware_id)], None
        )
        failure = _failure(status, envelope)
        if failure:
            return failure
        return "ok" if envelope["data"]["firmwareId"] == firmware_id else "another firmware"


class RawSearchFirmware(RawCalls):
    """`call()` searches all firmware of `org_id`, page 1 of `page_size`, as the firmware list
    without filters does: "ok" when a full page came (or all there is, when fewer), else what
    went wrong ("HTTP 502", "code 500", "12 of 50 items")."""

    def __init__(
        self, gateway_url: str, org_id: str, access_key: str, secret_key: str, *, page_size: int
    ) -> None:
        super().__init__(gateway_url, org_id, access_key, secret_key)
        self._page_size = page_size
        pagination = {"pagination": {"pageNo": 1, "pageSize": page_size}}
        # As firmware/enos/transport.py sends (and signs) a body: compact, UTF-8.
        self._body = json.dumps(pagination, separators=(",", ":"), ensure_ascii=False).encode()

    def call(self) -> str:
        status, envelope = self._signed("POST", FIRMWARE_PATH, "search", [], self._body)
        failure = _failure(status, envelope)
        if failure:
            return failure
        items = len(envelope["data"])
        expected = min(self._page_size, envelope["pagination"]["totalSize"])
        return "ok" if items == expected else f"{items} of {expected} items"
