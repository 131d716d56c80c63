"""HTTP to an EnOS gateway: one pooled session per gateway, a total deadline on every exchange,
a cap on what is read, and the EnOS JSON envelope checked before anything else looks at it.
A download streams a file's bytes instead, under a deadline that follows its progress."""

import email.utils
import itertools
import json
import math
import os
import re
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3 import HTTPConnectionPool, HTTPSConnectionPool
from urllib3.exceptions import ReadTimeoutError
from urllib3.util.retry import Retry

from firmware.enos.deadline import (
    Watch,
    WatchedHTTPConnection,
    WatchedHTTPSConnection,
    deadline,
    remaining,
)
from firmware.enos.errors import (
    BadResponse,
    CredentialsRejected,
    RateLimited,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.enos.types import clean_text

READ_CHUNK = 64 * 1024
# EnOS codes are small integers; anything longer is not one (and int() of 5,000 digits fails).
CODE_PATTERN = re.compile(r"-?[0-9]{1,9}")
# When a 429 names no time (or an absurd one): wait at least / at most this long.
RETRY_AFTER_DEFAULT = 5.0
RETRY_AFTER_MAX = 600.0
REQUEST_ID_CAP = 128
MAX_INT_DIGITS = 40
MESSAGE_CAP = 500


@dataclass(frozen=True)
class Limits:
    connect_timeout: float = 3.05
    read_timeout: float = 10.0
    total_timeout: float = 15.0  # connect + headers + body, however the bytes arrive
    max_response_bytes: int = 5 * 1024 * 1024
    pool_size: int = 16


@dataclass(frozen=True)
class Progress:
    """How a download shows it is alive: at least `min_bytes` in every `seconds` (a stalled or
    dripping gateway is abandoned; a slow but moving one may take as long as it needs)."""

    seconds: float = 30.0
    min_bytes: int = 64 * 1024


@dataclass(frozen=True)
class Call:
    """One request to the gateway: what is sent, and the operation name and subject (a firmware
    or job id, as `subject_kind` says) that its log line carries."""

    method: str
    path: str
    operation: str
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, Any] | None = field(default=None, repr=False)  # may hold a token
    subject: str | None = None
    subject_kind: str = "firmware"

    def body_bytes(self) -> bytes | None:
        """The JSON body exactly as sent and signed."""
        if self.body is None:
            return None
        return json.dumps(self.body, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class Answer:
    status: int
    envelope: dict[str, Any]  # with "code" as an int


class _HTTPPool(HTTPConnectionPool):
    ConnectionCls = WatchedHTTPConnection


class _HTTPSPool(HTTPSConnectionPool):
    ConnectionCls = WatchedHTTPSConnection


class _WatchedAdapter(HTTPAdapter):
    """Pools whose connections the deadline watchdog can cut, proxied or not."""

    def init_poolmanager(self, *args, **kwargs) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}

    def proxy_manager_for(self, *args, **kwargs):
        manager = super().proxy_manager_for(*args, **kwargs)
        manager.pool_classes_by_scheme = {"http": _HTTPPool, "https": _HTTPSPool}
        return manager


_sessions: dict[tuple[str, int], requests.Session] = {}
_sessions_lock = threading.Lock()


def _session_for(base_url: str, pool_size: int) -> requests.Session:
    """One pooled keep-alive session per gateway, shared by every org on it."""
    key = (base_url, pool_size)
    with _sessions_lock:
        session = _sessions.get(key)
        if session is None:
            # Only connection failures are retried: nothing was sent, so a retry is always safe.
            # A 429 is the client's to honour (urllib3 would otherwise retry it on its own).
            retry = Retry(
                total=2,
                connect=2,
                read=False,
                status=0,
                other=0,
                redirect=0,
                backoff_factor=0.1,
                respect_retry_after_header=False,
            )
            adapter = _WatchedAdapter(pool_connections=1, pool_maxsize=pool_size, max_retries=retry)
            session = requests.Session()
            session.mount("http://", adapter)
            session.mount("https://", adapter)
            session.headers["User-Agent"] = "fwportal"
            # The environment's proxy (HTTPS_PROXY, NO_PROXY) and CA bundle settings, read once
            # for this gateway: requests would walk os.environ again on every call.
            session.trust_env = False
            session.proxies = requests.utils.get_environ_proxies(base_url)
            # A plain-HTTP gateway (the simulator, a test) needs no CA bundle: with one named,
            # requests would look at the file system on every call.
            session.verify = base_url.startswith("http://") or (
                os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get("CURL_CA_BUNDLE") or True
            )
            _sessions[key] = session
        return session


