"""The simulated gateway: token service, the V2.1 firmware, OTA job and device-upgrade APIs and a
control plane, over HTTP/1.1.

Counters: ``token_get``/``token_refresh`` count every request to those endpoints; ``business``
counts business requests that passed token and signature checks; ``get``/``search`` (firmware),
``get_job``/``search_jobs``/``search_tasks`` (OTA jobs), ``search_device_upgrades`` and
``download`` (V2.5 Download Firmware File, whose bytes files.py makes) count the requests those
actions served (not the ones a fault replaced); ``connections`` counts accepted TCP connections.

Control plane, for a simulator in another process (benchmarks, load tests). It needs no EnOS
auth and is not counted as token or business calls (its TCP connections are counted)::

    GET  /_simulator/counters   -> the counters as JSON
    POST /_simulator/reset      -> zeroes the counters, answers them
    POST /_simulator/config     {"latency": s, "latency_jitter": s, "token_lifetime": s,
                                 "fault": null | {"kind": k, "rate": r, "delay": s, "code": n,
                                                  "seed": n, "scope": s, "size": n,
                                                  "max_seconds": s, "field": p, "value": t,
                                                  "retry_after": t}}
                                -> applies the keys given, answers the whole configuration

A fault (faults.Fault) hits business calls (all, or only the firmware, jobs or devices calls),
token calls or both, as its scope says. Kinds that
replace the answer (drop, http500, html, error_code, data_null, wrong_shape, rate_limited) leave
the request unserved; the others alter the real answer (tamper) or how it is sent (wire).
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import hashlib
import json
import math
import random
import secrets
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from email.message import Message
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self, cast
from urllib.parse import parse_qsl, urlsplit

from enos_simulator import ota
from enos_simulator.expression import (
    DEVICE_FIELDS,
    FIRMWARE_FIELDS,
    JOB_FIELDS,
    TASK_FIELDS,
    ExpressionError,
    Field,
    parse_expression,
)
from enos_simulator.faults import PORTAL_PAGE, Fault, nginx_error_page
from enos_simulator.files import STALL_SECONDS, FileSpec, file_chunks, file_size
from enos_simulator.fixtures import DEFAULT_FIXTURES
from enos_simulator.tamper import (
    Spliced,
    padded,
    parse_path,
    with_huge_descriptions,
    with_raw_value,
)
from enos_simulator.values import finite_number, is_int
from enos_simulator.wire import Pace, send_paced

AUTH_GET_PATH = "/apim-token-service/v2.0/token/get"
AUTH_REFRESH_PATH = "/apim-token-service/v2.0/token/refresh"
FIRMWARE_PATH = "/connect-service/v2.1/ota-firmwares"
JOB_PATH = "/connect-service/v2.1/ota-jobs"
FILES_PATH = "/connect-service/v2.5/files"
CONTROL_PREFIX = "/_simulator/"
CONTROL_COUNTERS_PATH = CONTROL_PREFIX + "counters"
CONTROL_RESET_PATH = CONTROL_PREFIX + "reset"
CONTROL_CONFIG_PATH = CONTROL_PREFIX + "config"

DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 200
MAX_CACHED_SEARCHES = 512
SLOW_PIECE = 4096  # a slow file goes out in pieces this big
COUNTER_NAMES = (
    "token_get",
    "token_refresh",
    "business",
    "get",
    "search",
    "get_job",
    "search_jobs",
    "search_tasks",
    "search_device_upgrades",
    "download",
    "signature_failures",
    "expired_token",
    "connections",
    "faults",
)

_JSON = "application/json;charset=UTF-8"
_HTML = "text/html"
_OCTETS = "application/octet-stream"


@dataclasses.dataclass(frozen=True)
class _App:
    secret: str
    org_ids: frozenset[str]


@dataclasses.dataclass
class _Token:
    value: str
    app_key: str
    expires_at: float  # time.monotonic() deadline


@dataclasses.dataclass(frozen=True)
class _Reply:
    status: int
    body: bytes | Spliced = b""
    content_type: str = _JSON
    drop: bool = False
    headers: tuple[tuple[str, str], ...] = ()  # beyond Content-Type and the framing
    pace: Pace | None = None  # sent a byte at a time (drip, drip_chunked, slow_headers)
    file: _FileStream | None = None  # a firmware file, sent in place of the body


@dataclasses.dataclass(frozen=True)
class _FileStream:
    """A firmware file's bytes, and how they are sent."""

    size: int
    chunks: Iterable[bytes]
    spec: FileSpec


