"""Each org's last good EnOS answer about each firmware, kept in the database, and what changed
from one answer to the next.

The cache's last good copy is lost on a restart, and is one host's own with a local-memory cache;
this one is every host's and survives restarts. Each answer fetched is recorded: when its content
(every field but the request id, as a digest) is the one kept, only its "last confirmed" time
moves; when it differs, it replaces the one kept and each field that changed becomes a
FirmwareChange (old -> new), the last FIRMWARE_HISTORY_KEEP of them kept.
"""

import dataclasses
import hashlib
import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from firmware.enos.types import FirmwareInfo, I18nString
from firmware.models import FirmwareChange, FirmwareSnapshot, Org

if TYPE_CHECKING:
    from firmware.services import Fetched

# Moving "last confirmed" on every fetch would make each page a database write; a minute is exact
# enough for the age of a copy served in an outage and for a prune counted in days.
CONFIRM_EVERY = timedelta(minutes=1)
# The order a page lists a change's fields in; `translated_name` and `tag` have a key each.
FIELDS = (
    "name",
    "translated_name",
    "version",
    "description",
    "product_key",
    "org_id",
    "created_at",
    "enable_verification",
    "is_verified",
    "max_allowed_for_verification",
    "min_success_for_verified",
    "tag",
    "sign_method",
    "sign",
    "file_url",
    "file_size",
)
# Operators rely on a firmware id naming one file: a change of these is a warning.
FILE_FIELDS = frozenset({"sign_method", "sign", "file_url", "file_size"})
DESCRIPTION_SHOWN = 200  # characters of a description a change keeps
_STRUCTURED = frozenset({"name", "tags", "created_at", "request_id"})
_SCALARS = tuple(f.name for f in dataclasses.fields(FirmwareInfo) if f.name not in _STRUCTURED)

Value = str | int | bool | None
Fields = dict[tuple[str, str], Value]


def fields_of(firmware: FirmwareInfo) -> Fields:
    """Everything EnOS said of a firmware but its id and the request id, flat: (field, key) ->
    value, where each translation of the name and each tag is its own entry, keyed by the EnOS
    locale or the tag key (the other fields' key is "")."""
    description = firmware.description
    if description is not None and firmware.description_truncated:
        description += "…"
    values: Fields = {
        ("name", ""): firmware.name.default,
        ("version", ""): firmware.version,
        ("description", ""): description,
        ("product_key", ""): firmware.product_key,
        ("org_id", ""): firmware.org_id,
        ("created_at", ""): firmware.created_at.isoformat() if firmware.created_at else None,
        ("enable_verification", ""): firmware.enable_verification,
        ("is_verified", ""): firmware.is_verified,
        ("max_allowed_for_verification", ""): firmware.max_allowed_for_verification,
        ("min_success_for_verified", ""): firmware.min_success_for_verified,
        ("sign_method", ""): firmware.sign_method,
        ("sign", ""): firmware.sign,
        ("file_url", ""): firmware.file_url,
        ("file_size", ""): firmware.file_size,
    }
    values.update((("translated_name", k), v) for k, v in firmware.name.translations.items())
    values.update((("tag", key), value) for key, value in firmware.tags.items())
    return dict(sorted(values.items(), key=lambda item: _position(item[0])))


def digest(values: Fields) -> str:
    """Names the content: the same for the same fields, in whatever order EnOS sent maps."""
    canonical = json.dumps([[field, key, value] for (field, key), value in values.items()])
    return hashlib.sha256(canonical.encode()).hexdigest()


def _position(entry: tuple[str, str]) -> tuple[int, str]:
    field, key = entry
    return FIELDS.index(field), key


def _content(firmware: FirmwareInfo) -> str:
    """The answer as the JSON text the database keeps."""
    return json.dumps(
        {
            **{name: getattr(firmware, name) for name in _SCALARS},
            "name": {"default": firmware.name.default, "translations": firmware.name.translations},
            "tags": firmware.tags,
            "created_at": firmware.created_at.isoformat() if firmware.created_at else None,
        }
    )


