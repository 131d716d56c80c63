"""What the API answers, in EnOS's own field names (camelCase), from the typed EnOS values: i18n
names as EnOS sends them plus the name shown in the caller's language, times in ISO 8601 UTC,
sizes in bytes. Every answer says which EnOS call it came from, when, and whether it is a stale
copy kept from before an outage."""

from datetime import UTC, datetime

from ninja import Schema

from firmware.enos.types import DeviceFirmware, FirmwareInfo, I18nString, JobInfo, Policy, TaskInfo
from firmware.failures import Failure
from firmware.languages import shown_name
from firmware.models import Org
from firmware.search import TASK_STATUSES


class Provenance(Schema):
    requestId: str | None = None  # the EnOS call's; null for what fwportal knows itself
    fetchedAt: datetime
    stale: bool = False


class I18nOut(Schema):
    defaultValue: str | None = None
    i18nValue: dict[str, str] = {}


class OrgOut(Schema):
    slug: str
    name: str
    orgId: str


class FirmwareOut(Schema):
    orgId: str | None
    firmwareId: str
    name: I18nOut
    displayName: str | None  # the name in the caller's language (Accept-Language)
    version: str | None
    desc: str | None
    descTruncated: bool
    productKey: str | None
    signMethod: str | None
    sign: str | None
    fileUrl: str | None
    fileSize: int | None  # bytes
    enableVerification: bool | None
    isVerified: bool | None
    createTime: datetime | None
    firmwareTags: dict[str, str]
    maxAllowedForVerification: int | None
    minSuccessForVerified: int | None


class JobOut(Schema):
    orgId: str | None
    jobId: str
    name: I18nOut
    displayName: str | None
    firmwareId: str | None
    firmwareVersion: str | None
    firmwareName: I18nOut
    productKey: str | None
    type: str | None
    status: str | None
    upgradePolicy: str | None
    enableUpgradeRequest: bool | None
    upgradeTimeout: int | None  # seconds
    maximumConcurrency: int | None
    # A policy's leaves by path ("dailyTimeRange.startTime", "obj[0]"): its shape varies.
    upgradeScope: dict[str, str]
    retryPolicy: dict[str, str]
    schedulePolicy: dict[str, str]
    createTime: datetime | None


class TaskOut(Schema):
    taskId: str
    orgId: str | None
    jobId: str | None
    assetId: str | None
    productKey: str | None
    deviceKey: str | None
    fromVersion: str | None
    toVersion: str | None
    status: str | None
    progress: int | None  # percent; negative when the task failed, as EnOS sends it
    desc: str | None
    updateTime: datetime | None


class DeviceOut(Schema):
    deviceKey: str
    orgId: str | None
    assetId: str | None
    productKey: str | None
    firmwareVersion: str | None
    isUpgrading: bool | None


class OrgList(Provenance):
    data: list[OrgOut]


class OneFirmware(Provenance):
    org: OrgOut
    data: FirmwareOut


class PageInfo(Provenance):
    pageNo: int
    pageSize: int
    totalSize: int


class FirmwarePage(PageInfo):
    org: OrgOut
    data: list[FirmwareOut]


class TaskCountsOut(Schema):
    init: int
    published: int
    upgrading: int
    succeeded: int
    failed: int
    total: int


class FailureOut(Schema):
    """What kept one part of an answer away (the rest of it came)."""

    status: int
    title: str
    code: int | None
    requestId: str | None


class JobWithCounts(JobOut):
    taskCounts: TaskCountsOut | None
    taskCountsProblem: FailureOut | None


class OneJob(Provenance):
    org: OrgOut
    data: JobWithCounts


class JobPage(PageInfo):
    org: OrgOut
    data: list[JobOut]


class TaskPage(PageInfo):
    org: OrgOut
    data: list[TaskOut]


class DevicePage(PageInfo):
    org: OrgOut
    productKey: str
    firmwareVersion: str
    data: list[DeviceOut]


class FoundIn(Provenance):
    org: OrgOut
    data: FirmwareOut


class Unanswered(FailureOut):
    org: OrgOut


class FindResult(Provenance):
    firmwareId: str
    asked: int  # how many orgs were asked
    matches: list[FoundIn]
    unanswered: list[Unanswered]  # orgs whose EnOS failed to answer


def utc(moment: datetime | None) -> datetime | None:
    return None if moment is None else moment.astimezone(UTC)


def i18n(text: I18nString) -> dict:
    return {"defaultValue": text.default, "i18nValue": dict(text.translations)}


def org_out(org: Org) -> dict:
    return {"slug": org.slug, "name": org.name, "orgId": org.org_id}


def firmware_out(firmware: FirmwareInfo, language: str) -> dict:
    return {
        "orgId": firmware.org_id,
        "firmwareId": firmware.firmware_id,
        "name": i18n(firmware.name),
        "displayName": shown_name(firmware.name, language),
        "version": firmware.version,
        "desc": firmware.description,
        "descTruncated": firmware.description_truncated,
        "productKey": firmware.product_key,
        "signMethod": firmware.sign_method,
        "sign": firmware.sign,
        "fileUrl": firmware.file_url,
        "fileSize": firmware.file_size,
        "enableVerification": firmware.enable_verification,
        "isVerified": firmware.is_verified,
        "createTime": utc(firmware.created_at),
        "firmwareTags": dict(firmware.tags),
        "maxAllowedForVerification": firmware.max_allowed_for_verification,
        "minSuccessForVerified": firmware.min_success_for_verified,
    }


def _policy(policy: Policy) -> dict[str, str]:
    return dict(policy.entries)


def job_out(job: JobInfo, language: str) -> dict:
    return {
        "orgId": job.org_id,
        "jobId": job.job_id,
        "name": i18n(job.name),
        "displayName": shown_name(job.name, language),
        "firmwareId": job.firmware_id,
        "firmwareVersion": job.firmware_version,
        "firmwareName": i18n(job.firmware_name),
        "productKey": job.product_key,
        "type": job.type,
        "status": job.status,
        "upgradePolicy": job.upgrade_policy,
        "enableUpgradeRequest": job.enable_upgrade_request,
        "upgradeTimeout": job.upgrade_timeout,
        "maximumConcurrency": job.maximum_concurrency,
        "upgradeScope": _policy(job.upgrade_scope),
        "retryPolicy": _policy(job.retry_policy),
        "schedulePolicy": _policy(job.schedule_policy),
        "createTime": utc(job.created_at),
    }


def task_counts_out(by_status: dict[str, int]) -> dict:
    return {
        **{status: by_status[status] for status in TASK_STATUSES},
        "total": sum(by_status.values()),
    }


def failure_out(failure: Failure) -> dict:
    return {
        "status": failure.status,
        "title": str(failure.kind.title),
        "code": failure.code,
        "requestId": failure.request_id,
    }


def task_out(task: TaskInfo) -> dict:
    return {
        "taskId": task.task_id,
        "orgId": task.org_id,
        "jobId": task.job_id,
        "assetId": task.asset_id,
        "productKey": task.product_key,
        "deviceKey": task.device_key,
        "fromVersion": task.from_version,
        "toVersion": task.to_version,
        "status": task.status,
        "progress": task.progress,
        "desc": task.description,
        "updateTime": utc(task.updated_at),
    }


def device_out(device: DeviceFirmware) -> dict:
    return {
        "deviceKey": device.device_key,
        "orgId": device.org_id,
        "assetId": device.asset_id,
        "productKey": device.product_key,
        "firmwareVersion": device.firmware_version,
        "isUpgrading": device.is_upgrading,
    }
