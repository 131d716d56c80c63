"""fwportal's URLs plus /bench/minimal/: the least a page behind the same middleware can cost."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from fwportal.urls import urlpatterns as fwportal_urlpatterns


def minimal(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok")


urlpatterns = [path("bench/minimal/", minimal, name="bench_minimal"), *fwportal_urlpatterns]