def _firmware(content: str) -> FirmwareInfo:
    """The answer `_content` kept, as it was fetched (without its request id)."""
    kept = json.loads(content)
    created_at = kept["created_at"]
    return FirmwareInfo(
        **{name: kept[name] for name in _SCALARS if name in kept},
        name=I18nString(kept["name"]["default"], kept["name"]["translations"]),
        tags=kept["tags"],
        created_at=datetime.fromisoformat(created_at) if created_at else None,
    )


def kept_name(content: str) -> I18nString:
    """The name in an answer `_content` kept, with every translation EnOS sent."""
    name = json.loads(content)["name"]
    return I18nString(name["default"], name["translations"])


def record(org: Org, answers: Iterable[FirmwareInfo], fetched_at: datetime) -> dict[str, "History"]:
    """Keeps what EnOS answered at `fetched_at` about these firmware of the org (one Get, or a
    search page), and gives each firmware's history as it stands with this answer, for the page
    to show without reading it again. One indexed SELECT of what is kept; then, for the same
    content, nothing or one UPDATE of "last confirmed" for all; first sights are one INSERT (and
    one SELECT of what they became); a change is written apart, with its history."""
    fields = {firmware.firmware_id: (firmware, fields_of(firmware)) for firmware in answers}
    kept = {
        firmware_id: (History(pk, first_seen_at, changed_at), kept_digest, confirmed_at)
        for firmware_id, pk, first_seen_at, changed_at, kept_digest, confirmed_at in (
            _kept(org, fields).values_list(
                "firmware_id", "pk", "first_seen_at", "changed_at", "digest", "last_confirmed_at"
            )
        )
    }
    histories: dict[str, History] = {}
    first_sights, confirmed = [], []
    for firmware_id, (firmware, values) in fields.items():
        new_digest = digest(values)
        if firmware_id not in kept:
            first_sights.append(
                FirmwareSnapshot(
                    org=org,
                    enos_org_id=org.org_id,
                    firmware_id=firmware_id,
                    digest=new_digest,
                    content=_content(firmware),
                    first_seen_at=fetched_at,
                    last_confirmed_at=fetched_at,
                )
            )
            continue
        history, kept_digest, confirmed_at = kept[firmware_id]
        if kept_digest != new_digest:
            history = _change(history.snapshot_id, firmware, values, new_digest, fetched_at)
        elif confirmed_at <= fetched_at - CONFIRM_EVERY:
            confirmed.append(history.snapshot_id)
        if history is not None:
            histories[firmware_id] = history
    if first_sights:
        # Another host may record the same first sight: whichever comes first is kept.
        FirmwareSnapshot.objects.bulk_create(first_sights, ignore_conflicts=True)
        new = [snapshot.firmware_id for snapshot in first_sights]
        for firmware_id, *row in _kept(org, new).values_list(
            "firmware_id", "pk", "first_seen_at", "changed_at"
        ):
            histories[firmware_id] = History(*row)
    if confirmed:
        FirmwareSnapshot.objects.filter(pk__in=confirmed, last_confirmed_at__lt=fetched_at).update(
            last_confirmed_at=fetched_at
        )
    return histories


def _kept(org: Org, firmware_ids: Iterable[str]) -> QuerySet[FirmwareSnapshot]:
    return FirmwareSnapshot.objects.filter(
        org=org, enos_org_id=org.org_id, firmware_id__in=firmware_ids
    )


@transaction.atomic
def _change(
    pk: int, firmware: FirmwareInfo, values: Fields, new_digest: str, at: datetime
) -> "History | None":
    """Writes the change; the history after it (None when the snapshot was pruned meanwhile)."""
    snapshot = FirmwareSnapshot.objects.select_for_update().filter(pk=pk).first()
    if snapshot is None:
        return None
    # Another request may have recorded this answer, or a later one, since the digest was read.
    if snapshot.digest == new_digest or snapshot.last_confirmed_at > at:
        return History(snapshot.pk, snapshot.first_seen_at, snapshot.changed_at)
    keep = settings.FIRMWARE_HISTORY_KEEP
    changes = [
        FirmwareChange(
            snapshot=snapshot,
            changed_at=at,
            field=field,
            key=key,
            old=_text(field, old),
            new=_text(field, new),
            affects_file=field in FILE_FIELDS,
        )
        for (field, key), old, new in _diff(fields_of(_firmware(snapshot.content)), values)
    ]
    FirmwareChange.objects.bulk_create(changes[:keep])
    snapshot.digest = new_digest
    snapshot.content = _content(firmware)
    snapshot.changed_at = snapshot.last_confirmed_at = at
    snapshot.save(update_fields=["digest", "content", "changed_at", "last_confirmed_at"])
    older = _newest_first(FirmwareChange.objects.filter(snapshot=snapshot))[keep:]
    FirmwareChange.objects.filter(pk__in=list(older.values_list("pk", flat=True))).delete()
    return History(snapshot.pk, snapshot.first_seen_at, snapshot.changed_at)


