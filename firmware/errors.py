"""EnOS failures as pages: the right status, what happened, what to do, and the requestId."""

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from firmware.credentials import UndecryptableSecret
from firmware.enos.errors import (
    BadResponse,
    CredentialsRejected,
    EnosError,
    NotFound,
    Unreachable,
    UpstreamError,
    UpstreamTimeout,
)
from firmware.models import Org

logger = logging.getLogger(__name__)

# (kind used by the template, HTTP status) per failure.
FAILURES: dict[type[Exception], tuple[str, int]] = {
    NotFound: ("not_found", 404),
    CredentialsRejected: ("credentials", 502),
    UndecryptableSecret: ("undecryptable", 502),
    UpstreamError: ("upstream", 502),
    BadResponse: ("bad_response", 502),
    UpstreamTimeout: ("timeout", 504),
    Unreachable: ("unreachable", 503),
    EnosError: ("upstream", 502),  # last: any other EnOS failure
}


def failure_of(exc: Exception) -> tuple[str, int]:
    """The (kind, HTTP status) of a failure, found by class so subclasses are covered too."""
    return next(failure for cls, failure in FAILURES.items() if isinstance(exc, cls))


def enos_error_response(
    request: HttpRequest,
    org: Org,
    exc: EnosError | UndecryptableSecret,
    *,
    firmware_id: str | None = None,
) -> HttpResponse:
    kind, status = failure_of(exc)
    if isinstance(exc, UndecryptableSecret):
        logger.error("org=%s secret key cannot be decrypted with CREDENTIALS_KEYS", org.slug)
    context = {
        "org": org,
        "firmware_id": firmware_id,
        "kind": kind,
        "status": status,
        "code": getattr(exc, "code", None),
        "request_id": getattr(exc, "request_id", None),
        "detail": getattr(exc, "message", None),
    }
    return render(request, "firmware/enos_error.html", context, status=status)
