"""Each user's recently viewed firmware: newest first, one row per firmware, the last 20."""

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from firmware.access import visible_orgs
from firmware.models import Org, RecentlyViewed

KEEP = 20
# Viewing the firmware already on top of the list again within this time writes nothing.
REFRESH_SECONDS = 60


def remember_view(
    user: AbstractBaseUser, org: Org, firmware_id: str, name: str, version: str
) -> None:
    top_key = f"recently-viewed-top:{user.pk}"
    top = (org.pk, firmware_id, name[:300], version[:100])
    if cache.get(top_key) == top:
        return  # already the newest entry, written less than REFRESH_SECONDS ago
    _write_view(user, org, firmware_id, top[2], top[3])
    cache.set(top_key, top, timeout=REFRESH_SECONDS)


@transaction.atomic
def _write_view(
    user: AbstractBaseUser, org: Org, firmware_id: str, name: str, version: str
) -> None:
    RecentlyViewed.objects.update_or_create(
        user=user,
        org=org,
        firmware_id=firmware_id,
        defaults={"name": name, "version": version, "viewed_at": timezone.now()},
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
