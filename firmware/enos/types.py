"""FirmwareInfo and friends, parsed tolerantly from EnOS JSON (any field may be missing or null)."""

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from firmware.enos.errors import BadResponse


@dataclass(frozen=True)
class I18nString:
    """EnOS StringI18n: a default value and translations keyed by EnOS locale (`zh_CN`)."""

    default: str | None = None
    translations: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_api(cls, data: Any) -> "I18nString":
        if isinstance(data, str):
            return cls(default=data)
        if not isinstance(data, dict):
            return cls()
        default = data.get("defaultValue")
        values = data.get("i18nValue")
        translations = (
            {str(k): str(v) for k, v in values.items() if isinstance(v, str) and v}
            if isinstance(values, dict)
            else {}
        )
        return cls(
            default=str(default) if default not in (None, "") else None, translations=translations
        )

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


def _optional_int(value: Any) -> int | None:
    if isinstance(value, bool) or value in (None, ""):
        return None
    try:
        return int(str(value).strip())
    except ValueError:
        return None


def _optional_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    return None


def _optional_str(value: Any) -> str | None:
    return None if value is None else str(value)


def _datetime_from_millis(value: Any) -> datetime | None:
    millis = _optional_int(value)
    if millis is None:
        return None
    try:
        return datetime.fromtimestamp(millis / 1000, tz=UTC)
    except (OverflowError, OSError, ValueError):
        return None


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

    @classmethod
    def from_api(cls, data: Any, *, request_id: str | None = None) -> "FirmwareInfo":
        if not isinstance(data, dict):
            raise BadResponse("FirmwareInfo is not a JSON object", request_id=request_id)
        firmware_id = data.get("firmwareId")
        if firmware_id in (None, ""):
            raise BadResponse("FirmwareInfo has no firmwareId", request_id=request_id)
        tags = data.get("firmwareTags")
        sign_method = data.get("signMethod")
        return cls(
            org_id=_optional_str(data.get("orgId")),
            firmware_id=str(firmware_id),
            name=I18nString.from_api(data.get("name")),
            version=_optional_str(data.get("version")),
            description=_optional_str(data.get("desc")),
            product_key=_optional_str(data.get("productKey")) or None,
            sign_method=str(sign_method).lower() if sign_method else None,
            sign=_optional_str(data.get("sign")),
            file_url=_optional_str(data.get("fileUrl")),
            file_size=_optional_int(data.get("fileSize")),
            enable_verification=_optional_bool(data.get("enableVerification")),
            is_verified=_optional_bool(data.get("isVerified")),
            created_at=_datetime_from_millis(data.get("createTime")),
            tags={str(k): "" if v is None else str(v) for k, v in tags.items()}
            if isinstance(tags, dict)
            else {},
            max_allowed_for_verification=_optional_int(data.get("maxAllowedForVerification")),
            min_success_for_verified=_optional_int(data.get("minSuccessForVerified")),
            request_id=request_id,
        )


@dataclass(frozen=True)
class Page:
    """One page of Search Firmware File results."""

    items: list[FirmwareInfo]
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
