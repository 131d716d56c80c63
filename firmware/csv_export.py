"""An org's filtered firmware list as CSV: every match, not one page, written row by row as EnOS's
search pages arrive (services.EveryFirmware), so a worker holds one page at a time whatever the
list's length. UTF-8 with a BOM (spreadsheets then read Chinese and Japanese names right), one
column per field in EnOS's names, one per UI language for names, and a last line saying so when
CSV_EXPORT_MAX cut the list short."""

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from datetime import UTC, datetime

from django.conf import settings

from firmware.enos.errors import EnosError
from firmware.enos.types import FirmwareInfo
from firmware.failures import describe

BOM = "\ufeff"
# A cell a spreadsheet would run as a formula (CSV injection) starts with one of these.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def _text(value: str | None) -> str:
    if not value:
        return ""
    return "'" + value if value.startswith(FORMULA_STARTS) else value


def iso_utc(moment: datetime | None) -> str:
    if moment is None:
        return ""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _flag(value: bool | None) -> str:
    return "" if value is None else ("true" if value else "false")


def _number(value: int | None) -> str:
    return "" if value is None else str(value)


def columns() -> list[tuple[str, Callable[[FirmwareInfo], str]]]:
    """(header, cell) per column, in the order written."""
    names = [("name.defaultValue", lambda firmware: _text(firmware.name.default))]
    for _code, _language, locale in settings.UI_LANGUAGES:
        names.append(
            (
                f"name.{locale}",
                lambda firmware, locale=locale: _text(firmware.name.translations.get(locale)),
            )
        )
    return [
        ("orgId", lambda firmware: _text(firmware.org_id)),
        ("firmwareId", lambda firmware: _text(firmware.firmware_id)),
        *names,
        ("version", lambda firmware: _text(firmware.version)),
        ("productKey", lambda firmware: _text(firmware.product_key)),
        ("fileSize", lambda firmware: _number(firmware.file_size)),
        ("signMethod", lambda firmware: _text(firmware.sign_method)),
        ("sign", lambda firmware: _text(firmware.sign)),
        ("fileUrl", lambda firmware: _text(firmware.file_url)),
        ("enableVerification", lambda firmware: _flag(firmware.enable_verification)),
        ("isVerified", lambda firmware: _flag(firmware.is_verified)),
        (
            "maxAllowedForVerification",
            lambda firmware: _number(firmware.max_allowed_for_verification),
        ),
        ("minSuccessForVerified", lambda firmware: _number(firmware.min_success_for_verified)),
        ("createTime", lambda firmware: iso_utc(firmware.created_at)),
        (
            "firmwareTags",
            lambda firmware: _text("; ".join(f"{k}={v}" for k, v in sorted(firmware.tags.items()))),
        ),
        ("desc", lambda firmware: _text(firmware.description)),
    ]


def rows(
    firmware: Iterable[FirmwareInfo], *, limited: Callable[[], tuple[bool, int | None]]
) -> Iterator[str]:
    """The CSV's lines, BOM first; `limited()` is asked after the last firmware: (cut short?,
    how many EnOS counted)."""
    table = columns()
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")

    def line(cells: list[str]) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(cells)
        return buffer.getvalue()

    yield BOM + line([header for header, _cell in table])
    try:
        for one in firmware:
            yield line([cell(one) for _header, cell in table])
    except EnosError as exc:
        # The status was sent with the first rows: the file itself says it is incomplete.
        failure = describe(exc)
        request_id = f" (requestId {failure.request_id})" if failure.request_id else ""
        yield line([f"# Incomplete: EnOS failed while listing: {failure.kind.title}{request_id}"])
        return
    cut, total = limited()
    if cut:
        limit = settings.CSV_EXPORT_MAX
        yield line([f"# Limited to the first {limit} of {total} firmware (CSV_EXPORT_MAX)"])
