"""A firmware's file, verified before it is served: fetched from EnOS once, kept under its digest.

The file is streamed from EnOS to disk while hashed with the firmware's signMethod; only when the
digest equals its sign (and the size its fileSize, when EnOS gives one) does it enter the store
(firmware/file_store.py). One thread of one worker fetches a given file while the others wait on
its lock; a failure is the answer, for ENOS_FAILURE_SECONDS, to those who waited or ask.
"""

import hashlib
import hmac
import logging
import re
from dataclasses import dataclass
from pathlib import PurePosixPath

from django.conf import settings
from django.core.cache import cache

from firmware import audit
from firmware.enos.errors import EnosError
from firmware.enos.types import FirmwareInfo
from firmware.file_store import FileStore, KeptFile
from firmware.models import FirmwareDownload, Org
from firmware.presentation import display_name
from firmware.services import client_for
from firmware.signs import checked_sign

logger = logging.getLogger(__name__)

NAME_CAP = 150
UNSAFE_IN_NAMES = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]+')


class FileMismatch(Exception):
    """The file EnOS sent is not the one the firmware's sign (or fileSize) names."""

    def __init__(
        self,
        method: str,
        expected_digest: str,
        received_digest: str,
        expected_size: int | None,
        received_size: int,
    ):
        super().__init__(method, expected_digest, received_digest, expected_size, received_size)
        self.method = method
        self.expected_digest = expected_digest
        self.received_digest = received_digest
        self.expected_size = expected_size
        self.received_size = received_size

    def __str__(self) -> str:
        return (
            f"{self.method} {self.received_digest} ({self.received_size} bytes) instead of "
            f"{self.expected_digest} ({self.expected_size} bytes)"
        )


@dataclass(frozen=True)
class VerifiedFile:
    """A firmware's file, open for reading, whose digest is the firmware's sign."""

    kept: KeptFile
    method: str
    digest: str
    from_store: bool  # False when it was fetched from EnOS for this request


def file_store() -> FileStore:
    return FileStore(settings.FIRMWARE_FILES_DIR, settings.FIRMWARE_FILES_MAX_MB * 1024 * 1024)


def verified_file(org: Org, firmware: FirmwareInfo) -> VerifiedFile:
    """The firmware's file: from the store, else fetched from EnOS and verified. Raises
    NotDownloadable, FileMismatch or an EnosError; nothing unverified is ever returned."""
    method, digest = checked_sign(firmware)
    store = file_store()
    kept = store.open(method, digest)
    if kept is not None:
        return VerifiedFile(kept, method, digest, from_store=True)
    failure_key = f"download-failed:{org.pk}:{firmware.firmware_id}:{method}:{digest}"
    # No timeout on the wait: the fetch holding the lock is itself abandoned once it stalls.
    with store.lock(method, digest):
        kept = store.open(method, digest)
        if kept is not None:
            return VerifiedFile(kept, method, digest, from_store=True)
        failure = cache.get(failure_key)
        if failure is not None:
            raise failure
        try:
            kept = _fetch(org, firmware, method, digest, store)
        except (EnosError, FileMismatch) as exc:
            cache.set(failure_key, exc, timeout=settings.ENOS_FAILURE_SECONDS)
            raise
    return VerifiedFile(kept, method, digest, from_store=False)


def _fetch(
    org: Org, firmware: FirmwareInfo, method: str, digest: str, store: FileStore
) -> KeptFile:
    hasher = hashlib.new(method)
    with store.incoming() as (path, file):

        def write(chunk: bytes) -> None:
            file.write(chunk)
            hasher.update(chunk)

        client_for(org).download_firmware(firmware.firmware_id, write)
        file.flush()
        received = hasher.hexdigest()
        size = file.tell()
        expected_size = firmware.file_size
        if not hmac.compare_digest(received, digest) or expected_size not in (None, size):
            mismatch = FileMismatch(method, digest, received, expected_size, size)
            logger.warning(
                "download org=%s firmware=%s does not match its sign: %s",
                org.slug,
                firmware.firmware_id,
                mismatch,
            )
            raise mismatch
        return store.keep(path, method, digest)


def file_name(firmware: FirmwareInfo, language: str) -> str:
    """What the file is saved as: the firmware's name and version with the extension of its
    EnOS file, else that file's own name, else its id."""
    stored_name = PurePosixPath((firmware.file_url or "").split("://")[-1]).name
    extension = PurePosixPath(stored_name).suffix
    name = display_name(firmware, language)
    if name:
        wanted = f"{name} {firmware.version}" if firmware.version else name
        wanted += extension
    else:
        wanted = stored_name or f"{firmware.firmware_id}.bin"
    wanted = UNSAFE_IN_NAMES.sub("_", wanted).strip(" .") or f"{firmware.firmware_id}.bin"
    return wanted[-NAME_CAP:] if len(wanted) > NAME_CAP else wanted


def record(
    org: Org,
    firmware: FirmwareInfo,
    user,
    *,
    outcome: str,
    digest: str = "",
    byte_range: str = "",
    from_store: bool = False,
) -> None:
    """Who downloaded what and when (or tried to, and what came of it), in the audit trail too."""
    audit.record(
        "file_downloaded",
        org,
        {
            "firmware": firmware.firmware_id,
            "version": firmware.version or "",
            "outcome": outcome,
            "range": byte_range,
        },
        actor=user,
    )
    FirmwareDownload.objects.create(
        org=org,
        org_slug=org.slug,
        firmware_id=firmware.firmware_id,
        version=(firmware.version or "")[:100],
        user=user if user.is_authenticated else None,
        username=user.get_username()[:150],
        outcome=outcome,
        sign_method=(firmware.sign_method or "")[:16],
        digest=digest,
        byte_range=byte_range[:100],
        from_store=from_store,
    )
