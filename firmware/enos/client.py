"""EnosClient: the one way fwportal talks to an EnOS API gateway."""

import functools
import hashlib
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from firmware import metrics
from firmware.enos import bulkhead
from firmware.enos.auth import EnosAuth, TokenCache, TokenProvider
from firmware.enos.bulkhead import OrgSlots
from firmware.enos.errors import (
    BadResponse,
    Busy,
    CredentialsRejected,
    EnosError,
    NotFound,
    RateLimited,
    UpstreamError,
)
from firmware.enos.expression import all_of, equals
from firmware.enos.transport import Answer, Call, Limits, Progress, download, exchange
from firmware.enos.types import (
    COUNT_RANGE,
    DeviceFirmware,
    FirmwareInfo,
    JobInfo,
    Page,
    TaskInfo,
    bounded_int,
)

logger = logging.getLogger(__name__)

FIRMWARE_PATH = "/connect-service/v2.1/ota-firmwares"
JOB_PATH = "/connect-service/v2.1/ota-jobs"
FILES_PATH = "/connect-service/v2.5/files"
NOT_FOUND = 24404  # no such firmware, or no such job
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
    limits: Limits = field(default_factory=Limits)
    token_renew_margin: float = 300
    # In flight at once to one org, per process, so one org cannot take every thread; a call
    # waits at most `slot_wait_seconds` for a slot, then is turned away (Busy).
    max_calls_per_org: int = 4
    slot_wait_seconds: float = 0.5
    failure_seconds: float = 5  # a failed call is the answer for this long, to all who ask
    # Downloads last minutes: they have slots of their own, so they never crowd out pages.
    max_downloads_per_org: int = 2
    download_progress: Progress = field(default_factory=Progress)


Item = TypeVar("Item")
# One HTTP exchange: exchange() (a JSON answer) or a download bound to its writer.
Send = Callable[[str, Call, EnosAuth | None, Limits], Answer]


def _search_body(expression: str | None, page: int, page_size: int) -> dict[str, Any]:
    """What every search posts; no expression key when nothing is filtered."""
    body: dict[str, Any] = {"pagination": {"pageNo": page, "pageSize": page_size}}
    if expression:
        body["expression"] = expression
    return body


def devices_on_version(
    product_key: str, firmware_version: str, upgrading: bool | None = None
) -> str:
    """The Search Device Upgrade expression for a product's devices on a version (only those
    upgrading now, or only those not, when `upgrading` says so)."""
    return all_of(
        equals("productKey", product_key),
        equals("firmwareVersion", firmware_version),
        equals("isUpgrading", upgrading) if upgrading is not None else None,
    )


class _TokenExpired(Exception):
    """A business call was answered with 1203; the caller renews the token and retries once."""


# Token lifetimes outside this range are clamped: a gateway's "expire" cannot make fwportal keep
# a token for ever (nor pass an absurd timeout to the cache).
TOKEN_LIFETIME_RANGE = (1, 24 * 3600)
EXPIRE_RANGE = (-(10**40), 10**40)  # any whole number EnOS may send; clamped above


def _error_for(code: int | None, message: str, request_id: str | None) -> EnosError:
    if code == NOT_FOUND:
        return NotFound(message, code=code, request_id=request_id)
    if code in CREDENTIALS_CODES:
        return CredentialsRejected(message, code=code, request_id=request_id)
    return UpstreamError(message, code=code, request_id=request_id)


