"""A failure as a page: its status, its wording (firmware/failures.py) and the EnOS requestId;
and the page of a failure of fwportal's own, with the request id its log lines carry."""

from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.csrf import requires_csrf_token

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


@requires_csrf_token
def server_error(request: HttpRequest) -> HttpResponse:
    """Django's 500 page, naming the request (fwportal/logs.py gives each its id, which every log
    line of the failure carries): an operator who quotes it lets an admin find what broke. Drawn
    from its template alone, as Django's is: no context processors, nothing that could fail
    again."""
    page = loader.get_template("500.html").render(
        {"request_id": getattr(request, "request_id", "")}
    )
    return HttpResponseServerError(page)
