"""The OTA job pages (an org's jobs, one job with its tasks) and the devices on a firmware's
version. Thin: the fetching is in firmware/jobs.py and firmware/devices.py, what is shown in
firmware/job_presentation.py."""

from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from firmware import services
from firmware.access import get_visible_org
from firmware.devices import fetch_devices_page
from firmware.enos.errors import EnosError
from firmware.error_pages import enos_error_response
from firmware.forms import (
    FIRMWARE_ID_PATTERN,
    JOB_ID_PATTERN,
    DeviceFilterForm,
    JobFilterForm,
    TaskFilterForm,
)
from firmware.job_presentation import DeviceListPage, JobListPage, JobPage
from firmware.jobs import fetch_job_page


@never_cache
@require_GET
def job_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    form = JobFilterForm(request.GET)
    context = {"org": org, "form": form}
    if not form.is_valid():
        return render(request, "firmware/job_list.html", context, status=400)
    try:
        fetched = services.search_jobs(org, form.filters(), **form.paging())
    except EnosError as exc:
        return enos_error_response(request, org, exc)
    listing = JobListPage(fetched, request.GET)
    if listing.page.beyond_last_page:
        return HttpResponseRedirect(request.path + listing.url_for_page(listing.page.last_page))
    context["listing"] = listing
    return render(request, "firmware/job_list.html", context)


@never_cache
@require_GET
def job_detail(request: HttpRequest, slug: str, job_id: str) -> HttpResponse:
    """A job with its task counts and a page of its tasks: one round of 1 + 5 + 1 calls at most
    (firmware/jobs.py)."""
    org = get_visible_org(request.user, slug)
    if not JOB_ID_PATTERN.match(job_id):
        raise Http404("malformed job id")
    form = TaskFilterForm(request.GET)
    context = {"org": org, "form": form, "job_id": job_id}
    if not form.is_valid():
        return render(request, "firmware/job_detail.html", context, status=400)
    status = form.cleaned_data["status"]
    try:
        data = fetch_job_page(org, job_id, status=status, **form.paging())
    except EnosError as exc:
        return enos_error_response(request, org, exc, job_id=job_id)
    page = JobPage(data, request.GET, language=get_language(), status=status)
    tasks = page.tasks
    if tasks is not None and tasks.page.beyond_last_page:
        return HttpResponseRedirect(request.path + tasks.url_for_page(tasks.page.last_page))
    context["page"] = page
    return render(request, "firmware/job_detail.html", context)


@never_cache
@require_GET
def firmware_devices(request: HttpRequest, slug: str, firmware_id: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    if not FIRMWARE_ID_PATTERN.match(firmware_id):
        raise Http404("malformed firmware id")
    form = DeviceFilterForm(request.GET)
    context = {"org": org, "form": form, "firmware_id": firmware_id}
    if not form.is_valid():
        return render(request, "firmware/firmware_devices.html", context, status=400)
    try:
        data = fetch_devices_page(
            org, firmware_id, upgrading_only=form.upgrading_only, **form.paging()
        )
    except EnosError as exc:
        return enos_error_response(request, org, exc, firmware_id=firmware_id)
    listing = DeviceListPage(data, request.GET, language=get_language())
    if listing.page is not None and listing.page.beyond_last_page:
        return HttpResponseRedirect(request.path + listing.url_for_page(listing.page.last_page))
    context["listing"] = listing
    return render(request, "firmware/firmware_devices.html", context)
