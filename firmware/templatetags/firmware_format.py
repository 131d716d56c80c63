import functools
import re
from datetime import UTC, datetime

from django import template
from django.utils.formats import date_format, get_format, number_format
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone, get_current_timezone_name, localtime
from django.utils.translation import get_language

from firmware.enos.types import FirmwareInfo, I18nString
from firmware.forms import FIRMWARE_ID_PATTERN, JOB_ID_PATTERN
from firmware.languages import shown_name
from firmware.presentation import (
    JOB_STATUSES,
    JOB_TYPES,
    TASK_STATUSES,
    UPGRADE_POLICIES,
    display_name,
    time_ago,
)
from firmware.time_zones import utc_offset, zone_label

register = template.Library()

BINARY_UNITS = ["B", "KiB", "MiB", "GiB", "TiB"]
ISOLATE_INITIATORS = frozenset("\u2066\u2067\u2068")  # LEFT-TO-RIGHT, RIGHT-TO-LEFT, FIRST STRONG
FIRST_STRONG_ISOLATE = "\u2068"
POP_DIRECTIONAL_ISOLATE = "\u2069"
# Formatted moments remembered per process (each a few hundred bytes).
TIME_ELEMENTS_KEPT = 4096


@register.filter
def binary_size(size: int | None) -> str:
    """52428800 -> "50.0 MiB", in the active language's number format; "" for an unknown size
    (the template says it is unknown)."""
    if size is None:
        return ""
    value = float(size)
    for unit in BINARY_UNITS:
        if value < 1024 or unit == BINARY_UNITS[-1]:
            break
        value /= 1024
    if unit == "B":
        return f"{number_format(size)} B"
    return f"{number_format(value, decimal_pos=1)} {unit}"


@register.filter
def grouped(number: int | None) -> str:
    """An exact count with the active language's thousands separator: 52428800 -> "52,428,800"."""
    return "" if number is None else number_format(number, force_grouping=True)


@register.filter
def local_time(moment: datetime | None) -> SafeString | str:
    """A moment as every page shows one: in the viewer's time zone (firmware/time_zones.py) and
    the active language's format, to the minute, with the zone's abbreviation; the zone's name
    and offset in its title, the exact UTC moment in `datetime`. "" for None."""
    if moment is None:
        return ""
    return _time_element(
        moment, get_current_timezone(), get_language(), get_format("DATETIME_FORMAT")
    )


@functools.lru_cache(maxsize=TIME_ELEMENTS_KEPT)
def _time_element(moment: datetime, *shown_in: object) -> SafeString:
    """`local_time`'s element in the active zone, language and format, which `shown_in` names
    for the memo: lists show the same moments to viewer after viewer, and formatting one took
    more than all the rest of its row."""
    local = localtime(moment)
    zone = get_current_timezone_name()
    return format_html(
        '<time datetime="{}" data-zone="{}" title="{} ({})">{} {}</time>',
        moment.astimezone(UTC).isoformat(),
        zone,
        zone,
        utc_offset(local),
        date_format(local, "DATETIME_FORMAT"),
        zone_label(local),
    )


@register.filter
def age(moment: datetime | None) -> str:
    """How long ago a moment was: "just now", "5 minutes ago". "" for None."""
    return "" if moment is None else time_ago(moment)


@register.filter
def routable(firmware_id: str) -> bool:
    """Whether a firmware id EnOS sent can be part of a page's URL (some ids cannot be linked)."""
    return bool(FIRMWARE_ID_PATTERN.match(firmware_id))


@register.filter
def firmware_name(firmware: FirmwareInfo) -> str:
    """The firmware's name in the active language (or any name, or its id)."""
    return display_name(firmware, get_language()) or firmware.firmware_id


@register.filter
def job_routable(job_id: str) -> bool:
    """Whether a job id EnOS sent can be part of a page's URL."""
    return bool(JOB_ID_PATTERN.match(job_id))


@register.filter
def in_language(text: I18nString) -> str:
    """An EnOS StringI18n (a job's name, say) in the active language, with a firmware name's
    fallback; "" when it holds no text at all."""
    return shown_name(text, get_language()) or ""


@register.filter
def job_type(value: str | None) -> str:
    return _label(JOB_TYPES, value)


@register.filter
def job_status(value: str | None) -> str:
    return _label(JOB_STATUSES, value)


@register.filter
def upgrade_policy(value: str | None) -> str:
    return _label(UPGRADE_POLICIES, value)


@register.filter
def task_status(value: str | None) -> str:
    return _label(TASK_STATUSES, value)


def _label(labels: dict[str, str], value: str | None) -> str:
    """What the pages call an EnOS value; one they do not know, as EnOS sent it."""
    return "" if value is None else str(labels.get(value, value))


@register.filter
def bdi(text: object) -> SafeString | str:
    """Text EnOS sent, escaped, in a <bdi>: right-to-left text or bidi controls (U+202E) in it
    cannot reorder the page around it. "" for None or "", so `|default` still applies."""
    if text is None or text == "":
        return ""
    # Escaped first; dropping PDI characters cannot make markup.
    return mark_safe(f"<bdi>{_balanced(conditional_escape(text))}</bdi>")  # noqa: S308


@register.filter(is_safe=True)
def isolate(text: object) -> str:
    """Text EnOS sent between FIRST STRONG ISOLATE and POP DIRECTIONAL ISOLATE, for where no
    markup may go (<title>). "" for None or ""."""
    if text is None or text == "":
        return ""
    return f"{FIRST_STRONG_ISOLATE}{_balanced(str(text))}{POP_DIRECTIONAL_ISOLATE}"


def _balanced(text: str) -> str:
    """The text without the PDIs that close no isolate of its own: one would close ours early."""
    if POP_DIRECTIONAL_ISOLATE not in text:
        return text
    kept, open_isolates = [], 0
    for char in text:
        if char in ISOLATE_INITIATORS:
            open_isolates += 1
        elif char == POP_DIRECTIONAL_ISOLATE:
            if not open_isolates:
                continue
            open_isolates -= 1
        kept.append(char)
    return "".join(kept)


@register.filter(is_safe=True)
def breakable_at_slashes(text: object) -> SafeString | str:
    """A file identifier (`enos-connect://2325a9b338800000.zip`), escaped, with a line break
    opportunity after each run of slashes: a narrow screen wraps it there rather than at the
    hyphen of `enos-connect`. "" for None or ""."""
    if text is None or text == "":
        return ""
    parts = re.split(r"(?<=/)(?=[^/])", str(text))
    return mark_safe("<wbr>".join(conditional_escape(part) for part in parts))  # noqa: S308
