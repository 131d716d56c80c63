"""What the job pages and the devices-on-a-version page show, derived once from what EnOS sent,
so templates only format: the policies of a job in words, its task counts as links and a
proportion bar, and the lists' pagination links."""

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property

from django.http import QueryDict
from django.utils.functional import Promise
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _

from firmware.devices import DevicesOnVersion
from firmware.enos.types import (
    MILLIS_RANGE,
    DeviceFirmware,
    FirmwareInfo,
    JobInfo,
    Page,
    Policy,
    TaskInfo,
)
from firmware.jobs import JobTasks
from firmware.languages import shown_name
from firmware.presentation import TASK_STATUSES as TASK_STATUS_LABELS
from firmware.presentation import Paged
from firmware.search import TASK_STATUSES
from firmware.services import Fetched


def duration(seconds: int) -> str:
    """Seconds in the largest whole unit: 3600 -> "1 hour", 600 -> "10 minutes", 90 -> "90
    seconds"."""
    if seconds and seconds % 3600 == 0:
        hours = seconds // 3600
        return ngettext("%(count)s hour", "%(count)s hours", hours) % {"count": hours}
    if seconds and seconds % 60 == 0:
        minutes = seconds // 60
        return ngettext("%(count)s minute", "%(count)s minutes", minutes) % {"count": minutes}
    return ngettext("%(count)s second", "%(count)s seconds", seconds) % {"count": seconds}


@dataclass(frozen=True)
class PolicyValue:
    """One value of a policy entry: its text, or the moment it names."""

    text: str
    moment: datetime | None = None


@dataclass(frozen=True)
class PolicyRow:
    """One entry of a policy: `label` in words when fwportal knows the entry (`known`), else its
    path as EnOS sent it; a list's items are the row's values."""

    label: str
    values: tuple[PolicyValue, ...]
    known: bool
    code: bool = False  # identifiers: shown in a fixed-width font


@dataclass(frozen=True)
class PolicySection:
    title: Promise
    rows: tuple[PolicyRow, ...]
    truncated: bool  # EnOS sent more than is kept


# (label, how values are read) per entry path, list indices taken out (`obj[3]` -> `obj`).
KNOWN_ENTRIES: dict[str, dict[str, tuple[Promise, str]]] = {
    "upgrade_scope": {
        "type": (_("Scope"), "scope_type"),
        "obj": (_("Devices"), "code"),
        "productKey": (_("Product key"), "code"),
        "obj.productKey": (_("Product key"), "code"),
        "firmwareVersion": (_("Devices running version"), "text"),
        "obj.firmwareVersion": (_("Devices running version"), "text"),
    },
    "retry_policy": {
        "retryInterval": (_("Retry interval"), "seconds"),
        "maximumRetries": (_("Retries at most"), "text"),
    },
    "schedule_policy": {
        "type": (_("Schedule"), "schedule_type"),
        "startTime": (_("Starts"), "millis"),
        "endTime": (_("Ends"), "millis"),
    },
}
WORDS = {
    "scope_type": {"device": _("Listed devices"), "filter": _("Devices matching a filter")},
    "schedule_type": {"immediate": _("Immediately")},
}
DAILY_RANGE = ("dailyTimeRange.startTime", "dailyTimeRange.endTime", "dailyTimeRange.timeZone")
_INDEX = re.compile(r"\[\d+\]")


def _value(text: str, reading: str) -> PolicyValue:
    """A value read as the entry means it; text that does not fit is shown as sent."""
    if reading == "seconds" and text.isdigit():
        return PolicyValue(duration(int(text)))
    if reading == "millis" and text.isdigit() and MILLIS_RANGE[0] <= int(text) <= MILLIS_RANGE[1]:
        return PolicyValue(text, datetime.fromtimestamp(int(text) / 1000, tz=UTC))
    if reading in WORDS:
        return PolicyValue(str(WORDS[reading].get(text, text)))
    return PolicyValue(text)


