from django.contrib.auth.decorators import login_not_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_safe

from firmware import health, recent, services, time_zones, trail
from firmware.access import get_visible_org, visible_orgs
from firmware.enos.errors import EnosError
from firmware.error_pages import enos_error_response
from firmware.find import find_in_orgs
from firmware.forms import FIRMWARE_ID_PATTERN, FindFirmwareForm, FirmwareFilterForm, TimeZoneForm
from firmware.list_rows import firmware_rows, rows_key
from firmware.models import Org
from firmware.page_cache import Parts, render_page
from firmware.presentation import FirmwareListPage, FirmwarePage
from firmware.standing import fetch_firmware_page

# What a firmware page shows of the fetch itself, rendered apart from the cached rest of the page.
DETAIL_PARTS = {
    "stale_banner": "firmware/_stale_banner.html",
    "provenance": "firmware/_provenance.html",
}


def _home(
    request: HttpRequest, orgs: list[Org], find_form: FindFirmwareForm, status: int = 200
) -> HttpResponse:
    context = {
        "orgs": orgs,
        "find_form": find_form,
        "recently_viewed": recent.recently_viewed(request.user, get_language()),
    }
    return render(request, "firmware/home.html", context, status=status)


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    orgs = list(visible_orgs(request.user))
    return _home(request, orgs, FindFirmwareForm(orgs=orgs))


@require_GET
def find_firmware(request: HttpRequest) -> HttpResponse:
    """The find form's target: the firmware's URL, or what every visible org said of the id."""
    orgs = list(visible_orgs(request.user))
    form = FindFirmwareForm(request.GET, orgs=orgs)
    if not form.is_valid():
        return _home(request, orgs, form, status=400)
    firmware_id = form.cleaned_data["firmware_id"]
    if form.cleaned_data["org"]:
        return redirect(
            "firmware:firmware_detail", slug=form.cleaned_data["org"], firmware_id=firmware_id
        )
    outcome = find_in_orgs(orgs, firmware_id)
    if len(outcome.matches) == 1 and not outcome.unasked:
        only = outcome.matches[0].org
        return redirect("firmware:firmware_detail", slug=only.slug, firmware_id=firmware_id)
    context = {
        "firmware_id": firmware_id,
        "outcome": outcome,
        "find_form": form,
    }
    return render(request, "firmware/find_results.html", context)


@require_GET
def org_detail(request: HttpRequest, slug: str) -> HttpResponse:
    """The org's page is its firmware list now; old links and bookmarks land there."""
    org = get_visible_org(request.user, slug)
    return redirect(org.get_absolute_url(), permanent=True)


@never_cache
@require_GET
def firmware_list(request: HttpRequest, slug: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    form = FirmwareFilterForm(request.GET)
    context = {
        "org": org,
        "form": form,
        "find_form": FindFirmwareForm(initial={"org": org.slug}, orgs=[org]),
    }
    if not form.is_valid():
        return render(request, "firmware/firmware_list.html", context, status=400)
    try:
        fetched = services.search_firmware(org, form.filters(), **form.paging())
    except EnosError as exc:
        return enos_error_response(request, org, exc)
    listing = FirmwareListPage(
        fetched, request.GET, language=get_language(), sort=form.cleaned_data["sort"]
    )
    if listing.page.beyond_last_page:
        return HttpResponseRedirect(request.path + listing.url_for_page(listing.page.last_page))
    rows = firmware_rows(listing.items, org.slug)
    context.update(
        listing=listing,
        rows=rows,
        rows_key=rows_key(rows),
        typed_id=form.typed_id(),
        typed_version=form.typed_version(),
    )
    return render(request, "firmware/firmware_list.html", context)


@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def firmware_detail(request: HttpRequest, slug: str, firmware_id: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    if not FIRMWARE_ID_PATTERN.match(firmware_id):
        raise Http404("malformed firmware id")
    refresh = request.method == "POST"
    try:
        fetched, standing = fetch_firmware_page(org, firmware_id, refresh=refresh)
    except EnosError as exc:
        return enos_error_response(request, org, exc, firmware_id=firmware_id)
    if refresh:
        return redirect(request.path)  # post/redirect/get: the page stays bookmarkable
    page = FirmwarePage(
        fetched,
        language=get_language(),
        history=services.firmware_history(org, fetched),
        standing=standing,
    )
    recent.remember_view(
        request.user, org, firmware_id, name=page.title, version=page.firmware.version or ""
    )
    list_url = trail.list_url_for(request, org)
    return render_page(
        request,
        "firmware/firmware_detail.html",
        {"org": org, "page": page, "list_url": list_url},
        shows=(
            org.pk,
            org.name,
            org.org_id,
            page.fragment_key,
            page.history_key,
            standing.key,
            list_url,
        ),
        parts=Parts(
            DETAIL_PARTS,
            context={"fetched": page.fetched},
            shows=page.fetch_key,
        ),
    )


@login_not_required  # the login page shows times too, and links here
@never_cache
@require_http_methods(["GET", "HEAD", "POST"])
def time_zone(request: HttpRequest) -> HttpResponse:
    """The time zone times are shown in: which it is, and the viewer's choice of another (or of
    their browser's), after which they go back to the page they came from."""
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    zone = time_zones.viewer_zone(request)
    status = 200
    if request.method == "POST":
        form = TimeZoneForm(request.POST)
        if form.is_valid():
            response = HttpResponseRedirect(next_url or reverse("firmware:home"))
            time_zones.choose(response, form.chosen())
            return response
        status = 400
    else:
        chosen = zone.name if zone.source == time_zones.Source.CHOSEN else ""
        form = TimeZoneForm(initial={"time_zone": chosen})
    context = {
        "form": form,
        "next": next_url,
        "zone": zone,
        "zones": sorted(time_zones.zone_names()),
        "now": timezone.now(),
    }
    return render(request, "firmware/time_zone.html", context, status=status)


def _safe_next(request: HttpRequest, url: str | None) -> str | None:
    """`url` when it is a page of this site, else None (never an open redirect)."""
    allowed = url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
    return url if allowed else None


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


@login_not_required
@require_safe
def favicon(request: HttpRequest) -> HttpResponse:
    """Where browsers look for an icon unasked (a page names its own): the site's icon."""
    return redirect(static("favicon.svg"))
