"""fwportal's URLs plus two bench-only views behind the same middleware and login:

* /bench/minimal/: "ok", the least a page can cost;
* /bench/firmware-only/<slug>/<id>/: what the firmware page does before it renders (access check,
  Get Firmware through the services), answered with the firmware id: the least an uncached
  firmware page can cost.
"""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from firmware import services
from firmware.access import get_visible_org
from fwportal.urls import urlpatterns as fwportal_urlpatterns


def minimal(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


def firmware_only(request: HttpRequest, slug: str, firmware_id: str) -> HttpResponse:
    org = get_visible_org(request.user, slug)
    return HttpResponse(services.get_firmware(org, firmware_id).value.firmware_id)


urlpatterns = [
    path("bench/minimal/", minimal, name="bench_minimal"),
    path("bench/firmware-only/<slug:slug>/<str:firmware_id>/", firmware_only),
    *fwportal_urlpatterns,
]