def policy_rows(kind: str, policy: Policy) -> tuple[PolicyRow, ...]:
    """A policy as rows: the entries fwportal knows in words, each other entry as path: value,
    whatever the policy's shape."""
    grouped: dict[str, list[str]] = {}
    for path, text in policy.entries:
        grouped.setdefault(_INDEX.sub("", path), []).append(text)
    known = KNOWN_ENTRIES.get(kind, {})
    daily = [grouped.get(path) for path in DAILY_RANGE]
    rows = []
    for path, texts in grouped.items():
        if path in known:
            title, reading = known[path]
            values = tuple(_value(text, reading) for text in texts)
            rows.append(PolicyRow(str(title), values, True, code=reading == "code"))
        elif path in DAILY_RANGE and daily[0] and daily[1] and len(daily[0] + daily[1]) == 2:
            if path == DAILY_RANGE[0]:
                rows.append(PolicyRow(gettext("Daily window"), (_daily(*daily),), True))
        else:
            values = tuple(PolicyValue(text) for text in texts)
            rows.append(PolicyRow(path or gettext("Value"), values, False))
    return tuple(rows)


def _daily(start: list[str], end: list[str], zone: list[str] | None) -> PolicyValue:
    window = f"{start[0]}–{end[0]}"
    return PolicyValue(f"{window} ({zone[0]})" if zone else window)


@dataclass(frozen=True)
class StatusCount:
    """A task status on the job page: its count, its share, and the link to its tasks."""

    status: str
    label: str
    count: int
    percent: float
    url: str
    current: bool


@dataclass(frozen=True)
class BarSegment:
    """A status's part of the proportion bar, as SVG coordinates in percent (no inline style)."""

    status: str
    x: str
    width: str


@dataclass
class TaskListPage(Paged):
    fetched: Fetched[Page[TaskInfo]]
    query: QueryDict

    @property
    def page(self) -> Page[TaskInfo]:
        return self.fetched.value


@dataclass
class JobPage:
    """A job, its task counts by status and the shown page of its tasks (`status`: the status
    filtered by, "" for every task)."""

    data: JobTasks
    query: QueryDict
    language: str
    status: str = ""

    @property
    def job(self) -> JobInfo:
        return self.data.job.value

    @property
    def fetched(self) -> Fetched[JobInfo]:
        return self.data.job

    @cached_property
    def name(self) -> str | None:
        return shown_name(self.job.name, self.language)

    @property
    def title(self) -> str:
        return self.name or self.job.job_id

    @property
    def timeout(self) -> str | None:
        seconds = self.job.upgrade_timeout
        return None if seconds is None else duration(seconds)

    @cached_property
    def policies(self) -> list[PolicySection]:
        titles = {
            "upgrade_scope": _("Upgrade scope"),
            "retry_policy": _("Retry policy"),
            "schedule_policy": _("Schedule policy"),
        }
        return [
            PolicySection(title, policy_rows(kind, policy), policy.truncated)
            for kind, title in titles.items()
            for policy in [getattr(self.job, kind)]
        ]

    def url_for_status(self, status: str) -> str:
        """The job's tasks in that status ("" for all), from their first page."""
        query = self.query.copy()
        query.pop("page", None)
        query.pop("status", None)
        if status:
            query["status"] = status
        return "?" + query.urlencode() if query else "?"

    @cached_property
    def status_counts(self) -> list[StatusCount]:
        counts = self.data.counts.value
        if counts is None:
            return []
        return [
            StatusCount(
                status,
                str(TASK_STATUS_LABELS[status]),
                counts.by_status[status],
                counts.percent(status),
                self.url_for_status(status),
                status == self.status,
            )
            for status in TASK_STATUSES
        ]

    @cached_property
    def bar(self) -> list[BarSegment]:
        segments, start = [], 0.0
        for count in self.status_counts:
            if count.count:
                segments.append(BarSegment(count.status, f"{start:.3f}", f"{count.percent:.3f}"))
                start += count.percent
        return segments

    @property
    def all_tasks_url(self) -> str:
        return self.url_for_status("")

    @cached_property
    def tasks(self) -> TaskListPage | None:
        fetched = self.data.tasks.fetched
        return None if fetched is None else TaskListPage(fetched, self.query)


@dataclass
class JobListPage(Paged):
    """One page of an org's OTA jobs, newest first as EnOS orders them."""

    fetched: Fetched[Page[JobInfo]]
    query: QueryDict

    @property
    def page(self) -> Page[JobInfo]:
        return self.fetched.value


@dataclass
class DeviceListPage(Paged):
    """The devices of the firmware's product that run its version, and the page's links."""

    data: DevicesOnVersion
    query: QueryDict
    language: str

    @property
    def firmware(self) -> FirmwareInfo:
        return self.data.firmware.value

    @property
    def title(self) -> str:
        return shown_name(self.firmware.name, self.language) or self.firmware.firmware_id

    @property
    def page(self) -> Page[DeviceFirmware] | None:
        devices = self.data.devices
        return None if devices is None or devices.value is None else devices.value
