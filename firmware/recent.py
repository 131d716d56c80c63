"""Each user's recently viewed firmware: newest first, one row per firmware, the last 20."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from firmware.access import visible_orgs
from firmware.models import Org, RecentlyViewed

KEEP = 20


@transaction.atomic
def remember_view(
    user: AbstractBaseUser, org: Org, firmware_id: str, name: str, version: str
) -> None:
    RecentlyViewed.objects.update_or_create(
        user=user,
        org=org,
        firmware_id=firmware_id,
        defaults={"name": name[:300], "version": version[:100], "viewed_at": timezone.now()},
    )
    older = RecentlyViewed.objects.filter(user=user).values_list("pk", flat=True)[KEEP:]
    RecentlyViewed.objects.filter(pk__in=list(older)).delete()


def recently_viewed(user: AbstractBaseUser) -> QuerySet[RecentlyViewed]:
    """The user's own recent views, of orgs they may still see."""
    return (
        RecentlyViewed.objects.filter(user=user, org__in=visible_orgs(user))
        .select_related("org")
        .order_by("-viewed_at")[:KEEP]
    )
