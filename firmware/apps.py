from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class FirmwareConfig(AppConfig):
    name = "firmware"
    verbose_name = _("Firmware")

    def ready(self) -> None:
        from firmware import audit, checks, signals

        signals.connect()
        audit.register()
        checks.register()
