import re
from datetime import datetime, timedelta

from django import forms
from django.utils.translation import gettext_lazy as _

from firmware.enos.client import MAX_PAGE_SIZE
from firmware.models import Org
from firmware.presentation import JOB_STATUSES as JOB_STATUS_LABELS
from firmware.presentation import JOB_TYPES as JOB_TYPE_LABELS
from firmware.presentation import TASK_STATUSES as TASK_STATUS_LABELS
from firmware.search import JOB_STATUSES, JOB_TYPES, TASK_STATUSES, FirmwareFilters, JobFilters
from firmware.time_zones import LONGEST_NAME, is_zone

# What EnOS hands out, and nothing a URL could be tricked with: "." and ".." alone are a path's
# "this folder" and "the folder above", which browsers resolve away before asking for the page.
FIRMWARE_ID_PATTERN = re.compile(r"^(?!\.\.?$)[A-Za-z0-9._-]{1,128}$")
FIRMWARE_ID_RULE = _(
    "A firmware ID holds up to 128 letters, digits, '-', '_' and '.', and is not '.' or '..' alone."
)
# The same rule as firmware ids.
JOB_ID_PATTERN = FIRMWARE_ID_PATTERN
# What people type when they mean a version: 3.2, v3.2.1, 3.2.1-beta.
VERSION_PATTERN = re.compile(r"^[vV]?\d+(?:\.\d+)+(?:[-+][0-9A-Za-z.-]+)?$")


class OrgAdminForm(forms.ModelForm):
    """Org form with a write-only secret key: required for a new org; blank keeps the current."""

    secret_key = forms.CharField(
        label=_("Secret key"),
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text=_("Write-only. Leave blank to keep the current secret key."),
    )

    class Meta:
        model = Org
        fields = [
            "name",
            "slug",
            "org_id",
            "gateway_url",
            "access_key",
            "secret_key",
            "enabled",
            "granted_users",
            "granted_groups",
        ]

    def clean_secret_key(self) -> str:
        secret_key = self.cleaned_data["secret_key"]
        if not secret_key and not self.instance.secret_key_encrypted:
            raise forms.ValidationError(_("A new organization needs its EnOS secret key."))
        return secret_key

    def save(self, commit: bool = True) -> Org:
        if self.cleaned_data["secret_key"]:
            self.instance.set_secret_key(self.cleaned_data["secret_key"])
        return super().save(commit)


class FindFirmwareForm(forms.Form):
    """Firmware id and an org (or none: every org the user may see) -> the firmware's page."""

    org = forms.ChoiceField(label=_("Organization"), required=False)
    firmware_id = forms.CharField(
        label=_("Firmware ID"),
        max_length=128,
        strip=True,
        widget=forms.TextInput(
            attrs={"placeholder": "fw-…", "autocomplete": "off", "spellcheck": "false"}
        ),
    )

    def __init__(self, *args, orgs, **kwargs):
        super().__init__(*args, **kwargs)
        choices = [(org.slug, org.name) for org in orgs]
        if len(choices) > 1:
            choices.insert(0, ("", _("All my organizations")))
        self.fields["org"].choices = choices

    def clean_firmware_id(self) -> str:
        firmware_id = self.cleaned_data["firmware_id"]
        if not FIRMWARE_ID_PATTERN.match(firmware_id):
            raise forms.ValidationError(FIRMWARE_ID_RULE)
        return firmware_id


