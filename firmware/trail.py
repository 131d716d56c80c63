"""The breadcrumb from a firmware page back to its org's list, with the filters it came from.

Firmware URLs stay clean (and their pages cacheable): the list the user came from is read from
the same-origin Referer the browser sends (SECURE_REFERRER_POLICY is "same-origin"), and only
the list's own, valid query parameters are kept.
"""

from urllib.parse import urlsplit

from django.http import HttpRequest, QueryDict
from django.urls import reverse

from firmware.forms import FirmwareFilterForm
from firmware.models import Org


def list_url_for(request: HttpRequest, org: Org) -> str:
    """The org's firmware list as the Referer left it, when the page was opened from that
    list; otherwise the plain list."""
    plain = reverse("firmware:firmware_list", kwargs={"slug": org.slug})
    referer = urlsplit(request.headers.get("Referer", ""))
    same_origin = (referer.scheme, referer.netloc) == (request.scheme, request.get_host())
    if not same_origin or referer.path != plain or not referer.query:
        return plain
    came_with = QueryDict(referer.query)
    kept = QueryDict(mutable=True)
    for name, values in came_with.lists():  # in the order the list's URL had them
        values = [value for value in values if value.strip()]
        if name in FirmwareFilterForm.base_fields and values:
            kept.setlist(name, values[-1:])
    if not kept or not FirmwareFilterForm(kept).is_valid():
        return plain
    return f"{plain}?{kept.urlencode()}"