def _diff(old: Fields, new: Fields) -> list[tuple[tuple[str, str], Value, Value]]:
    """Each entry that differs, in the order a page lists them; a missing entry is None."""
    entries = sorted(old.keys() | new.keys(), key=_position)
    return [
        (entry, old.get(entry), new.get(entry))
        for entry in entries
        if old.get(entry) != new.get(entry)
    ]


def _text(field: str, value: Value) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if field == "description" and len(text) > DESCRIPTION_SHOWN:
        return text[:DESCRIPTION_SHOWN] + "…"
    return text


def _newest_first(changes: QuerySet[FirmwareChange]) -> QuerySet[FirmwareChange]:
    # Within one answer, the fields in the order they were written: the order of FIELDS.
    return changes.order_by("-changed_at", "pk")


def last_good(org: Org, firmware_id: str) -> "Fetched[FirmwareInfo] | None":
    """The answer kept for the firmware, as fetched when EnOS last confirmed it, if that is
    within FIRMWARE_STALE_SECONDS (the longest the cache keeps a last good copy, too), with its
    history."""
    from firmware.services import Fetched  # services calls this module

    oldest = timezone.now() - timedelta(seconds=settings.FIRMWARE_STALE_SECONDS)
    row = (
        _kept(org, [firmware_id])
        .filter(last_confirmed_at__gte=oldest)
        .values_list("content", "last_confirmed_at", "pk", "first_seen_at", "changed_at")
        .first()
    )
    if row is None:
        return None
    content, last_confirmed_at, *history = row
    return Fetched(_firmware(content), last_confirmed_at, history=History(*history))


@dataclass(frozen=True)
class History:
    """What the database knows of one firmware's answers: when it was first seen, when its
    content last changed (None when it never did), and the changes kept, newest first."""

    snapshot_id: int
    first_seen_at: datetime
    changed_at: datetime | None

    @property
    def key(self) -> tuple[object, ...]:
        """All the changes depend on: a change moves `changed_at`, a prune drops the snapshot."""
        return (self.snapshot_id, self.first_seen_at, self.changed_at)

    @cached_property
    def changes(self) -> list[FirmwareChange]:
        changes = FirmwareChange.objects.filter(snapshot_id=self.snapshot_id)
        return list(_newest_first(changes)[: settings.FIRMWARE_HISTORY_KEEP])


def of(org: Org, firmware_id: str) -> History | None:
    """The firmware's history in the org (one indexed query; its changes are read when used)."""
    row = _kept(org, [firmware_id]).values_list("pk", "first_seen_at", "changed_at").first()
    return None if row is None else History(*row)


@dataclass(frozen=True)
class Pruned:
    firmware: list[tuple[str, str, datetime]]  # org slug, firmware id, last confirmed
    changes: int


def prune(not_confirmed_for: timedelta) -> Pruned:
    """Deletes what is kept of firmware EnOS has not confirmed for that long, and says what."""
    old = FirmwareSnapshot.objects.filter(last_confirmed_at__lt=timezone.now() - not_confirmed_for)
    firmware = list(
        old.order_by("org__slug", "firmware_id").values_list(
            "org__slug", "firmware_id", "last_confirmed_at"
        )
    )
    # Only the ids are read to delete: a snapshot's content may be large.
    _count, deleted = old.only("pk").delete()
    return Pruned(firmware, deleted.get(FirmwareChange._meta.label, 0))
