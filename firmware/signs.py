"""Whether fwportal can check a firmware's file against its sign, and with which hashlib method."""

import hashlib
import re

from firmware.enos.types import FirmwareInfo

# The digests fwportal can check: hashlib names, as EnOS's signMethod spells them lowercased.
SIGN_METHODS = {"md5", "sha1", "sha224", "sha256", "sha384", "sha512"}
HEX = re.compile(r"[0-9a-f]+")


class NotDownloadable(Exception):
    """The firmware names no checksum fwportal can check, so its file is never served."""


def checked_sign(firmware: FirmwareInfo) -> tuple[str, str]:
    """The firmware's signMethod and sign (lowercase hex); NotDownloadable without both."""
    method = (firmware.sign_method or "").lower()
    digest = (firmware.sign or "").strip().lower()
    if method not in SIGN_METHODS or len(digest) != hashlib.new(method).digest_size * 2:
        raise NotDownloadable(f"no checkable sign (signMethod {firmware.sign_method!r})")
    if not HEX.fullmatch(digest):
        raise NotDownloadable("sign is not hexadecimal")
    return method, digest


def is_downloadable(firmware: FirmwareInfo) -> bool:
    try:
        checked_sign(firmware)
    except NotDownloadable:
        return False
    return True
