"""The API's URLs: ninja's, each answering for itself (never the login redirect), and every other
path or method under /api/ answered with problem details instead of an HTML page."""

import functools
from collections.abc import Callable

from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import URLPattern, URLResolver, include, path, re_path
from django.views.decorators.cache import never_cache

from firmware.api import problems
from firmware.api.endpoints import api


def _answering_in_problems(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Ninja's own error answers (405 for another method, 404 for its root) as problem details
    too."""

    @functools.wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            answer = view(request, *args, **kwargs)
        except Http404:
            return no_such_endpoint(request)
        if answer.status_code == 405:
            allowed = answer.get("Allow", "GET")
            answer = problems.response(405, f"This API only reads: use {allowed}.")
            answer["Allow"] = allowed
        return answer

    return login_not_required(wrapped)


def _patterns() -> list[URLPattern | URLResolver]:
    patterns, _app, _namespace = api.urls
    return [
        URLPattern(p.pattern, _answering_in_problems(p.callback), p.default_args, p.name)
        for p in patterns
    ]


@login_not_required
@never_cache
def no_such_endpoint(request: HttpRequest, rest: str = "") -> HttpResponse:
    return problems.response(404, "No such API endpoint; see /api/v1/docs.")


urlpatterns = [
    path("v1/", include((_patterns(), "ninja"), namespace="api-v1")),
    re_path(r"^(?P<rest>.*)$", no_such_endpoint),
]
