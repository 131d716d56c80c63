"""Each user's recently viewed firmware: newest first, one row per firmware, the last 20."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from firmware.access import visible_orgs
from firmware.history import kept_name
from firmware.languages import shown_name
from firmware.models import FirmwareSnapshot, Org, RecentlyViewed

KEEP = 20


def remember_view(
    user: AbstractBaseUser, org: Org, firmware_id: str, name: str, version: str
) -> None:
    """Put the firmware on top of the user's list, then delete what fell below the last KEEP.

    Every firmware page a user opens writes this, so it is two statements, each atomic on its
    own, in SQL both SQLite and PostgreSQL speak (the ORM's upsert and delete took a
    transaction and about five times the CPU: issue 18)."""
    connection = connections[router.db_for_write(RecentlyViewed)]
    quote = connection.ops.quote_name
    table = quote(RecentlyViewed._meta.db_table)
    user_id, org_id, fw_id, name_, version_, viewed_at, pk = (
        quote(field)
        for field in ("user_id", "org_id", "firmware_id", "name", "version", "viewed_at", "id")
    )
    viewed = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({user_id}, {org_id}, {fw_id}, {name_}, {version_}, "  # noqa: S608
            f"{viewed_at}) VALUES (%s, %s, %s, %s, %s, %s) "
            f"ON CONFLICT ({user_id}, {org_id}, {fw_id}) DO UPDATE SET "
            f"{name_} = excluded.{name_}, {version_} = excluded.{version_}, "
            f"{viewed_at} = excluded.{viewed_at}",
            [user.pk, org.pk, firmware_id, name[:300], version[:100], viewed],
        )
        cursor.execute(
            f"DELETE FROM {table} WHERE {user_id} = %s AND {pk} NOT IN "  # noqa: S608
            f"(SELECT {pk} FROM {table} WHERE {user_id} = %s "
            f"ORDER BY {viewed_at} DESC LIMIT %s)",
            [user.pk, user.pk, KEEP],
        )


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
