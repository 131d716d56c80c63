"""What a firmware page shows, derived once from a FirmwareInfo, so templates only format."""

import dataclasses
import hashlib
from dataclasses import dataclass
from functools import cached_property

from django.http import QueryDict
from django.utils.timesince import timesince
from django.utils.translation import gettext_lazy as _

from firmware.enos.types import FirmwareInfo, Page
from firmware.languages import locale_name, name_in
from firmware.services import Fetched


@dataclass(frozen=True)
class Translation:
    locale: str  # an EnOS locale such as zh_CN, or "default"
    label: str
    value: str

    @property
    def html_lang(self) -> str:
        """The BCP 47 tag for a lang attribute (zh-CN), or "" for the default value."""
        return "" if self.locale == "default" else self.locale.replace("_", "-")


@dataclass
class FirmwarePage:
    fetched: Fetched[FirmwareInfo]
    language: str

    @property
    def firmware(self) -> FirmwareInfo:
        return self.fetched.value

    @cached_property
    def name(self) -> str | None:
        return display_name(self.firmware, self.language)

    @property
    def title(self) -> str:
        return self.name or self.firmware.firmware_id

    @cached_property
    def fragment_key(self) -> str:
        """Names what EnOS said of this firmware (not which call said it), so the panels that
        show it are rendered once per content and language, however often it is fetched."""
        content = repr(dataclasses.replace(self.firmware, request_id=None))
        return hashlib.sha256(content.encode()).hexdigest()

    @property
    def fetch_key(self) -> tuple[object, ...]:
        """What the provenance and the stale banner show: which call fetched the answer, when,
        and how long ago that is."""
        fetched = self.fetched
        age = timesince(fetched.fetched_at)
        return (self.firmware.request_id, fetched.fetched_at, fetched.stale, age)

    @cached_property
    def other_names(self) -> list[Translation]:
        """The name's other translations, then its default value, leaving out what is shown."""
        names = [
            Translation(locale, locale_name(locale), value)
            for locale, value in sorted(self.firmware.name.translations.items())
        ]
        if self.firmware.name.default:
            names.append(Translation("default", str(_("Default")), self.firmware.name.default))
        return [name for name in names if name.value != self.name]

    @property
    def checksum_checkable(self) -> bool:
        """Whether the browser can check a local file against this sign."""
        return bool(self.firmware.sign) and self.firmware.sign_method in ("md5", "sha256")

    @property
    def has_thresholds(self) -> bool:
        """Whether both thresholds are set and make sense together (the parser has checked
        each is a count)."""
        at_most = self.firmware.max_allowed_for_verification
        at_least = self.firmware.min_success_for_verified
        return at_most is not None and at_least is not None and at_least <= at_most

    @property
    def thresholds_unknown(self) -> bool:
        """Whether EnOS sent thresholds that contradict each other: more devices must succeed
        than may take part."""
        at_most = self.firmware.max_allowed_for_verification
        at_least = self.firmware.min_success_for_verified
        return at_most is not None and at_least is not None and at_least > at_most


def display_name(firmware: FirmwareInfo, language: str) -> str | None:
    """The name in the viewer's language; failing that, any name is better than none."""
    fallback = next(iter(sorted(firmware.name.translations.values())), None)
    return name_in(firmware.name, language) or fallback


@dataclass
class FirmwareListPage:
    """One page of an org's firmware list and its pagination links (which keep the filters)."""

    fetched: Fetched[Page]
    query: QueryDict

    @property
    def page(self) -> Page:
        return self.fetched.value

    def url_for_page(self, page_no: int) -> str:
        query = self.query.copy()
        query["page"] = str(page_no)
        return "?" + query.urlencode()

    def _link(self, page_no: int) -> str | None:
        return None if page_no == self.page.page_no else self.url_for_page(page_no)

    @property
    def first_url(self) -> str | None:
        return self._link(1)

    @property
    def previous_url(self) -> str | None:
        return self._link(self.page.page_no - 1) if self.page.page_no > 1 else None

    @property
    def next_url(self) -> str | None:
        return (
            self._link(self.page.page_no + 1) if self.page.page_no < self.page.last_page else None
        )

    @property
    def last_url(self) -> str | None:
        return self._link(self.page.last_page)
