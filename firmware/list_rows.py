"""The firmware list's rows, each worked out once in Python: the list shows every firmware twice
(a table row, and a card for narrow screens), so its template only reads what a row holds.

Each value is what the list's template filters would give (firmware/templatetags/
firmware_format.py): in the active language and the viewer's time zone, so rows are made for the
request that shows them. Drawing them is most of a list's own cost, and a list fetched again
mostly shows the same rows: the template keeps them drawn, under `rows_key` and the language.
"""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.urls import reverse
from django.utils.safestring import SafeString

from firmware.enos.types import FirmwareInfo
from firmware.templatetags.firmware_format import (
    binary_size,
    firmware_name,
    grouped,
    local_time,
    routable,
)

# Stands for the firmware id in the one URL reversed per list; a valid id itself, so the URL
# pattern accepts it, and the last part of the path, so the org's slug cannot be mistaken for it.
ID_SLOT = "firmware-id"


@dataclass(frozen=True)
class FirmwareLinks:
    """Where the firmware of one org have their pages, from one `reverse()` for the whole list
    rather than one per link (a list of 200 firmware has 400). A routable id is letters, digits,
    dots, dashes and underscores only, which `reverse()` leaves as they are: so the id goes
    between the URL's parts around the slot as it is."""

    before: str
    after: str

    @classmethod
    def of_org(cls, slug: str) -> "FirmwareLinks":
        url = reverse("firmware:firmware_detail", kwargs={"slug": slug, "firmware_id": ID_SLOT})
        before, _, after = url.rpartition(ID_SLOT)
        return cls(before, after)

    def url(self, firmware_id: str) -> str | None:
        """The firmware's page; None for an id that cannot be part of a URL (it is not linked)."""
        return f"{self.before}{firmware_id}{self.after}" if routable(firmware_id) else None


@dataclass(frozen=True)
class FirmwareRow:
    """One firmware as the list shows it. Sizes and the created time are "" when unknown."""

    firmware_id: str
    name: str  # in the active language, any name, else the id
    url: str | None
    version: str | None
    product_key: str | None
    is_verified: bool | None
    enable_verification: bool | None
    size: str  # "50.0 MiB"
    exact_size: str  # "52,428,800"
    created: SafeString | str  # a <time> element in the viewer's zone

    @classmethod
    def of(cls, firmware: FirmwareInfo, links: FirmwareLinks) -> "FirmwareRow":
        return cls(
            firmware_id=firmware.firmware_id,
            name=firmware_name(firmware),
            url=links.url(firmware.firmware_id),
            version=firmware.version,
            product_key=firmware.product_key,
            is_verified=firmware.is_verified,
            enable_verification=firmware.enable_verification,
            size=binary_size(firmware.file_size),
            exact_size=grouped(firmware.file_size),
            created=local_time(firmware.created_at),
        )


def firmware_rows(firmware: Iterable[FirmwareInfo], org_slug: str) -> list[FirmwareRow]:
    """The rows of a list of the org's firmware, in the order given."""
    links = FirmwareLinks.of_org(org_slug)
    return [FirmwareRow.of(each, links) for each in firmware]


def rows_key(rows: Sequence[FirmwareRow]) -> str:
    """Names all the rows show (the time zone is in their times): the same rows, the same key."""
    return hashlib.sha256(repr(tuple(rows)).encode()).hexdigest()