PRODUCT_KEY_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class FirmwareFilterForm(forms.Form):
    """The firmware list's filters, read from the query string so a filtered list is a URL."""

    q = forms.CharField(
        label=_("Name contains"),
        required=False,
        max_length=100,
        strip=True,
        help_text=_("Searches the default, Chinese and English names only."),
    )
    productKey = forms.CharField(  # the query parameter name operators bookmark
        label=_("Product keys"),
        required=False,
        max_length=1000,
        help_text=_("One or several, comma-separated."),
    )
    verified = forms.ChoiceField(
        label=_("Verified"),
        required=False,
        choices=[("", _("Any")), ("true", _("Verified")), ("false", _("Not verified"))],
    )
    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=1_000_000)
    page_size = forms.IntegerField(
        label=_("Per page"), required=False, min_value=1, max_value=MAX_PAGE_SIZE
    )
    sort = forms.ChoiceField(
        label=_("Sort this page"),
        required=False,
        choices=[
            ("", _("Newest first (EnOS's order)")),
            ("name", _("Name, A to Z")),
            ("-name", _("Name, Z to A")),
            ("version", _("Version, lowest first")),
            ("-version", _("Version, highest first")),
            ("size", _("Size, smallest first")),
            ("-size", _("Size, largest first")),
            ("created", _("Created, oldest first")),
            ("-created", _("Created, newest first")),
        ],
    )

    # The filters that change what EnOS is asked for or how it is shown, so count as "active".
    ACTIVE_FIELDS = ("q", "productKey", "verified", "page_size", "sort")

    def clean_productKey(self) -> tuple[str, ...]:
        keys = [key.strip() for key in self.cleaned_data["productKey"].split(",") if key.strip()]
        for key in keys:
            if not PRODUCT_KEY_PATTERN.match(key):
                raise forms.ValidationError(
                    _("“%(key)s” is not a product key (letters, digits, '-' and '_')."),
                    params={"key": key},
                )
        return tuple(dict.fromkeys(keys))

    def paging(self) -> dict[str, int]:
        """The page asked for; what is not asked for is left to the service's defaults."""
        asked = {"page": self.cleaned_data["page"], "page_size": self.cleaned_data["page_size"]}
        return {name: value for name, value in asked.items() if value}

    @property
    def active_count(self) -> int:
        """How many filters the query string sets (a bound, valid or invalid form)."""
        return sum(1 for name in self.ACTIVE_FIELDS if self.data.get(name, "").strip())

    def sort_label(self) -> str:
        """The order asked for, in words."""
        return str(dict(self.fields["sort"].choices).get(self.cleaned_data["sort"], ""))

    def typed_id(self) -> str | None:
        """The name searched for, when it looks like a firmware id rather than a name (an
        id's shape, with a digit or one of '-', '_', '.') and not like a version."""
        text = self.cleaned_data["q"]
        if not FIRMWARE_ID_PATTERN.match(text) or VERSION_PATTERN.match(text):
            return None
        return text if re.search(r"[0-9._-]", text) else None

    def typed_version(self) -> str | None:
        """The name searched for, when it looks like a version (EnOS cannot search by one)."""
        text = self.cleaned_data["q"]
        return text if VERSION_PATTERN.match(text) else None

    def filters(self) -> FirmwareFilters:
        data = self.cleaned_data
        verified = {"true": True, "false": False}.get(data["verified"])
        return FirmwareFilters(data["q"], data["productKey"], verified)


class PagedForm(forms.Form):
    """A list page's page number (and size) from the query string, as the firmware list has."""

    page = forms.IntegerField(label=_("Page"), required=False, min_value=1, max_value=1_000_000)

    def paging(self) -> dict[str, int]:
        """The page asked for; what is not asked for is left to the service's defaults."""
        asked = {"page": self.cleaned_data["page"], "page_size": self.cleaned_data.get("page_size")}
        return {name: value for name, value in asked.items() if value}


def _choices(any_label: str, values: tuple[str, ...], labels: dict) -> list[tuple[str, str]]:
    return [("", any_label), *((value, labels[value]) for value in values)]


