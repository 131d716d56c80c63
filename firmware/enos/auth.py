"""EnOS token service and request signing (docs/enos-api.md sections 2 and 3)."""

import hashlib
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlsplit

import requests

from firmware.enos.errors import EnosError
from firmware.enos.single_flight import run_once

TOKEN_GET_PATH = "/apim-token-service/v2.0/token/get"  # noqa: S105 - a URL path
TOKEN_REFRESH_PATH = "/apim-token-service/v2.0/token/refresh"  # noqa: S105 - a URL path
REFRESH_FAILED_CODES = {1203, 1204}
DUPLICATED_ENCRYPTION = 1001


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def now_millis() -> int:
    return time.time_ns() // 1_000_000


def token_encryption(access_key: str, timestamp: int, secret_key: str) -> str:
    """The `encryption` field of a token request."""
    return sha256_hex(f"{access_key}{timestamp}{secret_key}")


def request_signature(
    access_token: str,
    query: Iterable[tuple[str, str]],
    body: bytes | None,
    timestamp: int,
    secret_key: str,
) -> str:
    """`apim-signature`: SHA-256 of token + sorted name+value pairs + body + timestamp + secret."""
    params_data = "".join(name + value for name, value in sorted(query))
    if body:
        params_data += body.decode("utf-8")
    return sha256_hex(f"{access_token}{params_data}{timestamp}{secret_key}")


class TokenCache(Protocol):
    """The part of Django's cache API the token store needs."""

    def get(self, key: str, default: Any = None) -> Any: ...
    def get_many(self, keys: list[str]) -> dict[str, Any]: ...
    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...
    def add(self, key: str, value: Any, timeout: float | None = None) -> bool: ...
    def delete(self, key: str) -> Any: ...


@dataclass(frozen=True)
class CachedToken:
    value: str
    renew_at: float  # epoch seconds
    expires_at: float

    def usable(self) -> bool:
        return time.time() < self.renew_at

    def alive(self) -> bool:
        return time.time() < self.expires_at


class TokenProvider:
    """One access token per (gateway, access key), shared through the cache and renewed early.

    `fetch` asks the token service: fetch(path, body) -> token, lifetime seconds. It is given
    the refresh path with the current token when one is about to expire.
    """

    def __init__(
        self,
        *,
        cache: TokenCache,
        cache_key: str,
        fetch: Callable[[str, dict[str, Any]], tuple[str, int]],
        access_key: str,
        secret_key: str,
        renew_margin: float,
        wait_seconds: float,
        failure_seconds: float,
    ):
        self._cache = cache
        self._cache_key = cache_key
        self._fetch = fetch
        self._access_key = access_key
        self._secret_key = secret_key
        self._renew_margin = renew_margin
        self._wait_seconds = wait_seconds
        self._failure_seconds = failure_seconds

    def token(self) -> str:
        def usable(cached: CachedToken | None) -> str | None:
            return cached.value if cached and cached.usable() else None

        def obtain() -> str:
            cached = self._cache.get(self._cache_key)
            return self._obtain(refresh_from=cached if cached and cached.alive() else None).value

        return usable(self._cache.get(self._cache_key)) or self._once(usable, obtain)

    def renew(self, rejected: str) -> str:
        """A new token after EnOS rejected `rejected` as expired (code 1203)."""

        def renewed(cached: CachedToken | None) -> str | None:
            # Another thread or process may have renewed it already.
            return cached.value if cached and cached.value != rejected and cached.alive() else None

        return self._once(renewed, lambda: self._obtain(refresh_from=None).value)

    def fetch_now(self) -> str:
        """A token straight from the token service, whatever is cached (a connection test)."""
        return self._obtain(refresh_from=None).value

    def _once(
        self, ready: Callable[[CachedToken | None], str | None], obtain: Callable[[], str]
    ) -> str:
        return run_once(
            self._cache,
            self._cache_key,
            ready_key=self._cache_key,
            ready=ready,
            produce=obtain,
            wait_seconds=self._wait_seconds,
            failure_seconds=self._failure_seconds,
        )

    def _obtain(self, refresh_from: CachedToken | None, attempt: int = 1) -> CachedToken:
        timestamp = now_millis()
        body: dict[str, Any] = {
            "appKey": self._access_key,
            "timestamp": timestamp,
            "encryption": token_encryption(self._access_key, timestamp, self._secret_key),
        }
        if refresh_from is not None:
            body["accessToken"] = refresh_from.value
            path = TOKEN_REFRESH_PATH
        else:
            path = TOKEN_GET_PATH
        try:
            value, lifetime = self._fetch(path, body)
        except EnosError as exc:
            if exc.code == DUPLICATED_ENCRYPTION and attempt == 1:
                time.sleep(0.002)  # two requests in one millisecond: a new timestamp fixes it
                return self._obtain(refresh_from, attempt=2)
            if refresh_from is None or exc.code not in REFRESH_FAILED_CODES:
                raise
            return self._obtain(refresh_from=None)  # refresh refused: get a fresh token instead
        now = time.time()
        # Renew `renew_margin` early, but never sooner than half way through a short lifetime.
        token = CachedToken(
            value=value,
            renew_at=now + max(lifetime - self._renew_margin, lifetime / 2),
            expires_at=now + lifetime,
        )
        self._cache.set(self._cache_key, token, timeout=max(lifetime, 1))
        return token


class EnosAuth(requests.auth.AuthBase):
    """Adds apim-accesstoken, apim-signature and apim-timestamp to a prepared request."""

    def __init__(self, access_token: str, secret_key: str):
        self.access_token = access_token
        self._secret_key = secret_key

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        timestamp = now_millis()
        query = parse_qsl(urlsplit(request.url).query, keep_blank_values=True)
        body = request.body.encode("utf-8") if isinstance(request.body, str) else request.body
        request.headers["apim-accesstoken"] = self.access_token
        request.headers["apim-signature"] = request_signature(
            self.access_token, query, body, timestamp, self._secret_key
        )
        request.headers["apim-timestamp"] = str(timestamp)
        return request
