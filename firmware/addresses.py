"""The client's address as fwportal trusts it: the X-Forwarded-For hop PROXY_COUNT names behind
proxies, else the connection's; never a header any client could send."""

from django.conf import settings
from django.http import HttpRequest
from ipware import get_client_ip


def client_address(request: HttpRequest) -> str | None:
    address, _routable = get_client_ip(
        request,
        proxy_count=settings.AXES_IPWARE_PROXY_COUNT or 0,
        request_header_order=list(settings.AXES_IPWARE_META_PRECEDENCE_ORDER),
    )
    return address
