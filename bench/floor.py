"""The benchmarks' floor: one raw signed Get Firmware call on a keep-alive http.client
connection, with an access token fetched once (docs/enos-api.md sections 2 and 3).

It signs with fwportal's own pure functions (firmware/enos/auth.py) and nothing else of its
client: no `requests`, token cache, bulkhead or deadline, so a page measured against it carries
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


class RawGetFirmware:
    """`call(firmware_id)` asks the gateway for one firmware of `org_id`: "ok", or what went
    wrong ("HTTP 502", "code 24404", ...)."""

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

    def call(self, firmware_id: str) -> str:
        query = [("action", "get"), ("orgId", self._org_id), ("firmwareId", firmware_id)]
        timestamp = now_millis()
        headers = {
            "apim-accesstoken": self._token,
            "apim-signature": request_signature(
                self._token, query, None, timestamp, self._secret_key
            ),
            "apim-timestamp": str(timestamp),
        }
        status, envelope = self._exchange(
            "GET", f"{FIRMWARE_PATH}?{urlencode(query)}", None, headers
        )
        if status != 200:
            return f"HTTP {status}"
        if envelope.get("code") != 0:
            return f"code {envelope.get('code')}"
        return "ok" if envelope["data"]["firmwareId"] == firmware_id else "another firmware"

    def close(self) -> None:
        self._connection.close()
