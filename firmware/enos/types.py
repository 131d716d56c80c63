"""FirmwareInfo, JobInfo, TaskInfo, DeviceFirmware and friends, parsed from EnOS JSON: any field
may be missing or null (None), but a value that is there must make sense, or the answer is a
BadResponse naming the field. Every text is cleaned of what no page or database can hold and
capped in size, so one answer cannot bloat a worker."""

import math
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Generic, TypeVar

from firmware.enos.errors import BadResponse

TEXT_CAP = 1024  # names, versions, checksums, tags, file identifiers: characters
DESCRIPTION_CAP = 64 * 1024
ID_CAP = 256
MAX_TRANSLATIONS = 50
MAX_TAGS = 200
FILE_SIZE_RANGE = (0, 1024**5 - 1)  # a pebibyte or more is no firmware file
COUNT_RANGE = (0, 2**31 - 1)  # EnOS keeps counts and thresholds in 32-bit integers
MILLIS_RANGE = (0, 253402300799999)  # up to the end of year 9999
PROGRESS_RANGE = (-(2**31), 100)  # percent; EnOS marks a failed task with a negative number
SECONDS_RANGE = (0, 2**63 - 1)  # a Java long
MAX_POLICY_ENTRIES = 100
MAX_POLICY_DEPTH = 6
LOCALE_PATTERN = re.compile(r"[A-Za-z]{2,8}([_-][A-Za-z0-9]{1,8}){0,3}")
# NUL (PostgreSQL refuses it in text) and the other C0 controls but tab and newlines.
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_SURROGATES = re.compile(r"[\ud800-\udfff]")


def clean_text(value: str) -> str:
    """Text any page, log or database can hold: no NUL or control characters, no lone
    surrogates (which cannot be encoded as UTF-8)."""
    return _SURROGATES.sub("\ufffd", _CONTROLS.sub("", value))


class Fields:
    """Reads one JSON object from EnOS; `what` names it in errors ("FirmwareInfo")."""

    def __init__(self, data: Any, what: str, request_id: str | None = None):
        if not isinstance(data, dict):
            raise BadResponse(f"{what} is not a JSON object", request_id=request_id)
        self.data = data
        self.what = what
        self.request_id = request_id

    def bad(self, name: str, why: str) -> BadResponse:
        return BadResponse(f"{self.what} field {name} {why}", request_id=self.request_id)

    def text(self, name: str, cap: int = TEXT_CAP) -> str | None:
        value, _truncated = self.long_text(name, cap)
        return value

    def long_text(self, name: str, cap: int) -> tuple[str | None, bool]:
        """The text and whether it was cut at `cap` characters."""
        value = self.data.get(name)
        if value is None:
            return None, False
        text = _scalar_text(value)
        if text is None:
            raise self.bad(name, "is not text")
        text = clean_text(text)
        return text[:cap], len(text) > cap

    def identifier(self, name: str) -> str:
        value = self.text(name, ID_CAP + 1)
        if not value:
            raise self.bad(name, "is missing")
        if len(value) > ID_CAP:
            raise self.bad(name, f"is longer than {ID_CAP} characters")
        return value

    def integer(self, name: str, bounds: tuple[int, int] = COUNT_RANGE) -> int | None:
        value = self.data.get(name)
        if value is None or value == "":
            return None
        return bounded_int(value, f"{self.what} field {name}", bounds, self.request_id)

    def boolean(self, name: str) -> bool | None:
        value = self.data.get(name)
        if value is None or isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise self.bad(name, "is not true or false")

    def millis(self, name: str) -> datetime | None:
        millis = self.integer(name, MILLIS_RANGE)
        return None if millis is None else datetime.fromtimestamp(millis / 1000, tz=UTC)

    def i18n(self, name: str) -> "I18nString":
        value = self.data.get(name)
        if value is None or isinstance(value, str):
            return I18nString(default=clean_text(value)[:TEXT_CAP] or None if value else None)
        names = Fields(value, f"{self.what} field {name}", self.request_id)
        translations = names.data.get("i18nValue")
        if translations is not None and not isinstance(translations, dict):
            raise names.bad("i18nValue", "is not a JSON object")
        return I18nString(
            default=names.text("defaultValue") or None,
            translations=_text_map(translations or {}, MAX_TRANSLATIONS, names, "i18nValue"),
        )

    def policy(self, name: str) -> "Policy":
        return Policy.from_api(self.data.get(name))

    def text_map(self, name: str, limit: int) -> dict[str, str]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict):
            raise self.bad(name, "is not a JSON object")
        return _text_map(value, limit, self, name)


