"""What views call: org -> EnOS client, short-lived cache, single-flight, stale fallback."""

import contextvars
import dataclasses
import hashlib
import itertools
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from firmware import history, metrics
from firmware.credentials import UndecryptableSecret
from firmware.enos.client import (
    MAX_PAGE_SIZE,
    ClientSettings,
    EnosClient,
    OrgCredentials,
    devices_on_version,
)
from firmware.enos.deadline import budget
from firmware.enos.errors import (
    BadResponse,
    Busy,
    CredentialsUnreadable,
    RateLimited,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.enos.expression import equals
from firmware.enos.single_flight import run_once
from firmware.enos.transport import Limits, Progress
from firmware.enos.types import DeviceFirmware, FirmwareInfo, JobInfo, Page, TaskInfo
from firmware.history import History
from firmware.models import Org
from firmware.search import FirmwareFilters, JobFilters

logger = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50  # what EnOS advises at most; lists show this many unless asked otherwise
NO_FILTERS = FirmwareFilters()
EVERY_JOB = JobFilters()

# EnOS failures after which the last good copy is worth showing.
OUTAGES = (Unreachable, UpstreamTimeout, UpstreamError, BadResponse, Busy, RateLimited)


@dataclass(frozen=True)
class Fetched(Generic[T]):
    """An EnOS answer and when it was fetched; `stale` when it is a last good copy of an outage.
    A firmware's answer recorded in its history carries that history as the answer left it, so
    its page shows it without reading it again (None: not known here, see firmware_history)."""

    value: T
    fetched_at: datetime
    stale: bool = False
    history: History | None = None

    @property
    def age_seconds(self) -> float:
        return (timezone.now() - self.fetched_at).total_seconds()


def client_for(org: Org) -> EnosClient:
    """The org's EnOS client; CredentialsUnreadable when its secret key cannot be decrypted."""
    try:
        secret_key = org.secret_key
    except UndecryptableSecret as exc:
        logger.error("org=%s secret key cannot be decrypted with CREDENTIALS_KEYS", org.slug)
        raise CredentialsUnreadable("the stored secret key cannot be decrypted") from exc
    credentials = OrgCredentials(
        label=org.slug,
        gateway_url=org.gateway_url,
        org_id=org.org_id,
        access_key=org.access_key,
        secret_key=secret_key,
    )
    return EnosClient(
        credentials,
        cache=cache,
        settings=client_settings(),
    )


def client_settings() -> ClientSettings:
    return ClientSettings(
        limits=Limits(
            connect_timeout=settings.ENOS_CONNECT_TIMEOUT,
            read_timeout=settings.ENOS_READ_TIMEOUT,
            total_timeout=settings.ENOS_TOTAL_TIMEOUT,
            max_response_bytes=settings.ENOS_MAX_RESPONSE_BYTES,
            pool_size=settings.ENOS_POOL_SIZE,
        ),
        token_renew_margin=settings.ENOS_TOKEN_RENEW_MARGIN,
        max_calls_per_org=settings.ENOS_MAX_CALLS_PER_ORG,
        slot_wait_seconds=settings.ENOS_SLOT_WAIT_SECONDS,
        failure_seconds=settings.ENOS_FAILURE_SECONDS,
        max_downloads_per_org=settings.ENOS_MAX_DOWNLOADS_PER_ORG,
        download_progress=Progress(
            seconds=settings.ENOS_DOWNLOAD_PROGRESS_SECONDS,
            min_bytes=settings.ENOS_DOWNLOAD_PROGRESS_BYTES,
        ),
    )


def check_connection(org: Org) -> int:
    """A fresh EnOS access token, then the cheapest signed call on the org (a firmware search
    for one): how many firmware EnOS says the org holds. Raises an EnosError when EnOS refuses
    either, e.g. keys that are valid but may not read this orgId."""
    client = client_for(org)
    client.check_credentials()
    return client.search_firmware(expression=None, page=1, page_size=1).total_size


def _cache_key(org: Org, *parts: object) -> str:
    # The org's gateway and credentials are part of the key: editing them invalidates the cache.
    scope = "\n".join(map(str, (org.pk, org.gateway_url, org.org_id, org.access_key, *parts)))
    return "enos-answer:" + hashlib.sha256(scope.encode()).hexdigest()


def get_firmware(
    org: Org, firmware_id: str, *, refresh: bool = False, use_database: bool = True
) -> Fetched[FirmwareInfo]:
    """The org's firmware: cached while fresh; during outages the last good copy, marked stale
    (the cache's, else the database's). Each answer is recorded in the firmware's history.
    `use_database=False` does neither database part, for threads outside a request (find.py)."""
    key = _cache_key(org, "get", firmware_id)

    def fetch() -> Fetched[FirmwareInfo]:
        firmware = client_for(org).get_firmware(firmware_id)
        fetched_at = timezone.now()
        if not use_database:
            return Fetched(firmware, fetched_at)
        recorded = history.record(org, [firmware], fetched_at)
        return Fetched(firmware, fetched_at, history=recorded.get(firmware_id))

    kept = (lambda: history.last_good(org, firmware_id)) if use_database else None
    return _cached(key, fetch, refresh=refresh, kept=kept)


def search_firmware(
    org: Org,
    filters: FirmwareFilters = NO_FILTERS,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    refresh: bool = False,
) -> Fetched[Page]:
    """One page of the org's firmware that match the filters (cached like a firmware); each
    result feeds the detail cache, so opening a firmware from the list costs no second call.
    The page knows when it lies beyond the last (`Page.beyond_last_page`)."""
    expression = filters.expression()
    key = _cache_key(org, "search", expression, page, page_size)

    def fetch() -> Fetched[Page]:
        client = client_for(org)
        result = client.search_firmware(expression=expression, page=page, page_size=page_size)
        fetched_at = timezone.now()
        # Recorded first: each answer this feeds the detail cache with carries its history.
        recorded = history.record(org, result.items, fetched_at)
        _remember(
            {
                _cache_key(org, "get", firmware.firmware_id): Fetched(
                    firmware, fetched_at, history=recorded.get(firmware.firmware_id)
                )
                for firmware in result.items
            }
        )
        return Fetched(result, fetched_at)

    return _cached(key, fetch, refresh=refresh)


def firmware_history(org: Org, answer: Fetched[FirmwareInfo]) -> History | None:
    """The firmware's history as the page shows it with this answer: the one recorded with it
    (or read with the database's copy, in an outage), else the database's (an answer find.py
    fetched, which its threads keep without touching the database)."""
    if answer.history is not None:
        return answer.history
    return history.of(org, answer.value.firmware_id)


def get_job(org: Org, job_id: str, *, refresh: bool = False) -> Fetched[JobInfo]:
    """One OTA job of the org (NotFound when EnOS has none of that id), cached like a firmware."""
    key = _cache_key(org, "job", job_id)
    return _cached(key, _stamped(lambda: client_for(org).get_job(job_id)), refresh=refresh)


def search_jobs(
    org: Org,
    filters: JobFilters = EVERY_JOB,
    *,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    refresh: bool = False,
) -> Fetched[Page[JobInfo]]:
    """One page of the org's OTA jobs that match the filters, newest first; each result feeds
    the job cache, so opening a job from a list costs no second call."""
    expression = filters.expression()
    key = _cache_key(org, "jobs", expression, page, page_size)

    def fetch() -> Fetched[Page[JobInfo]]:
        result = client_for(org).search_jobs(expression=expression, page=page, page_size=page_size)
        fetched_at = timezone.now()
        _remember(
            {_cache_key(org, "job", job.job_id): Fetched(job, fetched_at) for job in result.items}
        )
        return Fetched(result, fetched_at)

    return _cached(key, fetch, refresh=refresh)


def search_tasks(
    org: Org,
    job_id: str,
    *,
    status: str = "",
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    refresh: bool = False,
) -> Fetched[Page[TaskInfo]]:
    """One page of a job's tasks (only those in `status`, when given)."""
    expression = equals("status", status) if status else None
    key = _cache_key(org, "tasks", job_id, expression, page, page_size)

    def fetch() -> Page[TaskInfo]:
        return client_for(org).search_tasks(
            job_id, expression=expression, page=page, page_size=page_size
        )

    return _cached(key, _stamped(fetch), refresh=refresh)


def count_tasks(org: Org, job_id: str, status: str, *, refresh: bool = False) -> Fetched[int]:
    """How many of a job's tasks are in `status`: one call with page size 1, whatever the job's
    size."""
    key = _cache_key(org, "task-count", job_id, status)
    return _cached(
        key, _stamped(lambda: client_for(org).count_tasks(job_id, status=status)), refresh=refresh
    )


def search_devices(
    org: Org,
    product_key: str,
    firmware_version: str,
    *,
    upgrading: bool | None = None,
    page: int = 1,
    page_size: int = DEFAULT_PAGE_SIZE,
    refresh: bool = False,
) -> Fetched[Page[DeviceFirmware]]:
    """One page of the product's devices that run the version (only those upgrading now, when
    `upgrading` is True)."""
    expression = devices_on_version(product_key, firmware_version, upgrading)
    key = _cache_key(org, "devices", expression, page, page_size)

    def fetch() -> Page[DeviceFirmware]:
        return client_for(org).search_device_upgrades(
            expression=expression, page=page, page_size=page_size
        )

    return _cached(key, _stamped(fetch), refresh=refresh)


def count_devices(
    org: Org,
    product_key: str,
    firmware_version: str,
    *,
    upgrading: bool | None = None,
    refresh: bool = False,
) -> Fetched[int]:
    """How many of the product's devices run the version (only those upgrading now, when
    `upgrading` is True): one call with page size 1."""
    key = _cache_key(org, "device-count", product_key, firmware_version, upgrading)

    def fetch() -> int:
        return client_for(org).count_devices(
            product_key=product_key, firmware_version=firmware_version, upgrading=upgrading
        )

    return _cached(key, _stamped(fetch), refresh=refresh)


@dataclass
class EveryFirmware:
    """Every firmware of the org that matches the filters, fetched from EnOS page after page at
    the largest page size as it is iterated, and at most `limit` of them. After iterating,
    `total` is what EnOS counted and `limited` whether the limit cut the list short."""

    org: Org
    filters: FirmwareFilters
    limit: int
    page_size: int = MAX_PAGE_SIZE
    total: int | None = None

    @property
    def limited(self) -> bool:
        return self.total is not None and self.total > self.limit

    def __iter__(self) -> Iterator[FirmwareInfo]:
        client = client_for(self.org)
        expression = self.filters.expression()
        given = 0
        for page_no in itertools.count(1):
            page = client.search_firmware(
                expression=expression, page=page_no, page_size=self.page_size
            )
            self.total = page.total_size
            for firmware in page.items[: self.limit - given]:
                given += 1
                yield firmware
            if given >= self.limit or not page.items or page_no >= page.last_page:
                return


class _KeyAsked(Exception):
    """A fetch reached its cache key while `already_fetched` only wanted the key."""


# Set by `already_fetched`: the fetches it calls note their cache keys here instead of fetching.
_keys_asked: contextvars.ContextVar[list[str | None] | None] = contextvars.ContextVar(
    "keys_asked", default=None
)
_fresh_looked_at: contextvars.ContextVar[bool] = contextvars.ContextVar(
    "fresh_looked_at", default=False
)


def already_fetched(fetches: Sequence[Callable[[], Fetched[T]]]) -> list[Fetched[T] | None]:
    """What each of these fetches of this module (`partial(count_tasks, org, job_id, status)`,
    ...) answers from the cache right now, all read in one round trip, without calling EnOS or
    waiting on another's call; None for each that would have to fetch (or was asked to refresh).
    A page answers its cached parts with this, and starts threads only for the rest."""
    keys: list[str | None] = []
    asking = _keys_asked.set(keys)
    try:
        for fetch in fetches:
            try:
                fetch()
            except _KeyAsked:
                continue
            raise TypeError(f"{fetch!r} is not one of this module's cached fetches")
    finally:
        _keys_asked.reset(asking)
    wanted = [f"{key}:fresh" for key in keys if key is not None]
    found = cache.get_many(wanted) if wanted else {}
    answers = [None if key is None else found.get(f"{key}:fresh") for key in keys]
    for answer in answers:
        if answer is not None:
            (metrics.STALE_SERVED if answer.stale else metrics.CACHE_HITS).inc()
    return answers


def fetch_missing(fetch: Callable[[], Fetched[T]]) -> Fetched[T]:
    """`fetch()` when `already_fetched` just found nothing: it does not read the cache's fresh
    copy again before it fetches (the fetch still takes one fetched meanwhile)."""
    looked_at = _fresh_looked_at.set(True)
    try:
        return fetch()
    finally:
        _fresh_looked_at.reset(looked_at)


def _stamped(fetch: Callable[[], T]) -> Callable[[], Fetched[T]]:
    """`fetch` answering with when its value came."""
    return lambda: Fetched(fetch(), timezone.now())


def _cached(
    key: str,
    fetch: Callable[[], Fetched[T]],
    *,
    refresh: bool,
    kept: Callable[[], Fetched[T] | None] | None = None,
) -> Fetched[T]:
    asked = _keys_asked.get()
    if asked is not None:
        asked.append(None if refresh else key)
        raise _KeyAsked
    if not refresh and not _fresh_looked_at.get():
        cached = cache.get(f"{key}:fresh")
        if cached is not None:
            (metrics.STALE_SERVED if cached.stale else metrics.CACHE_HITS).inc()
            return cached
    try:
        # A page's whole EnOS work (a token, the call, waiting on another's call) keeps the
        # total deadline, not each part of it.
        with budget(settings.ENOS_TOTAL_TIMEOUT):
            return _single_flight(key, fetch, refresh)
    except OUTAGES:
        last_good = cache.get(f"{key}:last-good")
        if last_good is None and kept is not None:
            last_good = kept()  # after a restart, or on another host: the database's copy
        if last_good is None:
            raise
        stale = dataclasses.replace(last_good, stale=True)
        metrics.STALE_SERVED.inc()
        # Until the next try is due, every viewer gets the stale copy without waiting on EnOS.
        cache.set(f"{key}:fresh", stale, timeout=settings.FIRMWARE_CACHE_SECONDS)
        return stale


def _remember(answers: dict[str, Fetched]) -> None:
    """Keep each answer under its key, fresh and as the last good copy: two writes in all."""
    fresh = {f"{key}:fresh": fetched for key, fetched in answers.items()}
    cache.set_many(fresh, timeout=settings.FIRMWARE_CACHE_SECONDS)
    last_good = {f"{key}:last-good": fetched for key, fetched in answers.items()}
    cache.set_many(last_good, timeout=settings.FIRMWARE_STALE_SECONDS)


def _single_flight(key: str, fetch: Callable[[], Fetched[T]], refresh: bool) -> Fetched[T]:
    """One upstream call per key at a time, across threads and (with Redis) processes. Waiters
    take the result of the call they waited for; a refresh only takes one fetched after it asked."""
    asked_at = timezone.now()

    def cached_result(cached: Fetched[T] | None) -> Fetched[T] | None:
        if cached is None or (refresh and cached.fetched_at < asked_at):
            return None
        metrics.COALESCED_WAITS.inc()  # asked only after the fresh copy was missing
        return cached

    def fetch_and_remember() -> Fetched[T]:
        fetched = fetch()
        _remember({key: fetched})
        return fetched

    return run_once(
        cache,
        key,
        ready_key=f"{key}:fresh",
        ready=cached_result,
        produce=fetch_and_remember,
        wait_seconds=settings.ENOS_TOTAL_TIMEOUT,
        failure_seconds=settings.ENOS_FAILURE_SECONDS,
        retry_failed=refresh,
    )
