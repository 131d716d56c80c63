"""The one place that decides which orgs a user may see."""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.cache import cache
from django.db.models import Q, QuerySet
from django.http import Http404

from firmware.models import Org

# Every change to orgs, grants, groups or users replaces this version, and with it every cached
# answer of get_visible_org (see firmware/signals.py).
ACCESS_VERSION_KEY = "org-access-version"
NOT_VISIBLE = "not-visible"


def visible_orgs(user: AbstractBaseUser | AnonymousUser) -> QuerySet[Org]:
    """Enabled orgs the user may see: all for superusers, else those granted to them or a group."""
    orgs = Org.objects.filter(enabled=True)
    if not user.is_authenticated or not user.is_active:
        return orgs.none()
    if user.is_superuser:
        return orgs
    granted = Q(granted_users=user) | Q(granted_groups__in=user.groups.all())
    return orgs.filter(pk__in=Org.objects.filter(granted).values("pk"))


def get_visible_org(user: AbstractBaseUser | AnonymousUser, slug: str) -> Org:
    """The org, or Http404 when it does not exist or the user may not see it (the same answer).

    Pages ask this on every request, so the answer is cached, with the access version it was
    given under, until anything it depends on changes (a new version), and at most
    ACCESS_CACHE_SECONDS (the bound for other processes' local caches). The version and the
    answer are read together: one cache read.
    """
    key = f"visible-org:{user.pk}:{slug}"
    found = cache.get_many([ACCESS_VERSION_KEY, key])
    version = found.get(ACCESS_VERSION_KEY) or _new_access_version()
    given_under, org = found.get(key, (None, None))
    if version is None or given_under != version:
        org = visible_orgs(user).filter(slug=slug).first() or NOT_VISIBLE
        cache.set(key, (version, org), timeout=settings.ACCESS_CACHE_SECONDS)
    if org == NOT_VISIBLE:
        raise Http404("no such org, or not visible to this user")
    return org


def _new_access_version() -> str | None:
    """The access version, made now if there was none (the first to make it wins); None when
    the cache keeps nothing, and then no answer is taken from it."""
    cache.add(ACCESS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
    return cache.get(ACCESS_VERSION_KEY)


def forget_access_answers() -> None:
    """Called whenever orgs, grants, groups or users change."""
    cache.set(ACCESS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
