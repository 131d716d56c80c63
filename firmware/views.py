from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods

from firmware import health, services
from firmware.access import get_visible_org, visible_orgs
from firmware.credentials import UndecryptableSecret
from firmware.enos.errors import EnosError
from firmware.errors import enos_error_response
from firmware.forms import FIRMWARE_ID_PATTERN, FindFirmwareForm
from firmware.presentation import FirmwarePage


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    orgs = list(visible_orgs(request.user))
    return render(
        request, "firmware/home.html", {"orgs": orgs, "find_form": FindFirmwareForm(orgs=orgs)}
    )


@require_GET
def find_firmware(request: HttpRequest) -> HttpResponse:
    """The find form's target: redirects to the firmware's bookmarkable URL."""
    orgs = list(visible_orgs(request.user))
    form = FindFirmwareForm(request.GET, orgs=orgs)
    if form.is_valid():
        return redirect(
            "firmware_detail",
            slug=form.cleaned_data["org"],
            firmware_id=form.cleaned_data["firmware_id"],
        )
    return render(request, "firmware/home.html", {"orgs": orgs, "find_form": form}, status=400)


@require_GET
def org_detail(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    form = FindFirmwareForm(initial={"org": org.slug}, orgs=[org])
    return render(request, "firmware/org_detail.html", {"org": org, "find_form": form})


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def firmware_detail(request: HttpRequest, slug: str, firmware_id: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    if not FIRMWARE_ID_PATTERN.match(firmware_id):
        raise Http404("malformed firmware id")
    refresh = request.method == "POST"
    try:
        fetched = services.get_firmware(org, firmware_id, refresh=refresh)
    except (EnosError, UndecryptableSecret) as exc:
        return enos_error_response(request, org, exc, firmware_id=firmware_id)
    if refresh:
        return redirect(request.path)  # post/redirect/get: the page stays bookmarkable
    page = FirmwarePage(fetched, language=get_language())
    return render(request, "firmware/firmware_detail.html", {"org": org, "page": page})


@login_not_required
@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    checks = health.run_checks()
    healthy = all(checks.values())
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": checks},
        status=200 if healthy else 503,
    )
