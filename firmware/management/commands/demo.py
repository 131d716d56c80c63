"""`manage.py demo`: demo orgs on the simulator and demo logins, printed for a newcomer; then a
firmware's file downloaded and verified, as the Download button does it."""

import secrets
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.urls import reverse

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID, DEMO_ORG_ID_2
from firmware import downloads, services
from firmware.enos.errors import EnosError
from firmware.models import Org
from firmware.signs import NotDownloadable

DEMO_ORGS = [
    ("demo", "Demo Wind Farm", DEMO_ORG_ID),
    ("demo-solar", "Demo Solar Park", DEMO_ORG_ID_2),
]
DEMO_DOWNLOAD = "fw-turbine-ctrl-3.2.1"


class Command(BaseCommand):
    help = "Create demo orgs pointing at the EnOS simulator, and demo logins (new passwords)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--gateway-url", default="http://127.0.0.1:8090")

    @transaction.atomic
    def handle(self, *args: Any, gateway_url: str, **options: Any) -> None:
        users = get_user_model()
        operator, operator_password = self._user(users, "operator", superuser=False)
        _admin, admin_password = self._user(users, "admin", superuser=True)
        for slug, name, org_id in DEMO_ORGS:
            # An existing demo org keeps its name: an admin may have renamed it (names are unique).
            org = Org.objects.filter(slug=slug).first() or Org(slug=slug, name=name)
            org.org_id, org.gateway_url = org_id, gateway_url
            org.access_key, org.enabled = DEMO_APP_KEY, True
            org.set_secret_key(DEMO_APP_SECRET)
            try:
                org.full_clean()
            except ValidationError as exc:
                raise CommandError(f"demo org {slug}: {' '.join(exc.messages)}") from None
            org.save()
            org.granted_users.add(operator)
        self.stdout.write(f"Demo orgs {', '.join(s for s, _, _ in DEMO_ORGS)} -> {gateway_url}")
        self.stdout.write(f"Operator login: operator / {operator_password}")
        self.stdout.write(f"Admin login:    admin / {admin_password}  (also /admin/)")
        self._download(Org.objects.get(slug=DEMO_ORGS[0][0]))

    def _download(self, org: Org) -> None:
        """Fetch and verify one firmware's file (kept in FIRMWARE_FILES_DIR), saying how it went;
        a simulator that is not running is no reason to fail the demo's setup."""
        try:
            firmware = services.get_firmware(org, DEMO_DOWNLOAD, use_database=False).value
            verified = downloads.verified_file(org, firmware)
        except (EnosError, NotDownloadable, downloads.FileMismatch) as exc:
            self.stdout.write(f"Download of {DEMO_DOWNLOAD} failed: {exc}")
            return
        verified.kept.file.close()
        page = reverse("firmware:firmware_detail", args=[org.slug, DEMO_DOWNLOAD])
        self.stdout.write(
            f"Downloaded and verified {downloads.file_name(firmware, 'en')}: "
            f"{verified.kept.size:,} bytes, {verified.method} {verified.digest}; its page's "
            f"Download button: {page}"
        )

    @staticmethod
    def _user(users: Any, username: str, *, superuser: bool) -> tuple[Any, str]:
        password = secrets.token_urlsafe(9)
        user = users.objects.filter(username=username).first() or users(username=username)
        user.is_staff = user.is_superuser = superuser
        user.set_password(password)
        user.save()
        return user, password
