"""Each user's recently viewed firmware: newest first, one row per firmware, the last 20."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.core.cache import cache
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from firmware.access import visible_orgs
from firmware.history import kept_name
from firmware.languages import shown_name
from firmware.models import FirmwareSnapshot, Org, RecentlyViewed

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


@dataclass(frozen=True)
class RecentView:
    """A recently viewed firmware as the home page lists it, named in the viewer's language."""

    view: RecentlyViewed
    name: str

    @property
    def firmware_id(self) -> str:
        return self.view.firmware_id


def recently_viewed(user: AbstractBaseUser, language: str) -> list[RecentView]:
    """The user's own recent views, of orgs they may still see, each named from the last EnOS
    answer kept (which has every translation); failing that, the name it was viewed with (in
    the language of that view), then its id. One query."""
    kept = FirmwareSnapshot.objects.filter(
        org=OuterRef("org"),
        enos_org_id=OuterRef("org__org_id"),
        firmware_id=OuterRef("firmware_id"),
    ).values("content")[:1]
    views = (
        RecentlyViewed.objects.filter(user=user, org__in=visible_orgs(user))
        .select_related("org")
        .annotate(kept_content=Subquery(kept))
        .order_by("-viewed_at")[:KEEP]
    )
    return [RecentView(view, _name(view, language)) for view in views]


def _name(view: RecentlyViewed, language: str) -> str:
    kept = kept_name(view.kept_content) if view.kept_content else None
    return (kept and shown_name(kept, language)) or view.name or view.firmware_id
