"""What a firmware page shows, derived once from a FirmwareInfo, so templates only format."""

import dataclasses
import hashlib
import itertools
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property

from django.conf import settings
from django.http import QueryDict
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from firmware.enos.client import MAX_PAGE_SIZE
from firmware.enos.types import FirmwareInfo, Page
from firmware.history import History
from firmware.languages import locale_name, shown_name
from firmware.models import FirmwareChange
from firmware.services import Fetched
from firmware.signs import is_downloadable
from firmware.standing import Standing


@dataclass(frozen=True)
class Translation:
    locale: str  # an EnOS locale such as zh_CN, or "default"
    label: str
    value: str

    @property
    def html_lang(self) -> str:
        """The BCP 47 tag for a lang attribute (zh-CN), or "" for the default value."""
        return "" if self.locale == "default" else self.locale.replace("_", "-")


# What a history entry calls each field of FirmwareInfo (firmware/history.py's FIELDS).
FIELD_LABELS = {
    "name": _("Name"),
    "translated_name": _("Name"),
    "version": _("Version"),
    "description": _("Description"),
    "product_key": _("Product key"),
    "org_id": _("EnOS orgId"),
    "created_at": _("Created"),
    "enable_verification": _("Verification required"),
    "is_verified": _("Verified"),
    "max_allowed_for_verification": _("Devices taking part in verification (at most)"),
    "min_success_for_verified": _("Devices that must succeed (at least)"),
    "tag": _("Tag"),
    "sign_method": _("Sign method"),
    "sign": _("Sign"),
    "file_url": _("File"),
    "file_size": _("Size"),
}
# How a template formats each field's values; any other field is text EnOS sent.
VALUE_KINDS = {
    "created_at": "time",
    "enable_verification": "boolean",
    "is_verified": "boolean",
    "max_allowed_for_verification": "count",
    "min_success_for_verified": "count",
    "file_size": "size",
    "product_key": "code",
    "org_id": "code",
    "sign_method": "code",
    "sign": "code",
    "file_url": "code",
}


# What EnOS's job and task values are called on the pages; a value EnOS adds later is shown as
# it is sent.
JOB_TYPES = {"verify": _("Verification"), "upgrade": _("Upgrade")}
JOB_STATUSES = {"started": _("Started"), "stopped": _("Stopped")}
UPGRADE_POLICIES = {
    "snapshot": _("Devices in scope when the job was made"),
    "incremental": _("Devices in scope, including those that join later"),
}
TASK_STATUSES = {
    "init": _("Waiting"),
    "published": _("Sent to device"),
    "upgrading": _("Upgrading"),
    "succeeded": _("Succeeded"),
    "failed": _("Failed"),
}


@dataclass(frozen=True)
class Change:
    """One field's change as a page shows it: `label (detail): old -> new`; `detail` is the
    language of a translated name or a tag's key, and a missing value is None."""

    label: str
    detail: str | None
    kind: str
    old: object
    new: object
    affects_file: bool

    @classmethod
    def of(cls, change: FirmwareChange) -> "Change":
        field = change.field
        kind = VALUE_KINDS.get(field, "text")
        details = {"name": _("Default"), "translated_name": locale_name(change.key)}
        return cls(
            label=str(FIELD_LABELS.get(field, field)),
            detail=str(details.get(field, change.key)) or None,
            kind=kind,
            old=_value(kind, change.old),
            new=_value(kind, change.new),
            affects_file=change.affects_file,
        )


def _value(kind: str, text: str | None) -> object:
    """A change's stored text as the value its template formats."""
    if text is None:
        return None
    if kind == "boolean":
        return text == "true"
    if kind in ("count", "size"):
        return int(text)
    if kind == "time":
        return datetime.fromisoformat(text)
    return text


@dataclass(frozen=True)
class Revision:
    """The fields that changed in one new EnOS answer, first seen at `changed_at`."""

    changed_at: datetime
    changes: list[Change]


@dataclass
class FirmwarePage:
    fetched: Fetched[FirmwareInfo]
    language: str
    history: History | None = None
    standing: Standing | None = None

    @property
    def firmware(self) -> FirmwareInfo:
        return self.fetched.value

    @cached_property
    def name(self) -> str | None:
        return display_name(self.firmware, self.language)

    @property
    def title(self) -> str:
        return self.name or self.firmware.firmware_id

    @property
    def downloadable(self) -> bool:
        """Whether the file can be verified, and so be served (firmware/downloads.py)."""
        return is_downloadable(self.firmware)

    @cached_property
    def fragment_key(self) -> str:
        """Names what EnOS said of this firmware (not which call said it), so the panels that
        show it are rendered once per content and language, however often it is fetched."""
        content = repr(dataclasses.replace(self.firmware, request_id=None))
        return hashlib.sha256(content.encode()).hexdigest()

    @property
    def history_key(self) -> tuple[object, ...] | None:
        """All the history shown depends on (with the language)."""
        return None if self.history is None else self.history.key

    @cached_property
    def revisions(self) -> list[Revision]:
        """The changes kept, newest first, grouped by the answer that brought them."""
        changes = self.history.changes if self.history else []
        return [
            Revision(changed_at, [Change.of(change) for change in group])
            for changed_at, group in itertools.groupby(changes, key=lambda c: c.changed_at)
        ]

    @cached_property
    def file_revision(self) -> Revision | None:
        """The latest change of the file fields kept (sign, sign method, URL, size), if any."""
        for revision in self.revisions:
            file_changes = [change for change in revision.changes if change.affects_file]
            if file_changes:
                return Revision(revision.changed_at, file_changes)
        return None

    @property
    def history_keep(self) -> int:
        return settings.FIRMWARE_HISTORY_KEEP

    @property
    def history_bounded(self) -> bool:
        """Whether older changes may have been let go (only the last N are kept)."""
        return sum(len(revision.changes) for revision in self.revisions) >= self.history_keep

    @property
    def fetch_key(self) -> tuple[object, ...]:
        """What the provenance and the stale banner show: which call fetched the answer, when,
        and how long ago that is."""
        fetched = self.fetched
        age = time_ago(fetched.fetched_at)
        return (self.firmware.request_id, fetched.fetched_at, fetched.stale, age)

    @cached_property
    def other_names(self) -> list[Translation]:
        """The name's other translations, then its default value: each value once, under the
        first label that has it, and never the name already shown."""
        names = [
            Translation(locale, locale_name(locale), value)
            for locale, value in sorted(self.firmware.name.translations.items())
        ]
        if self.firmware.name.default:
            names.append(Translation("default", str(_("Default")), self.firmware.name.default))
        seen = {self.name}
        distinct = []
        for name in names:
            if name.value and name.value not in seen:
                seen.add(name.value)
                distinct.append(name)
        return distinct

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


