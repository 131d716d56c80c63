"""Who calls the API: a personal token (`Authorization: Bearer`) or, from fwportal's own pages,
the session. Either way the caller is a user and sees exactly what the pages show them. And how
often they may call: a fixed window per token (or per session user), counted in the shared cache.
"""

import math
import time

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.http import HttpRequest
from ninja.errors import AuthenticationError
from ninja.security import APIKeyCookie, HttpBearer
from ninja.throttling import BaseThrottle

from firmware import tokens


class BearerToken(HttpBearer):
    """A personal API token (firmware/tokens.py). A wrong, revoked or expired one is refused at
    once, whatever else the request carries."""

    def authenticate(self, request: HttpRequest, token: str) -> AbstractBaseUser:
        found = tokens.authenticate(token.strip())
        if found is None:
            raise AuthenticationError(message="unknown, revoked or expired token")
        request.api_token = found
        request.user = found.user
        return found.user


class Session(APIKeyCookie):
    """The browser's session, for fwportal's own pages (the CSV button). The API answers GETs
    only, which change nothing, so there is nothing for a cross-site request to forge."""

    param_name = settings.SESSION_COOKIE_NAME

    def authenticate(self, request: HttpRequest, key: str | None) -> AbstractBaseUser | None:
        if request.headers.get("Authorization"):
            return None  # a request that names a token is judged by its token alone
        user = request.user
        return user if user.is_authenticated and user.is_active else None


class PerCaller(BaseThrottle):
    """At most API_THROTTLE_REQUESTS requests per window of API_THROTTLE_SECONDS per token (or
    per session user). A fixed window: one counter per caller and window, an atomic add and
    increment, where a sliding log would write a list per request; a burst at a window's edge
    may reach twice the rate for a moment, which a read-only API can bear."""

    def allow_request(self, request: HttpRequest) -> bool:
        window = settings.API_THROTTLE_SECONDS
        now = time.time()
        started = int(now // window) * window
        token = getattr(request, "api_token", None)
        caller = f"token:{token.pk}" if token is not None else f"user:{request.user.pk}"
        key = f"api-throttle:{caller}:{started}"
        cache.add(key, 0, timeout=window + 1)
        try:
            count = cache.incr(key)
        except ValueError:  # the window ended between add and incr
            cache.add(key, 1, timeout=window + 1)
            count = 1
        return count <= settings.API_THROTTLE_REQUESTS

    def wait(self) -> float:
        """Seconds until the current window ends (the instance is shared: nothing is kept on
        it between requests)."""
        window = settings.API_THROTTLE_SECONDS
        return max(1, math.ceil(window - time.time() % window))
