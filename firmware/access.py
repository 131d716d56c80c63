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

    Pages ask this on every request, so the answer is cached until anything it depends on
    changes, and at most ACCESS_CACHE_SECONDS (the bound for other processes' local caches).
    """
    key = f"visible-org:{_access_version()}:{user.pk}:{slug}"
    org = cache.get(key)
    if org is None:
        org = visible_orgs(user).filter(slug=slug).first() or NOT_VISIBLE
        cache.set(key, org, timeout=settings.ACCESS_CACHE_SECONDS)
    if org == NOT_VISIBLE:
        raise Http404("no such org, or not visible to this user")
    return org


def _access_version() -> str:
    version = cache.get(ACCESS_VERSION_KEY)
    if version is None:
        cache.add(ACCESS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
        version = cache.get(ACCESS_VERSION_KEY)
    return version


def forget_access_answers() -> None:
    """Called whenever orgs, grants, groups or users change."""
    cache.set(ACCESS_VERSION_KEY, uuid.uuid4().hex, timeout=None)