def _sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _json_reply(status: int, payload: Mapping[str, Any]) -> _Reply:
    return _Reply(status, json.dumps(payload, ensure_ascii=False).encode("utf-8"))


def _token_error(status: int, msg: str) -> _Reply:
    return _token_answer(status, msg, None)


def _token_answer(status: int, msg: str, data: Any) -> _Reply:
    return _json_reply(
        200, {"status": status, "msg": msg, "business": "apim-token-service", "data": data}
    )


def _part_of(path: str, params: Sequence[tuple[str, str]]) -> str:
    """Which part of the business calls a request is, as a fault's scope names it."""
    if path == JOB_PATH:
        return "jobs"
    if path == FILES_PATH:
        return "files"
    if ("action", "searchDeviceUpgrade") in params:
        return "devices"
    return "firmware"


def _envelope(http_status: int, code: int, msg: str, **extra: Any) -> _Reply:
    """A business-API answer: code, msg, a fresh requestId and any extra fields."""
    return _json_reply(http_status, {"code": code, "msg": msg, "requestId": _request_id(), **extra})


def _request_id() -> str:
    return str(uuid.uuid4())


def _signature(
    token: str, params: Sequence[tuple[str, str]], body: bytes, timestamp: str, secret: str
) -> str:
    # sorted() is stable, so repeated names keep their order; the body is signed as raw bytes.
    params_data = "".join(name + value for name, value in sorted(params, key=lambda p: p[0]))
    data = (token + params_data).encode("utf-8") + body + (timestamp + secret).encode("utf-8")
    return hashlib.sha256(data).hexdigest()


def _create_time(record: Mapping[str, Any]) -> int:
    value = record.get("createTime")
    return value if is_int(value) else 0


def _plain_copy(record: Mapping[str, Any]) -> dict[str, Any]:
    """A private deep copy that is plain JSON data."""
    return cast(dict[str, Any], json.loads(json.dumps(record)))


def _check_ids(record: Mapping[str, Any], *names: str) -> None:
    for name in ("orgId", *names):
        value = record.get(name)
        if not (isinstance(value, str) and value):
            raise ValueError(f"the record needs a non-empty string {name}")


@dataclasses.dataclass(frozen=True)
class _Search:
    """A search call: its counter, the fields its expression may name, and its records."""

    counter: str
    fields: Mapping[str, Field]
    records: Callable[[str], Sequence[Mapping[str, Any]]]  # an org's records, in result order


