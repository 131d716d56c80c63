"""Rendered pages kept per what they show, with the parts that change more often filled in.

A firmware page is the same for every request of one user that shows one EnOS answer in one
language and time zone, but for a few parts: when and by which call the answer was fetched, and
the CSRF token.
The page is rendered once with a marker in place of each such part and kept in the "pages" cache
(each process's memory). The parts are rendered into a copy of it, which is kept too for as long
as they stay the same (the same fetch); each request then only puts its CSRF token where its
marker is.
"""

import hashlib
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.core.cache import caches
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token
from django.template.loader import render_to_string
from django.utils.safestring import SafeString, mark_safe
from django.utils.timezone import get_current_timezone_name
from django.utils.translation import get_language

PAGE_SECONDS = 300
CSRF_IN_CONTEXT = "csrf_token"


# Unguessable, so nothing a page shows (a firmware description, say) can contain a marker; made
# per process, as the "pages" cache is kept in each process's memory.
_MARKER_NONCE = secrets.token_hex(16)


def marker(name: str) -> SafeString:
    """Stands for the part `name` in a cached page."""
    return mark_safe(f"fwportal-part-{name}-{_MARKER_NONCE}")  # noqa: S308 - no markup


@dataclass(frozen=True)
class Parts:
    """The parts of a page that change more often than the rest: each a template rendered with
    `context`; `shows` names all they depend on."""

    templates: Mapping[str, str]
    context: Mapping[str, object]
    shows: Sequence[object]


def render_page(
    request: HttpRequest,
    template_name: str,
    context: Mapping[str, object],
    *,
    shows: Sequence[object],
    parts: Parts,
) -> HttpResponse:
    """The template rendered with `context`, reusing what is cached for the same viewer,
    language, time zone and path: the page for the same `shows` (all it depends on besides its
    parts), and the page with its parts filled in for the same `parts.shows` too. The template puts
    `{{ parts.<name> }}` where each part goes; `{% csrf_token %}` works as usual."""
    markers = {name: marker(name) for name in (CSRF_IN_CONTEXT, *parts.templates)}
    cache = caches["pages"]
    cacheable = _cacheable(request)
    key = _key(request, template_name, shows)
    filled_key = f"{key}:{_digest(parts.shows)}"
    html = cache.get(filled_key) if cacheable else None
    if html is None:
        html = cache.get(key) if cacheable else None
        if html is None:
            html = render_to_string(
                template_name,
                {**context, CSRF_IN_CONTEXT: markers[CSRF_IN_CONTEXT], "parts": markers},
                request,
            )
            if cacheable:
                cache.set(key, html, PAGE_SECONDS)
        for name, part_template in parts.templates.items():
            html = html.replace(markers[name], render_to_string(part_template, parts.context))
        if cacheable:
            cache.set(filled_key, html, PAGE_SECONDS)
    return HttpResponse(html.replace(markers[CSRF_IN_CONTEXT], get_token(request)))


def _cacheable(request: HttpRequest) -> bool:
    """Pages with a query string or a message to show are rendered afresh: the language form
    sends the full path back, and a message is shown once."""
    return not request.META.get("QUERY_STRING") and not len(get_messages(request))


def _key(request: HttpRequest, template_name: str, shows: Sequence[object]) -> str:
    user = request.user
    viewer = (user.pk, user.get_username(), user.is_staff)
    zone = get_current_timezone_name()
    return "page:" + _digest((template_name, get_language(), zone, viewer, request.path, *shows))


def _digest(values: Sequence[object]) -> str:
    return hashlib.sha256(repr(tuple(values)).encode()).hexdigest()
