"""`/api/v1/`: one read-only endpoint per page, over the pages' services and access rule.

An org the caller may not see is as unknown as one that does not exist (404); bad parameters
are a 400 naming them; EnOS's failures keep the pages' statuses with EnOS's code and requestId.
"""

import itertools
import logging
from http import HTTPStatus
from typing import Literal

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import get_language
from ninja import NinjaAPI, Query, Swagger
from ninja.errors import AuthenticationError, HttpError, Throttled
from ninja.errors import ValidationError as NinjaValidationError

from firmware import csv_export, services
from firmware.access import get_visible_org, visible_orgs
from firmware.api import problems, schemas
from firmware.api.auth import BearerToken, PerCaller, Session
from firmware.devices import fetch_devices_page
from firmware.download_views import deliver
from firmware.downloads import FileMismatch
from firmware.enos.client import MAX_PAGE_SIZE
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.fan_out import Together
from firmware.find import find_in_orgs
from firmware.forms import (
    FIRMWARE_ID_PATTERN,
    DeviceFilterForm,
    FindFirmwareForm,
    FirmwareFilterForm,
    JobFilterForm,
    TaskFilterForm,
)
from firmware.models import Org
from firmware.presentation import FirmwareListPage
from firmware.search import JOB_STATUSES, JOB_TYPES, TASK_STATUSES
from firmware.signs import NotDownloadable
from firmware.standing import counts_of, part_of

logger = logging.getLogger(__name__)

ERRORS = frozenset({400, 401, 404, 429, 502, 503, 504})
Page = Query(None, ge=1, le=1_000_000, description="Page number, from 1.")
PageSize = Query(None, ge=1, le=MAX_PAGE_SIZE, description="Items per page (default 50).")

api = NinjaAPI(
    title="fwportal API",
    version="1",
    description=(
        "Read-only: what fwportal's pages show, for scripts. Authenticate with "
        "`Authorization: Bearer <token>` (make one on the API tokens page) or, from fwportal's "
        "own pages, the session. Field names are EnOS's; times are ISO 8601 UTC; sizes are "
        "bytes. Errors are RFC 9457 problem details."
    ),
    urls_namespace="api-v1",
    auth=[BearerToken(), Session()],
    throttle=[PerCaller()],
    # Swagger UI from the package's own static files (ninja is an installed app), no validator
    # badge fetched from elsewhere: all of it passes the site's Content-Security-Policy.
    docs=Swagger(settings={"validatorUrl": None, "tryItOutEnabled": True}),
)


# ---- errors: problem details, whatever went wrong -------------------------------------------


@api.exception_handler(problems.Problem)
def _problem(request: HttpRequest, exc: problems.Problem) -> HttpResponse:
    return problems.response(exc.status, exc.detail, **exc.members)


@api.exception_handler(EnosError)
def _enos_failed(request: HttpRequest, exc: EnosError) -> HttpResponse:
    org = getattr(request, "api_org", None)
    return problems.of_failure(describe(exc), org.name if org else "")


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problems.response(404, "No such resource, or not one you may see.")


@api.exception_handler(NinjaValidationError)
def _bad_parameters(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"parameter": str(error["loc"][-1]) if error.get("loc") else "", "detail": error["msg"]}
        for error in exc.errors
    ]
    return _bad_request(errors)


@api.exception_handler(AuthenticationError)
def _unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    detail = (
        "The token is unknown, revoked or expired."
        if request.headers.get("Authorization")
        else "Send a personal API token as 'Authorization: Bearer <token>'."
    )
    answer = problems.response(401, detail)
    answer["WWW-Authenticate"] = 'Bearer realm="fwportal"'
    return answer


