"""/metrics for Prometheus, to a scraper holding METRICS_TOKEN or at an address of
METRICS_ALLOWED_IPS (404 when neither is set, 403 to anyone else; never a login page), and the
middleware that counts every HTTP request by view and status."""

import hmac
import ipaddress
import os
from collections.abc import Callable

from django.conf import settings
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse, HttpResponseForbidden, HttpResponseNotFound
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    generate_latest,
    multiprocess,
)

from firmware.addresses import client_address
from firmware.metrics import HTTP_REQUESTS

UNRESOLVED = "<unresolved>"  # a URL no view answers: one label, whatever was asked


def _allowed(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    if token:
        scheme, _, given = request.headers.get("Authorization", "").partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.encode()
        ):
            return True
    address = client_address(request)
    if not address or not settings.METRICS_ALLOWED_IPS:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in settings.METRICS_ALLOWED_IPS)


@login_not_required
@require_GET
@never_cache
def metrics(request: HttpRequest) -> HttpResponse:
    if not settings.METRICS_TOKEN and not settings.METRICS_ALLOWED_IPS:
        return HttpResponseNotFound("metrics are off: set METRICS_TOKEN or METRICS_ALLOWED_IPS")
    if not _allowed(request):
        return HttpResponseForbidden("a bearer token or an allowed address is needed")
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        # Every gunicorn worker's counts, dead ones' included, added up.
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = REGISTRY
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class RequestMetricsMiddleware:
    """Counts each answered request by its view's name and its status code."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        view = match.view_name if match is not None else UNRESOLVED
        HTTP_REQUESTS.labels(view, str(response.status_code)).inc()
        return response
