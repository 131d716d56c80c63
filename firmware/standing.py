"""Where a firmware stands: how its verification goes against its thresholds, the OTA jobs that
verify and roll it out, and how many devices run it.

A firmware page fetches all of it in two rounds of calls made at once (firmware/fan_out.py):
the firmware and its jobs; then each shown job's task counts and the device counts. Every count
is the `totalSize` of a search with page size 1, never a walk through tasks or devices. A part
that fails is shown as failed where it would be; only the firmware's own failure fails the page.
"""

import dataclasses
import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Generic, TypeVar

from firmware import services
from firmware.enos.errors import EnosError
from firmware.enos.types import FirmwareInfo, JobInfo, Page
from firmware.failures import Failure, describe
from firmware.fan_out import Pending, Ready, Together
from firmware.models import Org
from firmware.search import TASK_STATUSES, JobFilters

T = TypeVar("T")

JOBS_SHOWN = 5  # the newest jobs a firmware page shows with their task counts
STILL_TO_REPORT = ("init", "published", "upgrading")


@dataclass(frozen=True)
class Part(Generic[T]):
    """One part of a page: what EnOS answered, or the failure that kept it away."""

    fetched: services.Fetched[T] | None = None
    failure: Failure | None = None

    @property
    def value(self) -> T | None:
        return None if self.fetched is None else self.fetched.value

    @property
    def stale(self) -> bool:
        return self.fetched is not None and self.fetched.stale


def fetch_parts(
    together: Together, fetches: Sequence[Callable[[], services.Fetched[T]]]
) -> list[Pending[services.Fetched[T]] | Ready[services.Fetched[T]]]:
    """Parts of the page: those the cache has at once (read together), the others fetched in
    threads of the page's."""
    cached = services.already_fetched(fetches)
    return [
        _part_started(together, fetch, answer)
        for fetch, answer in zip(fetches, cached, strict=True)
    ]


def _part_started(
    together: Together,
    fetch: Callable[[], services.Fetched[T]],
    cached: services.Fetched[T] | None,
) -> Pending[services.Fetched[T]] | Ready[services.Fetched[T]]:
    """The part's cached answer, or its fetch started in a thread of the page's."""
    if cached is not None:
        return Ready(cached)
    return together.submit(services.fetch_missing, fetch)


def part_of(pending: Pending[services.Fetched[T]] | Ready[services.Fetched[T]]) -> Part[T]:
    """A fetch's answer as a part of a page: its value, or its EnOS failure."""
    try:
        return Part(fetched=pending.result())
    except EnosError as exc:
        return Part(failure=describe(exc))


@dataclass(frozen=True)
class TaskCounts:
    """How many of a job's tasks are in each status (TASK_STATUSES, in that order)."""

    by_status: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())

    @property
    def succeeded(self) -> int:
        return self.by_status["succeeded"]

    @property
    def failed(self) -> int:
        return self.by_status["failed"]

    @property
    def still_to_report(self) -> int:
        """Devices whose task has not ended yet, either way."""
        return sum(self.by_status[status] for status in STILL_TO_REPORT)

    def percent(self, status: str) -> float:
        """The share of the job's tasks in `status`, for a proportion bar (0 for no tasks)."""
        return 100 * self.by_status[status] / self.total if self.total else 0.0


def counts_of(parts: dict[str, Part[int]]) -> Part[TaskCounts]:
    """One job's counts, whole or not at all: a count missing would make the others lie."""
    failed = next((part.failure for part in parts.values() if part.failure), None)
    if failed is not None:
        return Part(failure=failed)
    fetched = [part.fetched for part in parts.values()]
    oldest = min(fetched, key=lambda f: f.fetched_at)
    counts = TaskCounts({status: part.value for status, part in parts.items()})
    stale = any(f.stale for f in fetched)
    return Part(fetched=services.Fetched(counts, oldest.fetched_at, stale=stale))


@dataclass(frozen=True)
class Verdict:
    """A verify job's task counts against the firmware's thresholds, as a plain answer.

    `state`: "verified" (EnOS says so), "passed" (enough devices succeeded; EnOS has not said
    verified yet), "can_pass" (enough devices still to report), "cannot_pass" (fewer devices
    left than successes still needed), or "unknown" (EnOS gave no threshold to hold them to).
    """

    state: str
    counts: TaskCounts
    needed: int | None  # minSuccessForVerified
    allowed: int | None  # maxAllowedForVerification

    @property
    def still_needed(self) -> int:
        return max(0, (self.needed or 0) - self.counts.succeeded)


def verdict(firmware: FirmwareInfo, counts: TaskCounts) -> Verdict:
    needed = firmware.min_success_for_verified
    allowed = firmware.max_allowed_for_verification
    if firmware.is_verified:
        state = "verified"
    elif needed is None:
        state = "unknown"
    elif counts.succeeded >= needed:
        state = "passed"
    elif counts.succeeded + counts.still_to_report >= needed:
        state = "can_pass"
    else:
        state = "cannot_pass"
    return Verdict(state, counts, needed, allowed)