@api.exception_handler(Throttled)
def _throttled(request: HttpRequest, exc: Throttled) -> HttpResponse:
    wait = int(exc.wait or settings.API_THROTTLE_SECONDS)
    return problems.response(
        429,
        f"At most {settings.API_THROTTLE_REQUESTS} requests per {settings.API_THROTTLE_SECONDS} "
        "seconds per token.",
        retry_after=wait,
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    return problems.response(exc.status_code, str(exc))


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("API request %s failed", request.path)
    return problems.response(500, "fwportal failed to answer; the error is logged.")


def _bad_request(errors: list[dict[str, str]]) -> HttpResponse:
    named = ", ".join(dict.fromkeys(error["parameter"] for error in errors))
    return problems.response(400, f"Invalid parameter: {named}.", errors=errors)


def _form_errors(form) -> problems.Problem:
    errors = [
        {"parameter": name, "detail": str(message)}
        for name, messages in form.errors.items()
        for message in messages
    ]
    named = ", ".join(form.errors)
    return problems.Problem(400, f"Invalid parameter: {named}.", errors=errors)


# ---- helpers ---------------------------------------------------------------------------------


def _org(request: HttpRequest, slug: str) -> Org:
    org = get_visible_org(request.user, slug)
    request.api_org = org  # names the org in an EnOS failure's problem details
    return org


def _checked_id(identifier: str) -> str:
    if not FIRMWARE_ID_PATTERN.match(identifier):
        raise Http404("malformed id")
    return identifier


def _provenance(fetched: services.Fetched) -> dict:
    return {
        "requestId": getattr(fetched.value, "request_id", None),
        "fetchedAt": fetched.fetched_at,
        "stale": fetched.stale,
    }


def _page(fetched: services.Fetched) -> dict:
    page = fetched.value
    return {
        **_provenance(fetched),
        "pageNo": page.page_no,
        "pageSize": page.page_size,
        "totalSize": page.total_size,
    }


def _paging(page: int | None, page_size: int | None) -> dict[str, int]:
    return {"page": page or 1, "page_size": page_size or services.DEFAULT_PAGE_SIZE}


def _wants_csv(request: HttpRequest, format: str | None) -> bool:
    if format:
        return format == "csv"
    accepted = request.headers.get("Accept", "")
    return "text/csv" in accepted and "application/json" not in accepted


# ---- endpoints -------------------------------------------------------------------------------


@api.get(
    "/orgs/",
    response={200: schemas.OrgList, ERRORS: problems.ProblemOut},
    tags=["orgs"],
    url_name="orgs",
)
def orgs(request: HttpRequest):
    """The organizations the caller may see."""
    return {
        "data": [schemas.org_out(org) for org in visible_orgs(request.user)],
        "requestId": None,
        "fetchedAt": timezone.now(),
        "stale": False,
    }


@api.get(
    "/orgs/{slug}/firmware/",
    response={200: schemas.FirmwarePage, ERRORS: problems.ProblemOut},
    tags=["firmware"],
    url_name="firmware_list",
    openapi_extra={
        "responses": {
            200: {
                "content": {
                    "text/csv": {
                        "schema": {"type": "string"},
                        "example": "\ufefforgId,firmwareId,name.defaultValue,…",
                    }
                }
            }
        }
    },
)
def firmware_list(
    request: HttpRequest,
    slug: str,
    q: str | None = Query(None, max_length=100, description="Name contains."),
    productKey: str | None = Query(None, description="One or several, comma-separated."),
    verified: Literal["true", "false", ""] | None = Query(None),
    page: int | None = Page,
    page_size: int | None = PageSize,
    sort: str | None = Query(None, description="Sorts this page only, as the page does."),
    format: Literal["json", "csv"] | None = Query(
        None, description="csv: every matching firmware (not one page) as CSV."
    ),
):
    """An org's firmware, filtered and paged as its list page (the same parameters); or, with
    `format=csv` or `Accept: text/csv`, every matching firmware as a CSV file."""
    org = _org(request, slug)
    form = FirmwareFilterForm(request.GET)
    if not form.is_valid():
        raise _form_errors(form)
    if _wants_csv(request, format):
        return _csv(org, form)
    fetched = services.search_firmware(org, form.filters(), **form.paging())
    language = get_language()
    listing = FirmwareListPage(
        fetched, request.GET, language=language, sort=form.cleaned_data["sort"]
    )
    return {
        **_page(fetched),
        "org": schemas.org_out(org),
        "data": [schemas.firmware_out(firmware, language) for firmware in listing.items],
    }


def _csv(org: Org, form: FirmwareFilterForm) -> StreamingHttpResponse:
    every = services.EveryFirmware(org, form.filters(), limit=settings.CSV_EXPORT_MAX)
    walk = iter(every)
    # The first page before the response starts: its failure is still a proper status.
    first = list(itertools.islice(walk, 1))
    rows = csv_export.rows(
        itertools.chain(first, walk), limited=lambda: (every.limited, every.total)
    )
    answer = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%MZ")
    answer["Content-Disposition"] = f'attachment; filename="{org.slug}-firmware-{stamp}.csv"'
    answer["Cache-Control"] = "no-store"
    return answer


@api.get(
    "/orgs/{slug}/firmware/{firmware_id}/",
    response={200: schemas.OneFirmware, ERRORS: problems.ProblemOut},
    tags=["firmware"],
    url_name="firmware_detail",
)
def firmware_detail(request: HttpRequest, slug: str, firmware_id: str):
    """One firmware of the org."""
    org = _org(request, slug)
    fetched = services.get_firmware(org, _checked_id(firmware_id))
    return {
        **_provenance(fetched),
        "org": schemas.org_out(org),
        "data": schemas.firmware_out(fetched.value, get_language()),
    }


@api.get(
    "/orgs/{slug}/firmware/{firmware_id}/file",
    response={200: bytes, ERRORS: problems.ProblemOut},
    tags=["firmware"],
    url_name="firmware_file",
)
def firmware_file(request: HttpRequest, slug: str, firmware_id: str):
    """The firmware's file, served only once its digest equals the firmware's sign (and its size
    the fileSize): the same download, record and byte ranges as the page's Download button. 409
    when EnOS gives no checksum to verify it by; 502 when the file EnOS sent does not match."""
    org = _org(request, slug)
    firmware = services.get_firmware(org, _checked_id(firmware_id)).value
    try:
        return deliver(request, org, firmware)
    except NotDownloadable as refused:
        raise problems.Problem(HTTPStatus.CONFLICT, str(refused)) from refused
    except FileMismatch as mismatch:
        raise problems.Problem(
            HTTPStatus.BAD_GATEWAY,
            "The file EnOS sent does not match the firmware's checksum; it was not served.",
            signMethod=mismatch.method,
            expectedDigest=mismatch.expected_digest,
            receivedDigest=mismatch.received_digest,
            expectedSize=mismatch.expected_size,
            receivedSize=mismatch.received_size,
        ) from mismatch


@api.get(
    "/orgs/{slug}/firmware/{firmware_id}/devices/",
    response={200: schemas.DevicePage, ERRORS: problems.ProblemOut},
    tags=["firmware"],
    url_name="devices_on_version",
)
def devices_on_version(
    request: HttpRequest,
    slug: str,
    firmware_id: str,
    upgrading: Literal["1", ""] | None = Query(None, description="1: only devices upgrading now."),
    page: int | None = Page,
    page_size: int | None = PageSize,
):
    """The devices of the firmware's product that run its version, as the devices page shows
    them. A new firmware names no product; its OTA jobs do."""
    org = _org(request, slug)
    form = DeviceFilterForm(request.GET)
    if not form.is_valid():
        raise _form_errors(form)
    found = fetch_devices_page(
        org,
        _checked_id(firmware_id),
        upgrading_only=form.upgrading_only,
        **_paging(page, page_size),
    )
    if found.jobs_failure is not None:  # only the jobs could have named the product
        return problems.of_failure(found.jobs_failure, org.name)
    if found.devices is None:
        raise problems.Problem(
            404, "Neither the firmware nor its OTA jobs name a product and version."
        )
    if found.devices.failure is not None:
        return problems.of_failure(found.devices.failure, org.name)
    fetched = found.devices.fetched
    return {
        **_page(fetched),
        "org": schemas.org_out(org),
        "productKey": found.product_key,
        "firmwareVersion": found.firmware.value.version,
        "data": [schemas.device_out(device) for device in fetched.value.items],
    }


@api.get(
    "/find/",
    response={200: schemas.FindResult, ERRORS: problems.ProblemOut},
    tags=["firmware"],
    url_name="find_firmware",
)
def find_firmware(
    request: HttpRequest,
    firmware_id: str = Query(..., max_length=128, description="The firmware ID to look for."),
    org: str | None = Query(None, description="Only this org (its slug); default every org."),
):
    """A firmware ID looked for in every org the caller may see (or in one), as the home page's
    find form does; orgs whose EnOS failed are listed apart."""
    orgs = list(visible_orgs(request.user))
    form = FindFirmwareForm(request.GET, orgs=orgs)
    if not form.is_valid():
        raise _form_errors(form)
    chosen = form.cleaned_data["org"]
    asked = [one for one in orgs if one.slug == chosen] if chosen else orgs
    outcome = find_in_orgs(asked, form.cleaned_data["firmware_id"])
    language = get_language()
    return {
        "requestId": None,
        "fetchedAt": timezone.now(),
        "stale": any(match.fetched.stale for match in outcome.matches),
        "firmwareId": form.cleaned_data["firmware_id"],
        "asked": outcome.asked,
        "matches": [
            {
                **_provenance(match.fetched),
                "org": schemas.org_out(match.org),
                "data": schemas.firmware_out(match.fetched.value, language),
            }
            for match in outcome.matches
        ],
        "unanswered": [
            {"org": schemas.org_out(unasked.org), **schemas.failure_out(unasked.failure)}
            for unasked in outcome.unasked
        ],
    }


@api.get(
    "/orgs/{slug}/jobs/",
    response={200: schemas.JobPage, ERRORS: problems.ProblemOut},
    tags=["OTA jobs"],
    url_name="jobs",
)
def jobs(
    request: HttpRequest,
    slug: str,
    type: Literal[JOB_TYPES] | None = Query(None),  # type: ignore[valid-type]
    status: Literal[JOB_STATUSES] | None = Query(None),  # type: ignore[valid-type]
    firmware: str | None = Query(None, max_length=128, description="Only this firmware's jobs."),
    page: int | None = Page,
    page_size: int | None = PageSize,
):
    """An org's OTA jobs, newest first, filtered as its jobs page (the same parameters)."""
    org = _org(request, slug)
    form = JobFilterForm(request.GET)
    if not form.is_valid():
        raise _form_errors(form)
    fetched = services.search_jobs(org, form.filters(), **form.paging())
    language = get_language()
    return {
        **_page(fetched),
        "org": schemas.org_out(org),
        "data": [schemas.job_out(job, language) for job in fetched.value.items],
    }


@api.get(
    "/orgs/{slug}/jobs/{job_id}/",
    response={200: schemas.OneJob, ERRORS: problems.ProblemOut},
    tags=["OTA jobs"],
    url_name="job_detail",
)
def job_detail(request: HttpRequest, slug: str, job_id: str):
    """One OTA job and how many of its tasks are in each status, counted at once (one call per
    status, whatever the job's size). As on the job page, only the job's own failure fails the
    answer: counts that could not be had are null, with `taskCountsProblem` saying why."""
    org = _org(request, slug)
    job_id = _checked_id(job_id)
    with Together() as together:
        counting = {
            status: together.submit(services.count_tasks, org, job_id, status)
            for status in TASK_STATUSES
        }
        fetched = services.get_job(org, job_id)
        counts = counts_of({status: part_of(pending) for status, pending in counting.items()})
    failure = counts.failure
    return {
        **_provenance(fetched),
        "stale": fetched.stale or counts.stale,
        "org": schemas.org_out(org),
        "data": {
            **schemas.job_out(fetched.value, get_language()),
            "taskCounts": None
            if counts.value is None
            else schemas.task_counts_out(counts.value.by_status),
            "taskCountsProblem": None if failure is None else schemas.failure_out(failure),
        },
    }


@api.get(
    "/orgs/{slug}/jobs/{job_id}/tasks/",
    response={200: schemas.TaskPage, ERRORS: problems.ProblemOut},
    tags=["OTA jobs"],
    url_name="job_tasks",
)
def job_tasks(
    request: HttpRequest,
    slug: str,
    job_id: str,
    status: Literal[TASK_STATUSES] | None = Query(None),  # type: ignore[valid-type]
    page: int | None = Page,
    page_size: int | None = PageSize,
):
    """A job's tasks, one per device (only those in `status`, when given), as its page lists."""
    org = _org(request, slug)
    form = TaskFilterForm(request.GET)
    if not form.is_valid():
        raise _form_errors(form)
    fetched = services.search_tasks(
        org,
        _checked_id(job_id),
        status=form.cleaned_data["status"],
        **_paging(page, page_size),
    )
    return {
        **_page(fetched),
        "org": schemas.org_out(org),
        "data": [schemas.task_out(task) for task in fetched.value.items],
    }
