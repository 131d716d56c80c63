"""A failure as a page: its status, its wording (firmware/failures.py) and the EnOS requestId."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.models import Org


def enos_error_response(
    request: HttpRequest,
    org: Org,
    exc: EnosError,
    *,
    firmware_id: str | None = None,
    job_id: str | None = None,
) -> HttpResponse:
    """The page for a failure of what a page is about: the firmware or job it names, if any."""
    failure = describe(exc)
    context = {
        "org": org,
        "firmware_id": firmware_id,
        "job_id": job_id,
        "failure": failure,
        "advice": failure.advice_for(org.name),
    }
    response = render(request, "firmware/enos_error.html", context, status=failure.status)
    if failure.retry_after is not None:
        response["Retry-After"] = str(failure.retry_after)
    return response
