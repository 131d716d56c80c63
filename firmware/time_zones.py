"""The viewer's time zone: the one they chose, else their browser's, else settings.TIME_ZONE.

Both come in cookies: the choice is set by the time zone page (`firmware.views.time_zone`), the
browser's zone by the page's script (static/js/fwportal.js), which reads it from `Intl`. Every
request is handled in the viewer's zone, so templates render times in it with `local_time`.
"""

import functools
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo, available_timezones

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

# Both also named in static/js/fwportal.js; neither is secret, and the script reads the first.
CHOSEN_COOKIE = "fwportal_time_zone"
BROWSER_COOKIE = "fwportal_browser_time_zone"
COOKIE_SECONDS = 365 * 24 * 3600
LONGEST_NAME = 64
# In the tz database's folder but no place's zone: the machine's own, and a placeholder.
NOT_ZONES = frozenset({"localtime", "Factory"})


class Source(StrEnum):
    CHOSEN = "chosen"
    BROWSER = "browser"
    SITE = "site"


@dataclass(frozen=True)
class ViewerZone:
    """The zone a request's times are shown in, and where it came from."""

    name: str
    source: Source

    @property
    def info(self) -> ZoneInfo:
        return ZoneInfo(self.name)


@functools.cache
def zone_names() -> frozenset[str]:
    """Every IANA zone name this machine knows (the system's tz database, else `tzdata`)."""
    return frozenset(available_timezones() - NOT_ZONES)


def is_zone(name: str | None) -> bool:
    return bool(name) and len(name) <= LONGEST_NAME and name in zone_names()


def viewer_zone(request: HttpRequest) -> ViewerZone:
    """The viewer's zone; a cookie naming no zone is ignored."""
    chosen = request.COOKIES.get(CHOSEN_COOKIE)
    if is_zone(chosen):
        return ViewerZone(chosen, Source.CHOSEN)
    browser = request.COOKIES.get(BROWSER_COOKIE)
    if is_zone(browser):
        return ViewerZone(browser, Source.BROWSER)
    return ViewerZone(settings.TIME_ZONE, Source.SITE)


def zone_label(moment: datetime) -> str:
    """The zone of an aware local moment as people read it: "JST", "CEST", "UTC", or its offset
    ("UTC+0545") where the tz database has no abbreviation for it."""
    name = moment.tzname() or ""
    if name[:1] in ("+", "-"):
        return f"UTC{name}"
    return name or utc_offset(moment)


def utc_offset(moment: datetime) -> str:
    """The offset of an aware local moment: "UTC+09:00", "UTC-03:30", "UTC+00:00"."""
    offset = moment.strftime("%z")
    return f"UTC{offset[:3]}:{offset[3:5]}"


def choose(response: HttpResponse, name: str | None) -> None:
    """Remembers the viewer's choice of zone on the response; None: use the browser's zone."""
    if name is None:
        response.delete_cookie(CHOSEN_COOKIE, samesite="Lax")
        return
    response.set_cookie(
        CHOSEN_COOKIE,
        name,
        max_age=COOKIE_SECONDS,
        secure=settings.SESSION_COOKIE_SECURE,
        samesite="Lax",
    )


class TimeZoneMiddleware:
    """Handles each request in the viewer's time zone (after LocaleMiddleware, like languages)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with timezone.override(viewer_zone(request).info):
            return self.get_response(request)
