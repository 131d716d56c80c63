"""EnosClient: the one way fwportal talks to an EnOS API gateway."""

import hashlib
import json
import logging
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from firmware.enos.auth import EnosAuth, TokenCache, TokenProvider
from firmware.enos.errors import (
    BadResponse,
    CredentialsRejected,
    EnosError,
    NotFound,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.enos.types import FirmwareInfo, Page

logger = logging.getLogger(__name__)

FIRMWARE_PATH = "/connect-service/v2.1/ota-firmwares"
FIRMWARE_NOT_FOUND = 24404
MAX_PAGE_SIZE = 200  # the most a search returns in one page
TOKEN_EXPIRED = 1203
# Token-service codes that mean the org's credentials (or our signature with them) are wrong.
CREDENTIALS_CODES = {1002, 1003, 1004, 1202, 1204}


@dataclass(frozen=True)
class OrgCredentials:
    """What the client needs of an org. `label` names the org in logs (its slug)."""

    label: str
    gateway_url: str
    org_id: str
    access_key: str
    secret_key: str = field(repr=False)


@dataclass(frozen=True)
class ClientSettings:
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    max_response_bytes: int = 5 * 1024 * 1024
    pool_size: int = 16
    token_renew_margin: float = 300


@dataclass(frozen=True)
class Call:
    """One request to the gateway: what is sent, and the operation name and subject (a firmware
    id) that its log line carries."""

    method: str
    path: str
    operation: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] | None = None
    subject: str | None = None

    def body_bytes(self) -> bytes | None:
        """The JSON body exactly as sent and signed."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


class _TokenExpired(Exception):
    """A business call was answered with 1203; the caller renews the token and retries once."""


_sessions: dict[tuple[str, int], requests.Session] = {}
_sessions_lock = threading.Lock()


def _session_for(gateway_url: str, pool_size: int) -> requests.Session:
    """One pooled keep-alive session per gateway, shared by every org on it."""
    key = (gateway_url, pool_size)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            # Only connection failures are retried: nothing was sent, so a retry is always safe.
            retry = Retry(
                total=2, connect=2, read=False, status=0, other=0, redirect=0, backoff_factor=0.1
            )
            adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
            session = requests.Session()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "fwportal"
            _sessions[key] = session
        return session


def _error_for(code: int | None, message: str, request_id: str | None) -> EnosError:
    if code == FIRMWARE_NOT_FOUND:
        return NotFound(message, code=code, request_id=request_id)
    if code in CREDENTIALS_CODES:
        return CredentialsRejected(message, code=code, request_id=request_id)
    return UpstreamError(message, code=code, request_id=request_id)


def _envelope_code(envelope: Any) -> int | None:
    """EnOS's result code, from `code` (business APIs) or `status` (token service)."""
    if not isinstance(envelope, dict):
        return None
    for name in ("code", "status"):
        value = envelope.get(name)
        if isinstance(value, str) and value.lstrip("-").isdigit():
            return int(value)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