class Simulator:
    """An in-process EnOS gateway on a threaded HTTP/1.1 server; all shared state under a lock."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = 0,
        fixtures: str | Path | None = DEFAULT_FIXTURES,
        token_lifetime: float = 7200,
        latency: float = 0.0,
        latency_jitter: float = 0.0,
    ) -> None:
        self.host = host
        self._port = port
        self._lock = threading.Lock()
        self._apps: dict[str, _App] = {}
        self._firmware: dict[tuple[str, str], dict[str, Any]] = {}
        self._jobs: dict[tuple[str, str], dict[str, Any]] = {}
        # Per org, in search order; replaced (never changed in place), so a search can read the
        # list it took under the lock after letting go of it.
        self._tasks: dict[str, tuple[dict[str, Any], ...]] = {}
        self._devices: dict[str, tuple[dict[str, Any], ...]] = {}
        self._files: dict[tuple[str, str], FileSpec] = {}
        # What a search found, by (counter, org, expression): a count of a 3,000-task job by
        # status then costs a lookup; any change to the records empties it.
        self._found: dict[tuple[str, str, str], list[dict[str, Any]]] = {}
        self._generation = 0
        self._tokens: dict[str, _Token] = {}
        self._current_token: dict[str, str] = {}
        self._seen_encryptions: set[tuple[str, str]] = set()
        self._counters = dict.fromkeys(COUNTER_NAMES, 0)
        self._token_lifetime = token_lifetime
        self._latency = latency
        self._latency_jitter = latency_jitter
        self._jitter_rng = random.Random()  # noqa: S311 - simulated network delay, not crypto
        self._fault: Fault | None = None
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None
        self._connections: set[socket.socket] = set()
        if fixtures is not None:
            self._load_fixtures(fixtures)

    # -- configuration

    def _load_fixtures(self, path: str | Path) -> None:
        with open(path, encoding="utf-8") as fh:
            data = json.load(fh)
        for app in data.get("apps", []):
            self.add_app(app["appKey"], app["appSecret"], app["orgIds"])
        for info in data.get("firmware", []):
            self.add_firmware(info)
        for job in data.get("jobs", []):
            self.add_job(job)
        for entry in data.get("files", []):
            self._files[(entry["orgId"], entry["firmwareId"])] = FileSpec.from_fixture(entry)
        tasks, devices = ota.generate(data)
        self.add_tasks(tasks)
        self.add_device_firmware(devices)

    def add_app(self, app_key: str, app_secret: str, org_ids: Iterable[str]) -> None:
        """Register (or replace) an application's credentials and the orgs it may read."""
        with self._lock:
            self._apps[app_key] = _App(app_secret, frozenset(org_ids))

    def add_firmware(self, info: Mapping[str, Any]) -> None:
        """Add (or replace) a FirmwareInfo; it needs string ``orgId`` and ``firmwareId``."""
        org_id, firmware_id = info.get("orgId"), info.get("firmwareId")
        if not (
            isinstance(org_id, str) and org_id and isinstance(firmware_id, str) and firmware_id
        ):
            raise ValueError("a FirmwareInfo needs non-empty string orgId and firmwareId")
        record = _plain_copy(info)
        with self._lock:
            self._firmware[(org_id, firmware_id)] = record
            self._records_changed()

    def set_file(
        self,
        org_id: str,
        firmware_id: str,
        *,
        content: bytes | None = None,
        corrupt: bool = False,
        stall_after_bytes: int | None = None,
        bytes_per_second: float | None = None,
    ) -> None:
        """How a firmware's file is made and sent from now on (files.py); with no arguments,
        its generated bytes at full speed. With ``content``, the file is those bytes."""
        spec = FileSpec(content, corrupt, stall_after_bytes, bytes_per_second)
        with self._lock:
            self._files[(org_id, firmware_id)] = spec

    def _records_changed(self) -> None:
        """Under the lock: forget what searches found before."""
        self._found.clear()
        self._generation += 1

    def add_job(self, info: Mapping[str, Any]) -> None:
        """Add (or replace) a JobInfo; it needs string ``orgId`` and ``jobId``."""
        _check_ids(info, "jobId")
        record = _plain_copy(info)
        with self._lock:
            self._jobs[(record["orgId"], record["jobId"])] = record
            self._records_changed()

    def add_tasks(self, tasks: Iterable[Mapping[str, Any]]) -> None:
        """Add TaskInfo records (each with a string ``orgId`` and ``taskId``); a search returns
        them newest ``updateTime`` first."""
        records = [_plain_copy(task) for task in tasks]
        for record in records:
            _check_ids(record, "taskId")
        with self._lock:
            for org_id in {record["orgId"] for record in records}:
                mine = [r for r in records if r["orgId"] == org_id]
                self._tasks[org_id] = tuple(ota.newest_first([*self._tasks.get(org_id, ()), *mine]))
            self._records_changed()

    def add_device_firmware(self, devices: Iterable[Mapping[str, Any]]) -> None:
        """Add DeviceFirmware records (each with a string ``orgId``), returned in this order."""
        records = [_plain_copy(device) for device in devices]
        for record in records:
            _check_ids(record)
        with self._lock:
            for org_id in {record["orgId"] for record in records}:
                mine = [r for r in records if r["orgId"] == org_id]
                self._devices[org_id] = (*self._devices.get(org_id, ()), *mine)
            self._records_changed()

    @property
    def fault(self) -> Fault | None:
        with self._lock:
            return self._fault

    @fault.setter
    def fault(self, value: Fault | None) -> None:
        with self._lock:
            self._fault = value

    @property
    def token_lifetime(self) -> float:
        with self._lock:
            return self._token_lifetime

    @token_lifetime.setter
    def token_lifetime(self, seconds: float) -> None:
        with self._lock:
            self._token_lifetime = seconds

    @property
    def latency(self) -> float:
        with self._lock:
            return self._latency

    @latency.setter
    def latency(self, seconds: float) -> None:
        with self._lock:
            self._latency = seconds

    @property
    def latency_jitter(self) -> float:
        """Each business call sleeps ``latency + uniform(0, latency_jitter)`` seconds."""
        with self._lock:
            return self._latency_jitter

    @latency_jitter.setter
    def latency_jitter(self, seconds: float) -> None:
        with self._lock:
            self._latency_jitter = seconds

    def configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Apply a control-plane configuration (every key optional; all or nothing) and
        return the whole configuration; ValueError when a key or value is not understood."""
        unknown = set(changes) - {"latency", "latency_jitter", "token_lifetime", "fault"}
        if unknown:
            raise ValueError(f"unknown configuration keys: {', '.join(sorted(unknown))}")
        seconds = {}
        for name in ("latency", "latency_jitter", "token_lifetime"):
            if name in changes:
                seconds[name] = finite_number(changes, name, 0.0)
                if seconds[name] < 0:
                    raise ValueError(f"{name} must not be negative")
        if "token_lifetime" in seconds and seconds["token_lifetime"] <= 0:
            raise ValueError("token_lifetime must be positive")
        fault_spec = changes.get("fault")
        if fault_spec is not None and not isinstance(fault_spec, Mapping):
            raise ValueError("fault must be an object or null")
        fault = Fault.from_dict(fault_spec) if fault_spec is not None else None
        with self._lock:
            self._latency = seconds.get("latency", self._latency)
            self._latency_jitter = seconds.get("latency_jitter", self._latency_jitter)
            self._token_lifetime = seconds.get("token_lifetime", self._token_lifetime)
            if "fault" in changes:
                self._fault = fault
            return self._configuration()

    def _configuration(self) -> dict[str, Any]:
        """Under the lock: the settings the control plane can change."""
        return {
            "latency": self._latency,
            "latency_jitter": self._latency_jitter,
            "token_lifetime": self._token_lifetime,
            "fault": None if self._fault is None else self._fault.to_dict(),
        }

    def expire_tokens(self) -> None:
        """Make every token issued so far expired now."""
        with self._lock:
            now = time.monotonic()
            for token in self._tokens.values():
                token.expires_at = min(token.expires_at, now)

    @property
    def counters(self) -> dict[str, int]:
        with self._lock:
            return dict(self._counters)

    def reset_counters(self) -> None:
        with self._lock:
            self._counters = dict.fromkeys(COUNTER_NAMES, 0)

    # -- lifecycle

    @property
    def port(self) -> int:
        return self._port

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self._port}"

    def start(self) -> Self:
        """Bind (the same port again after a stop) and serve in a daemon thread."""
        if self._server is not None:
            raise RuntimeError("the simulator is already running")
        server = _Server((self.host, self._port), self)
        self._port = server.server_address[1]
        self._server = server
        # A short poll interval keeps stop() fast.
        self._thread = threading.Thread(
            target=server.serve_forever,
            kwargs={"poll_interval": 0.01},
            name=f"enos-simulator-{self._port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and cut every open connection, so keep-alive clients see the drop."""
        server, thread = self._server, self._thread
        if server is None or thread is None:
            return
        server.shutdown()
        server.server_close()
        thread.join()
        with self._lock:
            # Race-free: a handler forgets its socket under this lock before closing it.
            for sock in self._connections:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)
            self._connections.clear()
        self._server = self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    def _connection_opened(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.add(sock)
            self._counters["connections"] += 1

    def _connection_closed(self, sock: socket.socket) -> None:
        with self._lock:
            self._connections.discard(sock)

    # -- request handling

    def _handle(self, method: str, path: str, query: str, headers: Message, body: bytes) -> _Reply:
        location = self.url + path + ("?" + query if query else "")  # a redirect fault's target
        if method == "POST" and path in (AUTH_GET_PATH, AUTH_REFRESH_PATH):
            return self._token(body, refresh=path == AUTH_REFRESH_PATH, location=location)
        if path in (FIRMWARE_PATH, JOB_PATH, FILES_PATH):
            return self._business(method, path, query, headers, body, location)
        if path.startswith(CONTROL_PREFIX):
            return self._control(method, path, body)
        return _json_reply(404, {"code": 404, "msg": "not found"})

    def _control(self, method: str, path: str, body: bytes) -> _Reply:
        """The control plane: counters, reset and configuration, for out-of-process users."""
        methods = {
            CONTROL_COUNTERS_PATH: "GET",
            CONTROL_RESET_PATH: "POST",
            CONTROL_CONFIG_PATH: "POST",
        }
        if path not in methods:
            return _json_reply(404, {"error": f"no control endpoint {path}"})
        if method != methods[path]:
            return _json_reply(405, {"error": f"{path} takes {methods[path]}"})
        if path == CONTROL_COUNTERS_PATH:
            return _json_reply(200, self.counters)
        if path == CONTROL_RESET_PATH:
            self.reset_counters()
            return _json_reply(200, self.counters)
        try:
            changes = json.loads(body) if body.strip() else {}
        except ValueError:
            return _json_reply(400, {"error": "the body must be JSON"})
        if not isinstance(changes, dict):
            return _json_reply(400, {"error": "the body must be a JSON object"})
        try:
            return _json_reply(200, self.configure(changes))
        except ValueError as exc:
            return _json_reply(400, {"error": str(exc)})

    def _token(self, body: bytes, *, refresh: bool, location: str) -> _Reply:
        with self._lock:
            self._counters["token_refresh" if refresh else "token_get"] += 1
            strike = self._strike_fault("token")
        answer = functools.partial(self._token_request, body, refresh=refresh)
        if strike is None:
            return answer()
        return self._faulty_reply(*strike, answer, token=True, location=location)

    def _token_request(self, body: bytes, *, refresh: bool) -> _Reply:
        names = ("appKey", "timestamp", "encryption") + (("accessToken",) if refresh else ())
        try:
            request = json.loads(body)
        except ValueError:
            request = None
        with self._lock:
            if not isinstance(request, dict):
                return _token_error(1004, "invalid parameter: the body must be a JSON object")
            empty = [name for name in names if request.get(name) in (None, "")]
            if empty:
                return _token_error(1202, f"parameter empty: {', '.join(empty)}")
            if not is_int(request["timestamp"]):
                return _token_error(1004, "invalid parameter: timestamp must be an integer")
            if not all(isinstance(request[n], str) for n in names if n != "timestamp"):
                return _token_error(1004, "invalid parameter: expected string values")
            app_key, encryption = request["appKey"], request["encryption"]
            app = self._apps.get(app_key)
            if app is None:
                return _token_error(1002, "appKey does not exist")
            if encryption != _sha256_hex(app_key + str(request["timestamp"]) + app.secret):
                return _token_error(1003, "encryption not valid")
            if (app_key, encryption) in self._seen_encryptions:
                return _token_error(1001, "repeated request with a duplicated encryption")
            self._seen_encryptions.add((app_key, encryption))
            now = time.monotonic()
            if refresh:
                old = self._tokens.get(request["accessToken"])
                if old is None or old.app_key != app_key:
                    return _token_error(1204, "refreshing the access token failed")
                token = self._mint_token(app_key, now)
            else:
                token = self._tokens.get(self._current_token.get(app_key, ""))
                if token is None or token.expires_at <= now:
                    token = self._mint_token(app_key, now)
            expire = math.ceil(round(token.expires_at - now, 3))  # rounding: no 7201 from floats
        return _token_answer(0, "SUCCESS", {"accessToken": token.value, "expire": expire})

    def _mint_token(self, app_key: str, now: float) -> _Token:
        token = _Token(secrets.token_hex(16), app_key, now + self._token_lifetime)
        self._tokens[token.value] = token
        self._current_token[app_key] = token.value
        return token

    def _business(
        self, method: str, path: str, query: str, headers: Message, body: bytes, location: str
    ) -> _Reply:
        with self._lock:
            latency = self._latency
            if self._latency_jitter > 0:
                latency += self._jitter_rng.uniform(0, self._latency_jitter)
        if latency > 0:
            time.sleep(latency)
        token_value = headers.get("apim-accesstoken")
        signature = headers.get("apim-signature")
        timestamp = headers.get("apim-timestamp")
        if not (token_value and signature and timestamp):
            return _envelope(
                401, 1202, "apim-accesstoken, apim-signature and apim-timestamp are required"
            )
        params = parse_qsl(query, keep_blank_values=True)
        with self._lock:
            token = self._tokens.get(token_value)
            if token is None or token.expires_at <= time.monotonic():
                self._counters["expired_token"] += 1
                return _envelope(401, 1203, "access token expired")
            app = self._apps[token.app_key]
            if signature != _signature(token_value, params, body, timestamp, app.secret):
                self._counters["signature_failures"] += 1
                return _envelope(401, 1003, "signature not valid")
            self._counters["business"] += 1
            strike = self._strike_fault("business", _part_of(path, params))
        answer = functools.partial(self._action, method, path, params, app, body)
        if strike is None:
            return answer()
        return self._faulty_reply(*strike, answer, token=False, location=location)

    def _strike_fault(
        self, endpoint: str, part: str | None = None
    ) -> tuple[Fault, str, int] | None:
        """Under the lock: the fault, its kind (a pick when mixed) and HTTP status hitting this
        request to ``endpoint`` ("business" or "token"; ``part`` of the business calls), if
        any."""
        fault = self._fault
        hit = None if fault is None else fault.strike(endpoint, part)
        if fault is None or hit is None:
            return None
        self._counters["faults"] += 1
        kind, http_status = hit
        return fault, kind, http_status

    def _faulty_reply(
        self,
        fault: Fault,
        kind: str,
        http_status: int,
        answer: Callable[[], _Reply],
        *,
        token: bool,
        location: str,
    ) -> _Reply:
        """What a struck request gets: a replacement, or its real ``answer`` altered."""
        replacement = _replacement(fault, kind, http_status, token=token)
        if replacement is not None:
            return replacement
        if kind == "slow":
            time.sleep(fault.delay)
        reply = answer()
        if reply.file is not None:
            return reply  # a file is sent as it is; the kinds that alter JSON do not apply
        return _altered(fault, kind, reply, location)

    def _action(
        self,
        method: str,
        path: str,
        params: Sequence[tuple[str, str]],
        app: _App,
        body: bytes,
    ) -> _Reply:
        args: dict[str, str] = {}
        for name, value in params:
            args.setdefault(name, value)  # the first value wins, as with a servlet's getParameter
        action, org_id = args.get("action"), args.get("orgId")
        if not action or not org_id:
            return _envelope(400, 400, "orgId and action are required")
        if org_id not in app.org_ids:
            return _envelope(200, 403, "no permission for this organization")
        if method == "GET" and (path, action) == (FIRMWARE_PATH, "get"):
            return self._get_firmware(org_id, args.get("firmwareId"))
        if method == "GET" and (path, action) == (JOB_PATH, "get"):
            return self._get_job(org_id, args.get("jobId"))
        if method == "GET" and (path, action) == (FILES_PATH, "downloadFirmwareFile"):
            return self._download(org_id, args.get("firmwareId"))
        search = self._searches().get((path, action)) if method == "POST" else None
        if search is not None:
            return self._search(search, org_id, body)
        return _envelope(400, 400, f"unsupported action {action!r} for {method} {path}")

    def _searches(self) -> dict[tuple[str, str], _Search]:
        return {
            (FIRMWARE_PATH, "search"): _Search("search", FIRMWARE_FIELDS, self._firmware_of),
            (FIRMWARE_PATH, "searchDeviceUpgrade"): _Search(
                "search_device_upgrades", DEVICE_FIELDS, self._devices_of
            ),
            (JOB_PATH, "search"): _Search("search_jobs", JOB_FIELDS, self._jobs_of),
            (JOB_PATH, "searchTask"): _Search("search_tasks", TASK_FIELDS, self._tasks_of),
        }

    def _get_firmware(self, org_id: str, firmware_id: str | None) -> _Reply:
        with self._lock:
            self._counters["get"] += 1
            info = self._firmware.get((org_id, firmware_id)) if firmware_id else None
        if not firmware_id:
            return _envelope(400, 400, "firmwareId is required")
        if info is None:
            return _envelope(200, 24404, "Firmware not found", data=None)
        return _envelope(200, 0, "OK", data=info)

    def _download(self, org_id: str, firmware_id: str | None) -> _Reply:
        with self._lock:
            self._counters["download"] += 1
            info = self._firmware.get((org_id, firmware_id)) if firmware_id else None
            spec = self._files.get((org_id, firmware_id), FileSpec())
        if not firmware_id:
            return _envelope(400, 400, "firmwareId is required")
        if info is None:
            return _envelope(404, 24404, "Firmware not found", data=None)
        size = len(spec.content) if spec.content is not None else file_size(info)
        chunks = file_chunks(org_id, firmware_id, size, spec)
        return _Reply(200, content_type=_OCTETS, file=_FileStream(size, chunks, spec))

    def _get_job(self, org_id: str, job_id: str | None) -> _Reply:
        with self._lock:
            self._counters["get_job"] += 1
            info = self._jobs.get((org_id, job_id)) if job_id else None
        if not job_id:
            return _envelope(400, 400, "jobId is required")
        if info is None:
            return _envelope(200, 24404, "Job not found", data=None)
        return _envelope(200, 0, "OK", data=info)

    # Under the lock: an org's records of each search, in the order the search returns them.

    def _firmware_of(self, org_id: str) -> list[dict[str, Any]]:
        found = [info for (org, _), info in self._firmware.items() if org == org_id]
        found.sort(key=lambda info: (_create_time(info), info["firmwareId"]), reverse=True)
        return found

    def _jobs_of(self, org_id: str) -> list[dict[str, Any]]:
        found = [job for (org, _), job in self._jobs.items() if org == org_id]
        found.sort(key=lambda job: (_create_time(job), job["jobId"]), reverse=True)
        return found

    def _tasks_of(self, org_id: str) -> Sequence[dict[str, Any]]:
        return self._tasks.get(org_id, ())

    def _devices_of(self, org_id: str) -> Sequence[dict[str, Any]]:
        return self._devices.get(org_id, ())

    def _search(self, search: _Search, org_id: str, body: bytes) -> _Reply:
        with self._lock:
            self._counters[search.counter] += 1
        try:
            request = json.loads(body) if body.strip() else {}
        except ValueError:
            return _envelope(200, 400, "the request body is not valid JSON")
        if not isinstance(request, dict):
            return _envelope(200, 400, "the request body must be a JSON object")
        expression = request.get("expression")
        pagination = request.get("pagination") or {}
        if expression is not None and not isinstance(expression, str):
            return _envelope(200, 400, "expression must be a string")
        if not isinstance(pagination, dict):
            return _envelope(200, 400, "pagination must be an object")
        page_no = pagination.get("pageNo")
        page_size = pagination.get("pageSize")
        page_no = 1 if page_no is None else page_no
        page_size = DEFAULT_PAGE_SIZE if page_size is None else page_size
        if not (is_int(page_no) and is_int(page_size)):
            return _envelope(200, 400, "pageNo and pageSize must be integers")
        if page_no < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            return _envelope(
                200, 400, f"pageNo must be >= 1 and pageSize within 1..{MAX_PAGE_SIZE}"
            )
        try:
            clauses = parse_expression(expression or "", search.fields)
        except ExpressionError as exc:
            return _envelope(200, 400, f"invalid expression: {exc}")
        key = (search.counter, org_id, expression or "")
        with self._lock:
            found = self._found.get(key)
            records = search.records(org_id) if found is None else ()
            generation = self._generation
        if found is None:
            found = list(records)
            for clause in clauses:
                found = [record for record in found if clause(record)]
            with self._lock:
                if len(self._found) >= MAX_CACHED_SEARCHES:
                    self._found.clear()
                if generation == self._generation:  # no record changed meanwhile
                    self._found[key] = found
        start = (page_no - 1) * page_size
        page = {"pageNo": page_no, "pageSize": page_size, "totalSize": len(found)}
        return _envelope(200, 0, "OK", data=found[start : start + page_size], pagination=page)


def _replacement(fault: Fault, kind: str, http_status: int, *, token: bool) -> _Reply | None:
    """The answer of a kind that leaves the request unserved; None for the other kinds."""
    if kind == "drop":
        return _Reply(0, drop=True)
    if kind == "http500":
        return _Reply(http_status, nginx_error_page(http_status), _HTML)
    if kind == "html":
        return _Reply(200, PORTAL_PAGE, _HTML)
    if kind == "rate_limited":
        reply = _json_reply(429, {"code": 429, "msg": "Too Many Requests"})
        return dataclasses.replace(reply, headers=(("Retry-After", fault.retry_after),))
    if kind == "error_code":
        code = 500 if fault.code is None else fault.code
        if token:
            return _token_error(code, "internal error")
        return _envelope(200, code, "internal error")
    if kind in ("data_null", "wrong_shape"):
        data = None if kind == "data_null" else "not-an-object"
        return _token_answer(0, "SUCCESS", data) if token else _envelope(200, 0, "OK", data=data)
    return None


def _altered(fault: Fault, kind: str, reply: _Reply, location: str) -> _Reply:
    """The real answer as a fault of a serving kind sends it."""
    body = cast(bytes, reply.body)  # only this function makes a Spliced body
    if kind == "malformed_json":
        return dataclasses.replace(reply, body=body[: len(body) // 2])
    if kind in Fault.PACED_KINDS:
        pace = Pace(kind, fault.delay, fault.size, fault.max_seconds)
        return dataclasses.replace(reply, pace=pace)
    if kind == "huge_body":
        return dataclasses.replace(reply, body=padded(body, fault.size))
    if kind == "huge_description":
        return dataclasses.replace(reply, body=with_huge_descriptions(body, fault.size))
    if kind == "odd_value":
        spliced = with_raw_value(body, parse_path(fault.field), fault.value)
        return dataclasses.replace(reply, body=spliced)
    if kind == "redirect":
        headers = (("Location", location),)
        return dataclasses.replace(reply, status=fault.code, headers=headers)
    return reply


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    # A page opens a dozen connections at once (its calls in parallel); the default backlog of 5
    # would drop some SYNs, which the client sends again a second later.
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], simulator: Simulator) -> None:
        self.simulator = simulator
        super().__init__(address, _Handler)

    def process_request(self, request: Any, client_address: Any) -> None:
        self.simulator._connection_opened(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        self.simulator._connection_closed(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], OSError):
            return  # the client went away, or stop() cut the connection
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "EnOS-Simulator"
    sys_version = ""
    timeout = 75  # nginx's default keepalive_timeout: idle keep-alive connections get closed
    disable_nagle_algorithm = True  # headers and body go out as two writes: no 40 ms stall
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:
        """Silence the access log."""

    def do_GET(self) -> None:
        self._serve()

    def do_POST(self) -> None:
        self._serve()

    def _serve(self) -> None:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            length = -1
        if length < 0:
            self.close_connection = True
            self._write(_json_reply(400, {"code": 400, "msg": "bad Content-Length"}))
            return
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        reply = self.server.simulator._handle(self.command, url.path, url.query, self.headers, body)
        if reply.drop:
            self.close_connection = True  # the handler closes the socket without a response
            return
        self._write(reply)

    def _write(self, reply: _Reply) -> None:
        if reply.file is not None:
            self._send_file(reply)
            return
        if reply.pace is not None:
            self.close_connection = True  # a paced answer may end unfinished: nothing may follow
            fields = [
                ("Server", self.version_string()),
                ("Date", self.date_time_string()),
                ("Content-Type", reply.content_type),
                *reply.headers,
            ]
            body = cast(bytes, reply.body)  # a paced answer is the real answer, not spliced
            send_paced(self.connection, reply.status, fields, body, reply.pace)
            return
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        for name, value in reply.headers:
            self.send_header(name, value)
        if self.close_connection:
            self.send_header("Connection", "close")
        self.end_headers()
        chunks = reply.body.chunks() if isinstance(reply.body, Spliced) else (reply.body,)
        for chunk in chunks:
            self.wfile.write(chunk)

    def _send_file(self, reply: _Reply) -> None:
        """A firmware file: at full speed, at ``bytesPerSecond``, or stalling after
        ``stallAfterBytes`` until the client gives up (or STALL_SECONDS pass)."""
        file = cast(_FileStream, reply.file)
        spec = file.spec
        self.send_response(reply.status)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(file.size))
        self.end_headers()
        sent = 0
        for chunk in file.chunks:
            if spec.stall_after_bytes is not None and sent + len(chunk) > spec.stall_after_bytes:
                self.wfile.write(chunk[: spec.stall_after_bytes - sent])
                self.wfile.flush()
                self.close_connection = True
                # Wait for the client to hang up (recv then ends) or the time to pass.
                self.connection.settimeout(STALL_SECONDS)
                with contextlib.suppress(OSError):
                    self.connection.recv(1)
                return
            if spec.bytes_per_second is not None:
                for start in range(0, len(chunk), SLOW_PIECE):
                    self.wfile.write(chunk[start : start + SLOW_PIECE])
                    self.wfile.flush()
                    time.sleep(min(len(chunk) - start, SLOW_PIECE) / spec.bytes_per_second)
            else:
                self.wfile.write(chunk)
            sent += len(chunk)
