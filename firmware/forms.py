import re

from django import forms
from django.utils.translation import gettext_lazy as _

from firmware.models import Org

FIRMWARE_ID_PATTERN = re.compile(r"^[A-Za-z0-9._-]{1,128}$")


class OrgAdminForm(forms.ModelForm):
    """Org form with a write-only secret key: required for a new org; blank keeps the current."""

    secret_key = forms.CharField(
        label=_("secret key"),
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
    """Org + firmware id -> the firmware's page."""

    org = forms.ChoiceField(label=_("Organization"))
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
        self.fields["org"].choices = [(org.slug, org.name) for org in orgs]

    def clean_firmware_id(self) -> str:
        firmware_id = self.cleaned_data["firmware_id"]
        if not FIRMWARE_ID_PATTERN.match(firmware_id):
            raise forms.ValidationError(
                _("A firmware ID holds up to 128 letters, digits, '-', '_' and '.'.")
            )
        return firmware_id
