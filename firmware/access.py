"""The one place that decides which orgs a user may see."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from firmware.models import Org


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
    """The org, or Http404 when it does not exist or the user may not see it (the same answer)."""
    return get_object_or_404(visible_orgs(user), slug=slug)