class JobFilterForm(PagedForm):
    """An org's OTA jobs: type, status and firmware filters, read from the query string."""

    type = forms.ChoiceField(
        label=_("Type"), required=False, choices=_choices(_("Any type"), JOB_TYPES, JOB_TYPE_LABELS)
    )
    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(_("Any status"), JOB_STATUSES, JOB_STATUS_LABELS),
    )
    firmware = forms.CharField(
        label=_("Firmware ID"),
        required=False,
        max_length=128,
        strip=True,
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    page_size = forms.IntegerField(
        label=_("Per page"), required=False, min_value=1, max_value=MAX_PAGE_SIZE
    )

    ACTIVE_FIELDS = ("type", "status", "firmware", "page_size")

    def clean_firmware(self) -> str:
        firmware_id = self.cleaned_data["firmware"]
        if firmware_id and not FIRMWARE_ID_PATTERN.match(firmware_id):
            raise forms.ValidationError(FIRMWARE_ID_RULE)
        return firmware_id

    @property
    def active_count(self) -> int:
        """How many filters the query string sets (a bound, valid or invalid form)."""
        return sum(1 for name in self.ACTIVE_FIELDS if self.data.get(name, "").strip())

    def filters(self) -> JobFilters:
        data = self.cleaned_data
        return JobFilters(firmware_id=data["firmware"], type=data["type"], status=data["status"])


class TaskFilterForm(PagedForm):
    """A job's tasks: only those in one status, when asked (`?status=failed&page=2`)."""

    status = forms.ChoiceField(
        label=_("Status"),
        required=False,
        choices=_choices(_("Any status"), TASK_STATUSES, TASK_STATUS_LABELS),
    )


class DeviceFilterForm(PagedForm):
    """The devices on a version: all of them, or only those upgrading now (`?upgrading=1`)."""

    upgrading = forms.ChoiceField(
        label=_("Show"),
        required=False,
        choices=[("", _("Every device on this version")), ("1", _("Only those upgrading now"))],
    )

    @property
    def upgrading_only(self) -> bool:
        return self.cleaned_data["upgrading"] == "1"


class TimeZoneForm(forms.Form):
    """The viewer's choice of time zone: an IANA name ("Asia/Tokyo"), or their browser's zone."""

    time_zone = forms.CharField(
        label=_("Time zone"),
        required=False,
        max_length=LONGEST_NAME,
        strip=True,
        help_text=_(
            "Type part of a city or region, e.g. Tokyo or Madrid, and pick it from the list."
        ),
        widget=forms.TextInput(
            attrs={"list": "time-zones", "autocomplete": "off", "spellcheck": "false"}
        ),
    )
    use_browser = forms.BooleanField(required=False)

    def clean_time_zone(self) -> str:
        name = self.cleaned_data["time_zone"]
        if name and not is_zone(name):
            raise forms.ValidationError(
                _("“%(name)s” is not a time zone: pick one from the list, e.g. Europe/Madrid."),
                params={"name": name},
            )
        return name

    def clean(self) -> dict:
        data = super().clean()
        if not data.get("use_browser") and not data.get("time_zone") and not self.errors:
            raise forms.ValidationError(_("Pick a time zone, or use your browser's."))
        return data

    def chosen(self) -> str | None:
        """The zone chosen; None: the browser's."""
        return None if self.cleaned_data["use_browser"] else self.cleaned_data["time_zone"]


class ApiTokenForm(forms.Form):
    """A new personal API token: a name its owner knows it by, and how long it lives."""

    LIFETIMES = {"30": 30, "90": 90, "365": 365, "never": None}  # days

    name = forms.CharField(
        label=_("Token name"),
        max_length=100,
        strip=True,
        help_text=_("What the token is for, e.g. “nightly CI check”."),
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    expires = forms.ChoiceField(
        label=_("Expires"),
        initial="90",
        choices=[
            ("30", _("In 30 days")),
            ("90", _("In 90 days")),
            ("365", _("In a year")),
            ("never", _("Never")),
        ],
    )

    def expires_at(self, now: datetime) -> datetime | None:
        days = self.LIFETIMES[self.cleaned_data["expires"]]
        return None if days is None else now + timedelta(days=days)
