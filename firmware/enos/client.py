"""EnosClient: the one way fwportal talks to an EnOS API gateway."""

import hashlib
import json
import logging
import threading
import time
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
        params = {"action": "get", "orgId": self.credentials.org_id, "firmwareId": firmware_id}
        envelope = self._call("GET", params, None, operation="get", firmware_id=firmware_id)
        return FirmwareInfo.from_api(envelope.get("data"), request_id=envelope.get("requestId"))

    def search_firmware(self, *, expression: str | None, page: int, page_size: int) -> Page:
        params = {"action": "search", "orgId": self.credentials.org_id}
        body: dict[str, Any] = {"pagination": {"pageNo": page, "pageSize": page_size}}
        if expression:
            body["expression"] = expression
        envelope = self._call("POST", params, body, operation="search", firmware_id=None)
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

    def _call(
        self,
        method: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        *,
        operation: str,
        firmware_id: str | None,
    ) -> dict[str, Any]:
        token = self._tokens.token()
        try:
            return self._business(method, params, body, token, operation, firmware_id)
        except _TokenExpired:
            token = self._tokens.renew(rejected=token)
        try:
            return self._business(method, params, body, token, operation, firmware_id)
        except _TokenExpired as exc:
            raise CredentialsRejected(
                "EnOS rejected a freshly issued access token", code=TOKEN_EXPIRED
            ) from exc

    def _business(
        self,
        method: str,
        params: dict[str, str],
        body: dict[str, Any] | None,
        token: str,
        operation: str,
        firmware_id: str | None,
    ) -> dict[str, Any]:
        auth = EnosAuth(token, self.credentials.secret_key)
        envelope = self._exchange(method, FIRMWARE_PATH, params, body, auth, operation, firmware_id)
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
        envelope = self._exchange("POST", path, None, body, None, operation, None)
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

    def _exchange(
        self,
        method: str,
        path: str,
        params: dict[str, str] | None,
        body: dict[str, Any] | None,
        auth: EnosAuth | None,
        operation: str,
        firmware_id: str | None,
    ) -> dict[str, Any]:
        """One HTTP round trip: the parsed JSON envelope, or an EnosError. Logs one line."""
        started = time.monotonic()
        status: int | None = None
        envelope: dict[str, Any] = {}
        outcome = "ok"
        try:
            data = (
                json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode()
                if body is not None
                else None
            )
            headers = {"Content-Type": "application/json;charset=UTF-8"} if data else {}
            response = self._send(method, self._base + path, params, data, headers, auth)
            status = response.status_code
            envelope = self._parse(response)
            return envelope
        except EnosError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            logger.info(
                "enos %s org=%s firmware=%s http=%s code=%s request_id=%s outcome=%s "
                "duration_ms=%d",
                operation,
                self.credentials.label,
                firmware_id if firmware_id is not None else "-",
                status if status is not None else "-",
                envelope.get("code", "-"),
                envelope.get("requestId") or "-",
                outcome,
                (time.monotonic() - started) * 1000,
            )

    def _send(
        self,
        method: str,
        url: str,
        params: dict[str, str] | None,
        data: bytes | None,
        headers: dict[str, str],
        auth: EnosAuth | None,
    ) -> requests.Response:
        timeout = (self._settings.connect_timeout, self._settings.read_timeout)
        try:
            response = self._session.request(
                method,
                url,
                params=params,
                data=data,
                headers=headers,
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
        response._content = self._read_capped(response)
        return response

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
    def _parse(response: requests.Response) -> dict[str, Any]:
        status = response.status_code
        try:
            envelope = json.loads(response.content)
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