class EnosClient:
    """Calls one org's EnOS APIs: token service, firmware files, OTA jobs and their tasks, and
    the firmware versions devices run, and firmware files (docs/enos-api.md sections 2 to 8)."""

    def __init__(self, credentials: OrgCredentials, *, cache: TokenCache, settings: ClientSettings):
        self.credentials = credentials
        self._settings = settings
        self._base = credentials.gateway_url.rstrip("/")
        self._cache = cache
        token_key = hashlib.sha256(
            f"{self._base}\n{credentials.access_key}\n{credentials.secret_key}".encode()
        ).hexdigest()
        org_key = f"{self._base}\n{credentials.org_id}\n{credentials.access_key}"
        self._slots = bulkhead.slots_for(org_key, settings.max_calls_per_org)
        self._download_slots = bulkhead.slots_for(
            f"{org_key}\ndownloads", settings.max_downloads_per_org
        )
        self._rate_limit_key = "enos-rate-limited:" + hashlib.sha256(org_key.encode()).hexdigest()
        self._tokens = TokenProvider(
            cache=cache,
            cache_key=f"enos-token:{token_key}",
            fetch=self._fetch_token,
            access_key=credentials.access_key,
            secret_key=credentials.secret_key,
            renew_margin=settings.token_renew_margin,
            wait_seconds=settings.limits.total_timeout,
            failure_seconds=settings.failure_seconds,
        )

    def check_credentials(self) -> None:
        """Ask the token service for a token now; raises CredentialsRejected etc. on failure."""
        self._tokens.fetch_now()

    def get_firmware(self, firmware_id: str) -> FirmwareInfo:
        query = {"action": "get", "orgId": self.credentials.org_id, "firmwareId": firmware_id}
        envelope = self._call(Call("GET", FIRMWARE_PATH, "get", query, subject=firmware_id))
        request_id = envelope.get("requestId")
        firmware = FirmwareInfo.from_api(envelope.get("data"), request_id=request_id)
        if firmware.firmware_id != firmware_id:
            raise BadResponse(
                "FirmwareInfo field firmwareId names another firmware", request_id=request_id
            )
        return firmware

    def search_firmware(
        self, *, expression: str | None, page: int, page_size: int
    ) -> Page[FirmwareInfo]:
        body = _search_body(expression, page, page_size)
        call = Call("POST", FIRMWARE_PATH, "search", self._query("search"), body)
        return self._page(call, FirmwareInfo.from_api, page, page_size)

    def search_jobs(
        self, *, expression: str | None = None, page: int = 1, page_size: int = 50
    ) -> Page[JobInfo]:
        """Search OTA Job: newest first; `expression` over productKey, firmwareId,
        firmwareVersion (`=`, `in`), type, status (`=`), name and firmwareName (`like`)."""
        body = _search_body(expression, page, page_size)
        call = Call("POST", JOB_PATH, "search_jobs", self._query("search"), body)
        return self._page(call, JobInfo.from_api, page, page_size)

    def get_job(self, job_id: str) -> JobInfo:
        """Get OTA Job; NotFound (24404) when the org has no such job."""
        query = {**self._query("get"), "jobId": job_id}
        call = Call("GET", JOB_PATH, "get_job", query, subject=job_id, subject_kind="job")
        envelope = self._call(call)
        request_id = envelope.get("requestId")
        job = JobInfo.from_api(envelope.get("data"), request_id=request_id)
        if job.job_id != job_id:
            raise BadResponse("JobInfo field jobId names another job", request_id=request_id)
        return job

    def search_tasks(
        self,
        job_id: str,
        *,
        expression: str | None = None,
        page: int = 1,
        page_size: int = 50,
    ) -> Page[TaskInfo]:
        """Search OTA Task within one job; `expression` narrows it further over deviceKey,
        fromVersion, toVersion, status and desc (`=`, `in`)."""
        body = _search_body(all_of(equals("jobId", job_id), expression), page, page_size)
        call = Call(
            "POST",
            JOB_PATH,
            "search_tasks",
            self._query("searchTask"),
            body,
            subject=job_id,
            subject_kind="job",
        )
        return self._page(call, TaskInfo.from_api, page, page_size)

    def search_device_upgrades(
        self, *, expression: str | None = None, page: int = 1, page_size: int = 50
    ) -> Page[DeviceFirmware]:
        """Search Device Upgrade: the version each device runs; `expression` over productKey,
        firmwareVersion (`=`, `in`) and isUpgrading (`=`)."""
        body = _search_body(expression, page, page_size)
        call = Call(
            "POST",
            FIRMWARE_PATH,
            "search_device_upgrades",
            self._query("searchDeviceUpgrade"),
            body,
        )
        return self._page(call, DeviceFirmware.from_api, page, page_size)

    def count_tasks(self, job_id: str, *, status: str | None = None) -> int:
        """How many of a job's tasks are in `status` (all of them when None): one call, the
        totalSize of a search with page size 1."""
        expression = equals("status", status) if status is not None else None
        return self.search_tasks(job_id, expression=expression, page=1, page_size=1).total_size

    def count_devices(
        self, *, product_key: str, firmware_version: str, upgrading: bool | None = None
    ) -> int:
        """How many devices of a product run a version (only those upgrading now, or not, when
        `upgrading` says so): one call, the totalSize of a search with page size 1."""
        expression = devices_on_version(product_key, firmware_version, upgrading)
        return self.search_device_upgrades(expression=expression, page=1, page_size=1).total_size

    def download_firmware(self, firmware_id: str, write: Callable[[bytes], None]) -> None:
        """V2.5 Download Firmware File: the file's bytes, chunk by chunk, to `write` (untrusted
        until the caller checked their digest). NotFound (24404) etc. as for any call; a gateway
        that sends too little for too long (settings' download_progress) is UpstreamTimeout."""
        query = {**self._query("downloadFirmwareFile"), "firmwareId": firmware_id}
        call = Call("GET", FILES_PATH, "download", query, subject=firmware_id)
        send = functools.partial(download, write=write, progress=self._settings.download_progress)
        self._call(call, send, self._download_slots)

    def _query(self, action: str) -> dict[str, str]:
        return {"action": action, "orgId": self.credentials.org_id}

    def _page(
        self, call: Call, parse: Callable[..., Item], page: int, page_size: int
    ) -> Page[Item]:
        """A signed search: its items parsed by `parse`, and the whole result's totalSize."""
        envelope = self._call(call)
        request_id = envelope.get("requestId")
        data = envelope.get("data")
        pagination = envelope.get("pagination")
        if not isinstance(data, list) or not isinstance(pagination, dict):
            raise BadResponse("search answer has no data list or pagination", request_id=request_id)
        total = bounded_int(
            pagination.get("totalSize", len(data)),
            "search field pagination.totalSize",
            COUNT_RANGE,
            request_id,
        )
        return Page(
            items=[parse(item, request_id=request_id) for item in data],
            page_no=page,
            page_size=page_size,
            total_size=total,
            request_id=request_id,
        )

    def _call(
        self, call: Call, send: Send = exchange, slots: OrgSlots | None = None
    ) -> dict[str, Any]:
        """A signed business call; an expired token is renewed and the call made once more."""
        token = self._tokens.token()
        try:
            return self._business(call, token, send, slots)
        except _TokenExpired:
            token = self._tokens.renew(rejected=token)
        try:
            return self._business(call, token, send, slots)
        except _TokenExpired as exc:
            raise CredentialsRejected(
                "EnOS rejected a freshly issued access token", code=TOKEN_EXPIRED
            ) from exc

    def _business(
        self, call: Call, token: str, send: Send, slots: OrgSlots | None
    ) -> dict[str, Any]:
        auth = EnosAuth(token, self.credentials.secret_key)
        envelope = self._exchange(call, auth, send, slots)
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
        lifetime = bounded_int(data.get("expire", 7200), "token field expire", EXPIRE_RANGE, None)
        low, high = TOKEN_LIFETIME_RANGE
        return token, min(max(lifetime, low), high)

    def _exchange(
        self,
        call: Call,
        auth: EnosAuth | None = None,
        send: Send = exchange,
        slots: OrgSlots | None = None,
    ) -> dict[str, Any]:
        """One HTTP round trip: the checked JSON envelope, or an EnosError. Logs one line."""
        started = time.monotonic()
        status: int | None = None
        envelope: dict[str, Any] = {}
        outcome = "ok"
        try:
            self._wait_for_rate_limit()
            answer = self._exchange_in_a_slot(call, auth, send, slots)
            status, envelope = answer.status, answer.envelope
            if envelope["code"] != 0:
                outcome = "EnosCode"  # the caller raises the error this code names
            return envelope
        except RateLimited as exc:
            outcome = type(exc).__name__
            self._cache.set(self._rate_limit_key, time.time() + exc.retry_after, exc.retry_after)
            raise
        except EnosError as exc:
            outcome = type(exc).__name__
            raise
        finally:
            seconds = time.monotonic() - started
            metrics.enos_call(self.credentials.label, call.operation, outcome, seconds)
            fields = {
                "org": self.credentials.label,
                "enos_operation": call.operation,
                "enos_request_id": envelope.get("requestId"),
                "enos_code": envelope.get("code"),
                "http_status": status,
                "outcome": outcome,
                "duration_ms": round(seconds * 1000),
            }
            logger.info(
                "enos %s org=%s %s=%s http=%s code=%s request_id=%s outcome=%s duration_ms=%d",
                call.operation,
                self.credentials.label,
                call.subject_kind,
                call.subject if call.subject is not None else "-",
                status if status is not None else "-",
                envelope.get("code", "-"),
                envelope.get("requestId") or "-",
                outcome,
                seconds * 1000,
                extra=fields,  # the same, as fields of a JSON log line (fwportal/logging.py)
            )

    def _exchange_in_a_slot(
        self, call: Call, auth: EnosAuth | None, send: Send, slots: OrgSlots | None
    ) -> Answer:
        """The exchange, made in one of the org's slots (`slots`, else those of its calls): the
        page's shared one when this call is part of a page's several calls, else its own; Busy
        when none comes in time."""
        wait = self._settings.slot_wait_seconds
        shared = bulkhead.current_sharing() if slots is None else None
        if shared is not None:
            if not shared.slot_of(self._slots).take(wait):
                raise self._busy()
            return send(self._base, call, auth, self._settings.limits)
        slots = slots or self._slots
        slot = slots.acquire(wait)
        if slot is None:
            downloads = slots is self._download_slots
            raise self._busy(self._settings.max_downloads_per_org if downloads else None)
        try:
            return send(self._base, call, auth, self._settings.limits)
        finally:
            slots.release(slot)

    def _busy(self, size: int | None = None) -> Busy:
        metrics.BULKHEAD_REJECTIONS.labels(self.credentials.label).inc()
        return Busy(
            f"{size or self._settings.max_calls_per_org} requests to this org's EnOS gateway "
            "are already in flight"
        )

    def _wait_for_rate_limit(self) -> None:
        """Honour an earlier 429 of this org (in any process) without calling EnOS."""
        not_before = self._cache.get(self._rate_limit_key)
        if not_before is not None and (seconds := not_before - time.time()) > 0:
            raise RateLimited(
                f"EnOS asked fwportal to wait; next try in {seconds:.0f} s", retry_after=seconds
            )
