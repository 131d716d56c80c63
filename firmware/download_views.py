"""A firmware's file for those who may see its org: verified, then served (firmware/downloads.py)
with its name, size, digest and byte ranges (firmware/file_response.py); who got it is recorded."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import get_language
from django.views.decorators.http import require_GET

from firmware import downloads, services
from firmware.access import get_visible_org
from firmware.enos.errors import EnosError
from firmware.enos.types import FirmwareInfo
from firmware.error_pages import enos_error_response
from firmware.file_response import file_response
from firmware.forms import FIRMWARE_ID_PATTERN
from firmware.models import FirmwareDownload, Org
from firmware.presentation import display_name
from firmware.signs import NotDownloadable

Outcome = FirmwareDownload.Outcome


@require_GET
def firmware_download(request: HttpRequest, slug: str, firmware_id: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    if not FIRMWARE_ID_PATTERN.match(firmware_id):
        raise Http404("malformed firmware id")
    try:
        firmware = services.get_firmware(org, firmware_id).value
    except EnosError as exc:
        return enos_error_response(request, org, exc, firmware_id=firmware_id)
    context = {
        "org": org,
        "firmware": firmware,
        "title": display_name(firmware, get_language()) or firmware_id,
    }
    try:
        return deliver(request, org, firmware)
    except NotDownloadable:
        return render(request, "firmware/download_refused.html", context, status=409)
    except downloads.FileMismatch as mismatch:
        context["mismatch"] = mismatch
        return render(request, "firmware/download_mismatch.html", context, status=502)
    except EnosError as exc:
        return enos_error_response(request, org, exc, firmware_id=firmware_id)


def deliver(request: HttpRequest, org: Org, firmware: FirmwareInfo) -> HttpResponse:
    """The firmware's file, verified, recorded and served (for the page and the API alike);
    raises NotDownloadable, FileMismatch or an EnosError, each recorded but the first."""
    try:
        verified = downloads.verified_file(org, firmware)
    except downloads.FileMismatch:
        downloads.record(org, firmware, request.user, outcome=Outcome.MISMATCH)
        raise
    except EnosError:
        downloads.record(org, firmware, request.user, outcome=Outcome.FAILED)
        raise
    downloads.record(
        org,
        firmware,
        request.user,
        outcome=Outcome.SERVED,
        digest=verified.digest,
        byte_range=request.headers.get("Range", ""),
        from_store=verified.from_store,
    )
    return file_response(
        request,
        verified.kept,
        name=downloads.file_name(firmware, get_language()),
        method=verified.method,
        digest=verified.digest,
    )