def exchange(
    base_url: str, call: Call, auth: requests.auth.AuthBase | None, limits: Limits
) -> Answer:
    """One HTTP round trip within `limits.total_timeout`: the checked envelope, or an EnosError."""
    session = _session_for(base_url, limits.pool_size)
    data = call.body_bytes()
    total = remaining(limits.total_timeout)
    if total <= 0:
        raise UpstreamTimeout("no time was left to ask EnOS")
    # Connection retries must fit in the total deadline too.
    timeout = (min(limits.connect_timeout, total / 3), min(limits.read_timeout, total))
    with deadline(total) as watch:
        try:
            response = session.request(
                call.method,
                base_url + call.path,
                params=call.query,
                data=data,
                headers={"Content-Type": "application/json;charset=UTF-8"} if data else {},
                auth=auth,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
            content = _read_capped(response, limits.max_response_bytes)
        except (requests.exceptions.RequestException, OSError) as exc:
            raise _failure(exc, watch, timeout, _late(total)) from exc
        if watch.expired:
            raise _late(total)
    return _checked(response.status_code, response.headers, content)


def _failure(
    exc: Exception, watch: Watch, timeout: tuple[float, float], late: UpstreamTimeout
) -> Exception:
    """The EnosError for what went wrong in an exchange; `late` when the watchdog cut it."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return Unreachable(f"no connection to the EnOS gateway within {timeout[0]} s")
    if isinstance(exc, requests.exceptions.SSLError):
        return Unreachable("TLS handshake with the EnOS gateway failed")
    if watch.expired:
        return late
    if isinstance(exc, requests.exceptions.Timeout) or (
        exc.args and isinstance(exc.args[0], ReadTimeoutError)
    ):
        return UpstreamTimeout(f"EnOS sent nothing for {timeout[1]} s")
    return Unreachable("the EnOS gateway could not be reached")


class _WriteFailed(Exception):
    """Writing a downloaded chunk failed (our disk, not EnOS): raised as its cause."""


def download(
    base_url: str,
    call: Call,
    auth: requests.auth.AuthBase | None,
    limits: Limits,
    *,
    write: Callable[[bytes], None],
    progress: Progress,
) -> Answer:
    """A file, streamed chunk by chunk to `write`: its answer's code is 0 when every byte was
    written, else the checked error envelope (a JSON body is an error whatever the status).
    The head must come within the total deadline; the bytes then within `progress`."""
    session = _session_for(base_url, limits.pool_size)
    total = remaining(limits.total_timeout)
    if total <= 0:
        raise UpstreamTimeout("no time was left to ask EnOS")
    timeout = (min(limits.connect_timeout, total / 3), min(limits.read_timeout, progress.seconds))
    stalled = UpstreamTimeout(
        f"EnOS sent less than {progress.min_bytes} bytes of the file in {progress.seconds:g} s"
    )
    late = _late(total)  # until the head has come; then `stalled`
    with deadline(total) as watch:
        try:
            response = session.request(
                call.method,
                base_url + call.path,
                params=call.query,
                auth=auth,
                timeout=timeout,
                stream=True,
                allow_redirects=False,
            )
            try:
                if _is_envelope(response):
                    content = _read_capped(response, limits.max_response_bytes)
                    return _error_answer(response, content)
                late = stalled
                chunks = _progressing(response, watch, progress)
                head = _opening(chunks)
                if len(head) == 1 and _envelope_code(_json_or_none(head[0])) is not None:
                    return _error_answer(response, head[0])  # an envelope sent as if a file
                for chunk in itertools.chain(head, chunks):
                    try:
                        write(chunk)
                    except Exception as exc:
                        raise _WriteFailed from exc
            finally:
                response.close()
        except _WriteFailed as exc:
            raise exc.__cause__ from None
        except (requests.exceptions.RequestException, OSError) as exc:
            raise _failure(exc, watch, timeout, late) from exc
        if watch.expired:
            raise stalled
    return Answer(response.status_code, {"code": 0, "requestId": None, "msg": None})


def _is_envelope(response: requests.Response) -> bool:
    """What the contract calls an error: any status but 200, or a body that says it is JSON."""
    content_type = response.headers.get("Content-Type", "").lower()
    return response.status_code != 200 or "json" in content_type


def _error_answer(response: requests.Response, content: bytes) -> Answer:
    """The checked envelope of a download that sent no file; one of code 0 is no answer."""
    answer = _checked(response.status_code, response.headers, content)
    if answer.envelope["code"] == 0:
        raise BadResponse(
            "EnOS answered a download with a JSON envelope of code 0 instead of the file",
            request_id=answer.envelope.get("requestId"),
        )
    return answer


def _json_or_none(content: bytes) -> Any:
    if not content.lstrip().startswith(b"{"):
        return None
    try:
        return json.loads(content, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        return None


def _opening(chunks: Iterator[bytes]) -> list[bytes]:
    """The first two chunks of a body (fewer when it is shorter): one means it is all there."""
    return list(itertools.islice(chunks, 2))


def _progressing(response: requests.Response, watch: Watch, progress: Progress) -> Iterator[bytes]:
    """The body's chunks; every `progress.min_bytes` received buy `progress.seconds` more. A
    chunk is at most min_bytes, as a read waits until its chunk is full."""
    watch.extend(progress.seconds)
    since_extended = 0
    for chunk in response.iter_content(max(1, min(READ_CHUNK, progress.min_bytes))):
        since_extended += len(chunk)
        if since_extended >= progress.min_bytes:
            watch.extend(progress.seconds)
            since_extended = 0
        yield chunk


def _late(seconds: float) -> UpstreamTimeout:
    return UpstreamTimeout(f"EnOS did not complete its answer within {seconds:.3g} s")


def _read_capped(response: requests.Response, cap: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    try:
        for chunk in response.iter_content(READ_CHUNK):
            size += len(chunk)
            if size > cap:
                raise BadResponse(f"EnOS answer is larger than {cap} bytes")
            chunks.append(chunk)
    finally:
        response.close()
    return b"".join(chunks)


def _bounded_int(digits: str) -> int | float:
    """A JSON integer; one too long to be any count or code is infinite (int() of thousands of
    digits is slow and then refused), so the field that holds it is named as out of range."""
    return int(digits) if len(digits) <= MAX_INT_DIGITS else math.inf


def _checked(status: int, headers: Mapping[str, str], content: bytes) -> Answer:
    if 300 <= status < 400:
        raise BadResponse(f"EnOS answered HTTP {status} (a redirect, which fwportal never follows)")
    if status == 429:
        seconds = retry_after(headers.get("Retry-After"))
        raise RateLimited(
            f"EnOS answered HTTP 429: too many requests; next try in {seconds:g} s",
            retry_after=seconds,
        )
    try:
        envelope = json.loads(content, parse_int=_bounded_int)
    except (ValueError, RecursionError):
        envelope = None
    code = _envelope_code(envelope)
    if code is not None:
        return Answer(status, {**envelope, "code": code, **_plain_words(envelope)})
    if isinstance(envelope, dict) and ("code" in envelope or "status" in envelope):
        raise BadResponse("EnOS sent a code that is not a number (field code)")
    if status >= 500:
        raise UpstreamError(f"EnOS answered HTTP {status}")
    if status in (401, 403):
        raise CredentialsRejected(f"EnOS refused the request (HTTP {status})")
    raise BadResponse(f"EnOS answered HTTP {status} with no EnOS JSON envelope")


def _plain_words(envelope: dict[str, Any]) -> dict[str, str | None]:
    """`requestId` and `msg` as short clean text (or None): they reach pages and logs."""
    words = {}
    for name, cap in (("requestId", REQUEST_ID_CAP), ("msg", MESSAGE_CAP)):
        value = envelope.get(name)
        words[name] = clean_text(value)[:cap] or None if isinstance(value, str) else None
    return words


def _envelope_code(envelope: Any) -> int | None:
    """EnOS's result code, from `code` (business APIs) or `status` (token service)."""
    if not isinstance(envelope, dict):
        return None
    for name in ("code", "status"):
        value = envelope.get(name)
        if isinstance(value, bool):
            continue
        if isinstance(value, int) and abs(value) < 10**9:
            return value
        if isinstance(value, str) and CODE_PATTERN.fullmatch(value):
            return int(value)
    return None


def retry_after(header: str | None) -> float:
    """Seconds to wait from a Retry-After header (seconds or an HTTP date), kept within bounds."""
    seconds = RETRY_AFTER_DEFAULT
    if header and header.strip().isascii() and header.strip().isdigit():
        seconds = float(header.strip()[:6])
    elif header:
        try:
            seconds = email.utils.parsedate_to_datetime(header).timestamp() - time.time()
        except (TypeError, ValueError, OverflowError):
            seconds = RETRY_AFTER_DEFAULT
    if not math.isfinite(seconds):
        seconds = RETRY_AFTER_DEFAULT
    return min(max(seconds, 1.0), RETRY_AFTER_MAX)