def _scalar_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) or (isinstance(value, float) and math.isfinite(value)):
        return str(value)
    return None


def _text_map(value: dict, limit: int, fields: Fields, name: str) -> dict[str, str]:
    """A map of texts (tags, translations): scalars as text, null as "", at most `limit`."""
    result: dict[str, str] = {}
    for key, item in list(value.items())[:limit]:
        text = "" if item is None else _scalar_text(item)
        if text is None:
            raise fields.bad(name, f"holds a value for {clean_text(key)[:40]!r} that is not text")
        result[clean_text(key)[:TEXT_CAP]] = clean_text(text)[:TEXT_CAP]
    return result


def bounded_int(value: Any, what: str, bounds: tuple[int, int], request_id: str | None) -> int:
    """An integer within `bounds` from a JSON number or a numeric string, else BadResponse."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif (isinstance(value, float) and math.isfinite(value) and value.is_integer()) or (
        isinstance(value, str) and re.fullmatch(r"\s*-?[0-9]{1,19}\s*", value)
    ):
        number = int(value)
    if number is None:
        raise BadResponse(f"{what} is not a whole number", request_id=request_id)
    low, high = bounds
    if not low <= number <= high:
        raise BadResponse(f"{what} is out of range ({low}..{high})", request_id=request_id)
    return number


@dataclass(frozen=True)
class I18nString:
    """EnOS StringI18n: a default value and translations keyed by EnOS locale (`zh_CN`)."""

    default: str | None = None
    translations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Any) -> "I18nString":
        return Fields({"name": data}, "StringI18n").i18n("name")

    def for_locale(self, locale: str) -> str | None:
        """The value for an EnOS locale id (`zh_CN`): that locale, the same language in another
        region, or the default value."""
        if locale in self.translations:
            return self.translations[locale]
        language = locale.split("_")[0].lower()
        for key in sorted(self.translations):
            if key.replace("-", "_").split("_")[0].lower() == language:
                return self.translations[key]
        return self.default

    def __bool__(self) -> bool:
        return bool(self.default or self.translations)


@dataclass(frozen=True)
class FirmwareInfo:
    """One OTA firmware file as EnOS describes it; `request_id` names the call that delivered it."""

    org_id: str | None
    firmware_id: str
    name: I18nString
    version: str | None = None
    description: str | None = None
    product_key: str | None = None
    sign_method: str | None = None
    sign: str | None = None
    file_url: str | None = None
    file_size: int | None = None
    enable_verification: bool | None = None
    is_verified: bool | None = None
    created_at: datetime | None = None
    tags: dict[str, str] = field(default_factory=dict)
    max_allowed_for_verification: int | None = None
    min_success_for_verified: int | None = None
    request_id: str | None = None
    description_truncated: bool = False

    @classmethod
    def from_api(cls, data: Any, *, request_id: str | None = None) -> "FirmwareInfo":
        fields = Fields(data, "FirmwareInfo", request_id)
        description, truncated = fields.long_text("desc", DESCRIPTION_CAP)
        sign_method = fields.text("signMethod")
        return cls(
            org_id=fields.text("orgId"),
            firmware_id=fields.identifier("firmwareId"),
            name=fields.i18n("name"),
            version=fields.text("version"),
            description=description,
            description_truncated=truncated,
            product_key=fields.text("productKey") or None,
            sign_method=sign_method.lower() if sign_method else None,
            sign=fields.text("sign"),
            file_url=fields.text("fileUrl"),
            file_size=fields.integer("fileSize", FILE_SIZE_RANGE),
            enable_verification=fields.boolean("enableVerification"),
            is_verified=fields.boolean("isVerified"),
            created_at=fields.millis("createTime"),
            tags=fields.text_map("firmwareTags", MAX_TAGS),
            max_allowed_for_verification=fields.integer("maxAllowedForVerification"),
            min_success_for_verified=fields.integer("minSuccessForVerified"),
            request_id=request_id,
        )


@dataclass(frozen=True)
class Policy:
    """An upgradeScope, retryPolicy or schedulePolicy of a job. Its shape differs between EnOS
    versions, so it is kept as what it holds: (path, text) entries in the order sent, a path
    such as ``obj[0]`` or ``dailyTimeRange.startTime`` (empty for a bare value), at most
    MAX_POLICY_ENTRIES of them. Reading one never fails, whatever its shape."""

    entries: tuple[tuple[str, str], ...] = ()
    truncated: bool = False  # more entries (or deeper nesting) than were kept

    @classmethod
    def from_api(cls, value: Any) -> "Policy":
        entries: list[tuple[str, str]] = []
        truncated = _flatten(value, "", 0, entries)
        return cls(tuple(entries), truncated)

    def get(self, path: str) -> str | None:
        """The text at `path` (``type``, ``obj[0]``), None when the policy does not hold it."""
        return next((text for key, text in self.entries if key == path), None)

    def __bool__(self) -> bool:
        return bool(self.entries)


def _flatten(value: Any, path: str, depth: int, entries: list[tuple[str, str]]) -> bool:
    """Append the leaves of `value` under `path` (nulls and empty containers hold nothing);
    True when something was left out for want of room or depth."""
    if value is None:
        return False
    if not isinstance(value, dict | list):
        if len(entries) >= MAX_POLICY_ENTRIES:
            return True
        text = _scalar_text(value)
        entries.append((path, clean_text(text if text is not None else str(value))[:TEXT_CAP]))
        return False
    if depth >= MAX_POLICY_DEPTH:
        return bool(value)
    if isinstance(value, dict):
        named = ((clean_text(str(key))[:ID_CAP], item) for key, item in value.items())
        items = ((f"{path}.{key}" if path else key, item) for key, item in named)
    else:
        items = ((f"{path}[{i}]", item) for i, item in enumerate(value))
    truncated = False
    for key, item in items:
        if len(entries) >= MAX_POLICY_ENTRIES:
            return True
        truncated = _flatten(item, key, depth + 1, entries) or truncated
    return truncated


def _lowered(text: str | None) -> str | None:
    return text.lower() if text else None


@dataclass(frozen=True)
class JobInfo:
    """One OTA job: it verifies a firmware on a few devices (`type` "verify") or upgrades a fleet
    to it ("upgrade"). `product_key` is only sent for old firmware."""

    org_id: str | None
    job_id: str
    name: I18nString
    firmware_id: str | None = None
    firmware_version: str | None = None
    firmware_name: I18nString = field(default_factory=I18nString)
    product_key: str | None = None
    type: str | None = None  # "verify" or "upgrade", lowercased; another value is kept as sent
    status: str | None = None  # "started" or "stopped"
    upgrade_policy: str | None = None  # "snapshot" or "incremental"
    enable_upgrade_request: bool | None = None
    upgrade_timeout: int | None = None  # seconds a task may stay "upgrading"
    maximum_concurrency: int | None = None
    upgrade_scope: Policy = field(default_factory=Policy)
    retry_policy: Policy = field(default_factory=Policy)
    schedule_policy: Policy = field(default_factory=Policy)
    created_at: datetime | None = None
    request_id: str | None = None

    @classmethod
    def from_api(cls, data: Any, *, request_id: str | None = None) -> "JobInfo":
        fields = Fields(data, "JobInfo", request_id)
        return cls(
            org_id=fields.text("orgId"),
            job_id=fields.identifier("jobId"),
            name=fields.i18n("name"),
            firmware_id=fields.text("firmwareId", ID_CAP) or None,
            firmware_version=fields.text("firmwareVersion"),
            firmware_name=fields.i18n("firmwareName"),
            product_key=fields.text("productKey") or None,
            type=_lowered(fields.text("type")),
            status=_lowered(fields.text("status")),
            upgrade_policy=_lowered(fields.text("upgradePolicy")),
            enable_upgrade_request=fields.boolean("enableUpgradeRequest"),
            upgrade_timeout=fields.integer("upgradeTimeout", SECONDS_RANGE),
            maximum_concurrency=fields.integer("maximumConcurrency"),
            upgrade_scope=fields.policy("upgradeScope"),
            retry_policy=fields.policy("retryPolicy"),
            schedule_policy=fields.policy("schedulePolicy"),
            created_at=fields.millis("createTime"),
            request_id=request_id,
        )


@dataclass(frozen=True)
class TaskInfo:
    """One device's part in an OTA job. `progress` is a percentage, negative when the task
    failed (as EnOS sends it); `description` is EnOS's or the device's reason."""

    task_id: str
    org_id: str | None = None
    job_id: str | None = None
    asset_id: str | None = None
    product_key: str | None = None
    device_key: str | None = None
    from_version: str | None = None
    to_version: str | None = None
    status: str | None = None  # init, published, upgrading, succeeded or failed, lowercased
    progress: int | None = None
    description: str | None = None
    description_truncated: bool = False
    updated_at: datetime | None = None
    request_id: str | None = None

    @classmethod
    def from_api(cls, data: Any, *, request_id: str | None = None) -> "TaskInfo":
        fields = Fields(data, "TaskInfo", request_id)
        description, truncated = fields.long_text("desc", DESCRIPTION_CAP)
        return cls(
            task_id=fields.identifier("taskId"),
            org_id=fields.text("orgId"),
            job_id=fields.text("jobId", ID_CAP) or None,
            asset_id=fields.text("assetId", ID_CAP) or None,
            product_key=fields.text("productKey") or None,
            device_key=fields.text("deviceKey") or None,
            from_version=fields.text("fromVersion"),
            to_version=fields.text("toVersion"),
            status=_lowered(fields.text("status")),
            progress=fields.integer("progress", PROGRESS_RANGE),
            description=description,
            description_truncated=truncated,
            updated_at=fields.millis("updateTime"),
            request_id=request_id,
        )

    @property
    def failed(self) -> bool:
        """EnOS says so by the status or by a negative progress."""
        return self.status == "failed" or (self.progress is not None and self.progress < 0)

    @property
    def percent_done(self) -> int | None:
        """The progress as a percentage, None when unknown or when the task failed."""
        return None if self.progress is None or self.progress < 0 else self.progress


@dataclass(frozen=True)
class DeviceFirmware:
    """The firmware version one device runs, and whether an upgrade is under way on it."""

    device_key: str
    org_id: str | None = None
    asset_id: str | None = None
    product_key: str | None = None
    firmware_version: str | None = None
    is_upgrading: bool | None = None
    request_id: str | None = None

    @classmethod
    def from_api(cls, data: Any, *, request_id: str | None = None) -> "DeviceFirmware":
        fields = Fields(data, "DeviceFirmware", request_id)
        return cls(
            device_key=fields.identifier("deviceKey"),
            org_id=fields.text("orgId"),
            asset_id=fields.text("assetId", ID_CAP) or None,
            product_key=fields.text("productKey") or None,
            firmware_version=fields.text("firmwareVersion"),
            is_upgrading=fields.boolean("isUpgrading"),
            request_id=request_id,
        )


Item = TypeVar("Item")


@dataclass(frozen=True)
class Page(Generic[Item]):
    """One page of a search's results (FirmwareInfo, JobInfo, TaskInfo or DeviceFirmware);
    `total_size` counts the matches over all pages."""

    items: list[Item]
    page_no: int
    page_size: int
    total_size: int
    request_id: str | None = None

    @property
    def last_page(self) -> int:
        return max(1, math.ceil(self.total_size / self.page_size))

    @property
    def beyond_last_page(self) -> bool:
        """Asked for a page past the last (the list shrank, or a hand-made URL)."""
        return self.page_no > self.last_page

    @property
    def first_item(self) -> int:
        """The position of the page's first item in the whole result (1-based), 0 when empty."""
        return (self.page_no - 1) * self.page_size + 1 if self.items else 0

    @property
    def last_item(self) -> int:
        return self.first_item + len(self.items) - 1 if self.items else 0