@dataclass(frozen=True)
class JobStanding:
    """A job of the firmware and how far its tasks have got."""

    job: JobInfo
    counts: Part[TaskCounts]
    firmware: FirmwareInfo

    @property
    def is_verification(self) -> bool:
        return self.job.type == "verify"

    @property
    def verdict(self) -> Verdict | None:
        """For a verify job whose counts came: how it stands against the thresholds."""
        if not self.is_verification or self.counts.value is None:
            return None
        return verdict(self.firmware, self.counts.value)


@dataclass(frozen=True)
class Devices:
    """How many devices of the firmware's product run its version, and how many are upgrading
    now. `product_key` is the firmware's, or for a new firmware file (which names none) its
    jobs' (`from_jobs`)."""

    product_key: str
    from_jobs: bool
    firmware_version: str
    on_version: Part[int]
    upgrading: Part[int]


@dataclass(frozen=True)
class Standing:
    firmware: FirmwareInfo
    jobs: Part[Page[JobInfo]]  # the newest JOBS_SHOWN jobs of the firmware, and how many in all
    shown_jobs: list[JobStanding]
    devices: Devices | None  # None when neither the firmware nor its jobs name a product

    @property
    def verification_jobs(self) -> list[JobStanding]:
        return [standing for standing in self.shown_jobs if standing.is_verification]

    @property
    def more_jobs(self) -> int:
        """Jobs of the firmware that the page does not show."""
        page = self.jobs.value
        return 0 if page is None else max(0, page.total_size - len(self.shown_jobs))

    @property
    def key(self) -> str:
        """Names all the page shows of where the firmware stands (not which calls fetched it: a
        request id is shown only with a failure), so a page cached with it shows no other."""
        jobs = self.jobs.value
        shown_jobs = None if jobs is None else (jobs.total_size, *map(_unsourced, jobs.items))
        parts = [(shown_jobs, *_shown(self.jobs))]
        parts += [(s.counts.value, *_shown(s.counts)) for s in self.shown_jobs]
        if self.devices is not None:
            on_version, upgrading = self.devices.on_version, self.devices.upgrading
            parts += [
                (self.devices.product_key, self.devices.from_jobs, self.devices.firmware_version),
                (on_version.value, *_shown(on_version)),
                (upgrading.value, *_shown(upgrading)),
            ]
        return hashlib.sha256(repr(parts).encode()).hexdigest()


def _unsourced(job: JobInfo) -> JobInfo:
    return dataclasses.replace(job, request_id=None)


def _shown(part: Part) -> tuple[object, ...]:
    """What a page shows of a part besides its value: its failure, and when a stale part was
    fetched (a fresh one is as new as the page)."""
    return (part.failure, part.stale and part.fetched.fetched_at)


def product_of(firmware: FirmwareInfo, jobs: list[JobInfo]) -> tuple[str | None, bool]:
    """The product the firmware is for, and whether it came from its jobs: EnOS names it on an
    old firmware file only; a new file's jobs name it themselves or in their upgrade scope."""
    if firmware.product_key:
        return firmware.product_key, False
    for job in jobs:
        named = job.product_key or job.upgrade_scope.get("productKey")
        if named:
            return named, True
    return None, False


def fetch_firmware_page(
    org: Org, firmware_id: str, *, refresh: bool = False
) -> tuple[services.Fetched[FirmwareInfo], Standing]:
    """The firmware (its failure raised, for the page to fail with) and where it stands."""
    with Together() as together:
        firmware_fetch = partial(services.get_firmware, org, firmware_id, refresh=refresh)
        jobs_fetch = partial(
            services.search_jobs,
            org,
            JobFilters(firmware_id=firmware_id),
            page_size=JOBS_SHOWN,
            refresh=refresh,
        )
        cached_firmware, cached_jobs = services.already_fetched([firmware_fetch, jobs_fetch])
        jobs_pending = _part_started(together, jobs_fetch, cached_jobs)
        # In this thread: the firmware's answer is recorded in its history (the database).
        fetched = cached_firmware or services.fetch_missing(firmware_fetch)
        firmware = fetched.value
        jobs = part_of(jobs_pending)
        shown = jobs.value.items[:JOBS_SHOWN] if jobs.value is not None else []
        product_key, from_jobs = product_of(firmware, shown)
        count_fetches = [
            partial(services.count_tasks, org, job.job_id, status, refresh=refresh)
            for job in shown
            for status in TASK_STATUSES
        ]
        device_fetches = []
        if product_key and firmware.version:
            device_fetches = [
                partial(
                    services.count_devices,
                    org,
                    product_key,
                    firmware.version,
                    upgrading=upgrading,
                    refresh=refresh,
                )
                for upgrading in (None, True)  # all on the version; those upgrading now
            ]
        pending = iter(fetch_parts(together, [*count_fetches, *device_fetches]))
        counts = {job.job_id: {status: next(pending) for status in TASK_STATUSES} for job in shown}
        devices = None
        if device_fetches:
            on_version, upgrading = next(pending), next(pending)
            devices = Devices(
                product_key, from_jobs, firmware.version, part_of(on_version), part_of(upgrading)
            )
        shown_jobs = [
            JobStanding(
                job,
                counts_of({status: part_of(p) for status, p in counts[job.job_id].items()}),
                firmware,
            )
            for job in shown
        ]
    return fetched, Standing(firmware, jobs, shown_jobs, devices)
