"""What a firmware page shows, derived once from a FirmwareInfo, so templates only format."""

from dataclasses import dataclass
from functools import cached_property

from django.utils.translation import gettext_lazy as _

from firmware.enos.types import FirmwareInfo
from firmware.services import Fetched

LOCALE_NAMES = {
    "en_US": _("English"),
    "zh_CN": _("Simplified Chinese"),
    "ja_JP": _("Japanese"),
    "es_ES": _("Spanish"),
}


@dataclass(frozen=True)
class Translation:
    locale: str
    label: str
    value: str


@dataclass
class FirmwarePage:
    fetched: Fetched
    language: str

    @property
    def firmware(self) -> FirmwareInfo:
        return self.fetched.firmware

    @cached_property
    def name(self) -> str | None:
        """The name in the viewer's language; failing that, any name is better than none."""
        name = self.firmware.name
        fallback = next(iter(sorted(name.translations.values())), None)
        return name.for_locale(self.language) or fallback

    @property
    def title(self) -> str:
        return self.name or self.firmware.firmware_id

    @cached_property
    def other_names(self) -> list[Translation]:
        """The name's other translations, then its default value, leaving out what is shown."""
        names = [
            Translation(locale, str(LOCALE_NAMES.get(locale, locale)), value)
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
        return (
            self.firmware.max_allowed_for_verification is not None
            and self.firmware.min_success_for_verified is not None
        )