class EnosClient:
    """Calls one org's EnOS APIs: token service, Get Firmware File, Search Firmware File."""

    def __init__(self, credentials: OrgCredentials, *, cache: TokenCache, settings: ClientSettings):
        self.credentials = credentials
        self._settings = settings
        self._base = credentials.gateway_url.rstrip("/")
        self._session = _session_for(self._base, settings.pool_size)
        token_key = hashlib.sha256(
            f"{self._base}\n{credentials.access_key}\n{credentials.secret_key}".encode()
        ).hexdigest()
        self._tokens = TokenProvider(
            cache=cache,
            cache_key=f"enos-token:{token_key}",
            fetch=self._fetch_token,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            renew_margin=settings.token_renew_margin,
        )

    def check_credentials(self) -> None:
        """Ask the token service for a token now; raises CredentialsRejected etc. on failure."""
        self._tokens.fetch_now()

    def get_firmware(self, firmware_id: str) -> FirmwareInfo:
        query = {"action": "get", "orgId": self.credentials.org_id, "firmwareId": firmware_id}
        envelope = self._call(Call("GET", FIRMWARE_PATH, "get", query, subject=firmware_id))
        return FirmwareInfo.from_api(envelope.get("data"), request_id=envelope.get("requestId"))

    def search_firmware(self, *, expression: str | None, page: int, page_size: int) -> Page:
        query = {"action": "search", "orgId": self.credentials.org_id}
        body: dict[str, Any] = {"pagination": {"pageNo": page, "pageSize": page_size}}
        if expression:
            body["expression"] = expression
        envelope = self._call(Call("POST", FIRMWARE_PATH, "search", query, body))
        request_id = envelope.get("requestId")
        data = envelope.get("data")
        pagination = envelope.get("pagination")
        if not isinstance(data, list) or not isinstance(pagination, dict):
            raise BadResponse("search answer has no data list or pagination", request_id=request_id)
        try:
            total = int(pagination.get("totalSize", len(data)))
        except (TypeError, ValueError) as exc:
            raise BadResponse("search pagination is not numeric", request_id=request_id) from exc
        return Page(
            items=[FirmwareInfo.from_api(item, request_id=request_id) for item in data],
            page_no=page,
            page_size=page_size,
            total_size=total,
            request_id=request_id,
        )

    def _call(self, call: Call) -> dict[str, Any]:
        """A signed business call; an expired token is renewed and the call made once more."""
        token = self._tokens.token()
        try:
            return self._business(call, token)
        except _TokenExpired:
            token = self._tokens.renew(rejected=token)
        try:
            return self._business(call, token)
        except _TokenExpired as exc:
            raise CredentialsRejected(
                "EnOS rejected a freshly issued access token", code=TOKEN_EXPIRED
            ) from exc

    def _business(self, call: Call, token: str) -> dict[str, Any]:
        envelope = self._exchange(call, EnosAuth(token, self.credentials.secret_key))
        code = envelope["code"]
        if code == TOKEN_EXPIRED:
            raise _TokenExpired
        if code != 0:
            raise _error_for(
                code, str(envelope.get("msg") or "EnOS error"), envelope.get("requestId")
            )
        return envelope

    def _fetch_token(self, path: str, body: dict[str, Any]) -> tuple[str, int]:
        operation = "token_refresh" if "accessToken" in body else "token_get"
        envelope = self._exchange(Call("POST", path, operation, body=body))
        code = envelope["code"]
        if code != 0:
            raise _error_for(code, str(envelope.get("msg") or "token service error"), None)
        data = envelope.get("data")
        token = data.get("accessToken") if isinstance(data, dict) else None
        if not isinstance(token, str) or not token:
            raise BadResponse("token service answer has no accessToken")
        try:
            lifetime = int(data.get("expire", 7200))
        except (TypeError, ValueError) as exc:
            raise BadResponse("token service answer has a non-numeric expire") from exc
        return token, lifetime

    def _exchange(self, call: Call, auth: EnosAuth | None = None) -> dict[str, Any]:
        """One HTTP round trip: the parsed JSON envelope, or an EnosError. Logs one line."""
        started = time.monotonic()
        status: int | None = None
        envelope: dict[str, Any] = {}
        outcome = "ok"
        try:
            status, content = self._send(call, auth)
            envelope = self._parse(status, content)
            return envelope
        except EnosError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            logger.info(
                "enos %s org=%s firmware=%s http=%s code=%s request_id=%s outcome=%s "
                "duration_ms=%d",
                call.operation,
                self.credentials.label,
                call.subject if call.subject is not None else "-",
                status if status is not None else "-",
                envelope.get("code", "-"),
                envelope.get("requestId") or "-",
                outcome,
                (time.monotonic() - started) * 1000,
            )

    def _send(self, call: Call, auth: EnosAuth | None) -> tuple[int, bytes]:
        """The HTTP status and the whole body (at most max_response_bytes) of one request."""
        timeout = (self._settings.connect_timeout, self._settings.read_timeout)
        data = call.body_bytes()
        try:
            response = self._session.request(
                call.method,
                self._base + call.path,
                params=call.query,
                data=data,
                headers={"Content-Type": "application/json;charset=UTF-8"} if data else {},
                auth=auth,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
        except requests.exceptions.ConnectTimeout as exc:
            raise Unreachable(f"no connection to the EnOS gateway within {timeout[0]} s") from exc
        except requests.exceptions.ReadTimeout as exc:
            raise UpstreamTimeout(f"EnOS did not answer within {timeout[1]} s") from exc
        except requests.exceptions.SSLError as exc:
            raise Unreachable("TLS handshake with the EnOS gateway failed") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable("the EnOS gateway could not be reached") from exc
        return response.status_code, self._read_capped(response)

    def _read_capped(self, response: requests.Response) -> bytes:
        cap = self._settings.max_response_bytes
        chunks: list[bytes] = []
        size = 0
        try:
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > cap:
                    raise BadResponse(f"EnOS answer is larger than {cap} bytes")
                chunks.append(chunk)
        except requests.exceptions.ConnectionError as exc:
            if exc.args and isinstance(exc.args[0], ReadTimeoutError):
                raise UpstreamTimeout("EnOS stopped sending its answer") from exc
            raise Unreachable("the EnOS gateway dropped the connection") from exc
        except requests.exceptions.RequestException as exc:
            raise Unreachable("the EnOS gateway dropped the connection") from exc
        finally:
            response.close()
        return b"".join(chunks)

    @staticmethod
    def _parse(status: int, content: bytes) -> dict[str, Any]:
        try:
            envelope = json.loads(content)
        except ValueError:
            envelope = None
        code = _envelope_code(envelope)
        if code is not None:
            return {**envelope, "code": code}
        if status >= 500:
            raise UpstreamError(f"EnOS answered HTTP {status}")
        if status in (401, 403):
            raise CredentialsRejected(f"EnOS refused the request (HTTP {status})")
        raise BadResponse(f"EnOS answered HTTP {status} with no EnOS JSON envelope")