def time_ago(moment: datetime) -> str:
    """How long ago a moment was, in the active language: "just now" within a minute (or a
    moment ahead of our clock), else "5 minutes ago"."""
    if timezone.now() - moment < timedelta(minutes=1):
        return gettext("just now")
    return gettext("%(age)s ago") % {"age": timesince(moment)}


def display_name(firmware: FirmwareInfo, language: str) -> str | None:
    """The name in the viewer's language; failing that, any name is better than none."""
    return shown_name(firmware.name, language)


def version_key(version: str) -> tuple[tuple[int, int, str], ...]:
    """Orders versions naturally: numbers as numbers (3.10 after 3.9), text as text, any
    leading "v" ignored."""
    chunks = re.findall(r"\d+|\D+", version.strip().removeprefix("v").removeprefix("V"))
    return tuple((0, int(c), "") if c.isdigit() else (1, 0, c.casefold()) for c in chunks)


@dataclass(frozen=True)
class SortHeader:
    """A sortable column's header: the link that sorts by it and its aria-sort, if sorted."""

    url: str
    aria_sort: str | None


class Paged:
    """A list page's pagination links, which keep its query string (the filters); the list
    gives `query` and `page`."""

    query: QueryDict
    page: Page

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


@dataclass
class FirmwareListPage(Paged):
    """One page of an org's firmware list, sorted as asked, and its pagination and sorting links
    (which keep the filters)."""

    fetched: Fetched[Page]
    query: QueryDict
    language: str = "en"
    sort: str = ""

    @property
    def page(self) -> Page:
        return self.fetched.value

    def _sort_keys(self) -> dict[str, Callable[[FirmwareInfo], object]]:
        def name(firmware: FirmwareInfo) -> str | None:
            shown = display_name(firmware, self.language)
            return shown.casefold() if shown else None

        return {
            "name": name,
            "version": lambda firmware: version_key(firmware.version) if firmware.version else None,
            "size": lambda firmware: firmware.file_size,
            "created": lambda firmware: firmware.created_at,
        }

    @cached_property
    def items(self) -> list[FirmwareInfo]:
        """This page's firmware in the order asked for; EnOS cannot sort, so only this page is
        sorted. Firmware without the value sorted by come last either way."""
        items = list(self.page.items)
        if not self.sort:
            return items
        key = self._sort_keys()[self.sort.removeprefix("-")]
        known = [firmware for firmware in items if key(firmware) is not None]
        missing = [firmware for firmware in items if key(firmware) is None]
        return sorted(known, key=key, reverse=self.sort.startswith("-")) + missing

    @cached_property
    def sort_headers(self) -> dict[str, SortHeader]:
        """Per sortable column: ascending first, then the other way round. Unsorted, the list is
        in EnOS's order: newest created first."""
        headers = {}
        for column in self._sort_keys():
            if self.sort == column:
                headers[column] = SortHeader(self.url_for_sort("-" + column), "ascending")
            elif self.sort == "-" + column or (not self.sort and column == "created"):
                headers[column] = SortHeader(self.url_for_sort(column), "descending")
            else:
                headers[column] = SortHeader(self.url_for_sort(column), None)
        return headers

    def url_for_sort(self, sort: str) -> str:
        query = self.query.copy()
        query["sort"] = sort
        return "?" + query.urlencode()

    @property
    def by_version_url(self) -> str:
        """The list without the name searched for, as many a page as EnOS gives, highest version
        first: the nearest to a search by version that EnOS allows."""
        query = self.query.copy()
        for name in ("q", "page"):
            query.pop(name, None)
        query["sort"] = "-version"
        query["page_size"] = str(MAX_PAGE_SIZE)
        return "?" + query.urlencode()

    @property
    def csv_query(self) -> str:
        """The CSV export's query: these filters, every page (EnOS's order: sorting is per page)."""
        query = self.query.copy()
        for name in ("page", "page_size", "sort", "format"):
            query.pop(name, None)
        query["format"] = "csv"
        return "?" + query.urlencode()

    @property
    def unsorted_url(self) -> str:
        """This page in EnOS's order."""
        query = self.query.copy()
        query.pop("sort", None)
        return "?" + query.urlencode()
