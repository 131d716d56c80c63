"""`manage.py orgs …`: the admins' scripting interface to the org credential store."""

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from firmware import audit, services
from firmware.access import forget_access_answers
from firmware.credentials import UndecryptableSecret, reencrypt
from firmware.enos.errors import EnosError
from firmware.failures import describe
from firmware.models import Org


def _one_line(error: ValidationError) -> str:
    if hasattr(error, "error_dict"):
        return "; ".join(
            f"{field}: {' '.join(messages)}" for field, messages in error.message_dict.items()
        )
    return " ".join(error.messages)


class Command(BaseCommand):
    help = "Manage EnOS organizations: add, grant, revoke, list, test, rotate-keys."

    def add_arguments(self, parser: ArgumentParser) -> None:
        commands = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

        add = commands.add_parser(
            "add",
            help="Create or update an org. The secret key is read from the first line of stdin.",
        )
        add.add_argument("slug")
        add.add_argument("--name")
        add.add_argument("--org-id")
        add.add_argument("--gateway-url")
        add.add_argument("--access-key")
        add.add_argument(
            "--keep-secret",
            action="store_true",
            help="Update an existing org without reading a new secret key.",
        )
        enabled = add.add_mutually_exclusive_group()
        enabled.add_argument("--enable", dest="enabled", action="store_true", default=None)
        enabled.add_argument("--disable", dest="enabled", action="store_false")

        for name, verb in (("grant", "Let"), ("revoke", "No longer let")):
            sub = commands.add_parser(name, help=f"{verb} a user or a group see an org.")
            sub.add_argument("slug")
            who = sub.add_mutually_exclusive_group(required=True)
            who.add_argument("--user")
            who.add_argument("--group")

        commands.add_parser("list", help="List orgs (never their secret keys).")
        test = commands.add_parser(
            "test", help="Fetch an EnOS access token for an org, then search its firmware."
        )
        test.add_argument("slug")
        commands.add_parser(
            "rotate-keys", help="Re-encrypt every secret key with the first of CREDENTIALS_KEYS."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        action = options["action"].replace("-", "_")
        with audit.cli_actor():  # every change made here is audited as this OS user and host
            getattr(self, f"handle_{action}")(**options)

    def handle_add(self, slug: str, **options: Any) -> None:
        org = Org.objects.filter(slug=slug).first()
        creating = org is None
        if creating:
            missing = [
                f"--{name.replace('_', '-')}"
                for name in ("name", "org_id", "gateway_url", "access_key")
                if not options[name]
            ]
            if missing:
                raise CommandError(f"a new org needs {', '.join(missing)}")
            if options["keep_secret"]:
                raise CommandError("--keep-secret is for existing orgs; a new org needs a secret")
            org = Org(slug=slug)
        for name in ("name", "org_id", "gateway_url", "access_key", "enabled"):
            if options[name] is not None:
                setattr(org, name, options[name])
        namesake = org.namesake()
        if namesake is not None:
            raise CommandError(
                f"the name “{org.name}” is already used by org {namesake.slug} "
                "(names are unique, ignoring case)"
            )
        if not options["keep_secret"]:
            org.set_secret_key(self._read_secret())
        try:
            org.full_clean()
        except ValidationError as exc:
            raise CommandError(_one_line(exc)) from None
        org.save()
        self.stdout.write(f"{'Created' if creating else 'Updated'} org {org.slug}")

    def _read_secret(self) -> str:
        if sys.stdin.isatty():
            secret = getpass.getpass("EnOS secret key: ")
        else:
            secret = sys.stdin.readline()
        secret = secret.strip()
        if not secret:
            raise CommandError("the secret key (first line of standard input) is empty")
        return secret

    def handle_grant(self, slug: str, user: str | None, group: str | None, **_: Any) -> None:
        org, who, target = self._grant_target(slug, user, group)
        target.add(who)
        self.stdout.write(f"Granted {self._describe(user, group)} access to {org.slug}")

    def handle_revoke(self, slug: str, user: str | None, group: str | None, **_: Any) -> None:
        org, who, target = self._grant_target(slug, user, group)
        if not target.filter(pk=who.pk).exists():
            raise CommandError(f"{self._describe(user, group)} has no grant to {org.slug}")
        target.remove(who)
        self.stdout.write(f"Revoked {self._describe(user, group)} access to {org.slug}")

    @staticmethod
    def _describe(user: str | None, group: str | None) -> str:
        return f"user {user}" if user else f"group {group}"

    def _grant_target(self, slug: str, user: str | None, group: str | None) -> tuple:
        org = self._org(slug)
        if user:
            model = get_user_model()
            try:
                return org, model.objects.get(**{model.USERNAME_FIELD: user}), org.granted_users
            except model.DoesNotExist:
                raise CommandError(f"unknown user: {user}") from None
        try:
            return org, Group.objects.get(name=group), org.granted_groups
        except Group.DoesNotExist:
            raise CommandError(f"unknown group: {group}") from None

    def handle_list(self, **_: Any) -> None:
        orgs = Org.objects.prefetch_related("granted_users", "granted_groups").order_by("slug")
        rows = [("SLUG", "NAME", "ORGID", "GATEWAY", "ENABLED", "GRANTS")]
        for org in orgs:
            grants = [f"user:{u.get_username()}" for u in org.granted_users.all()]
            grants += [f"group:{g.name}" for g in org.granted_groups.all()]
            rows.append(
                (
                    org.slug,
                    org.name,
                    org.org_id,
                    org.gateway_url,
                    "yes" if org.enabled else "no",
                    ",".join(grants) or "-",
                )
            )
        widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
        for row in rows:
            cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
            self.stdout.write("  ".join([*cells, row[-1]]))

    def handle_test(self, slug: str, **_: Any) -> None:
        org = self._org(slug)
        try:
            firmware_count = services.check_connection(org)
        except EnosError as exc:
            reason = describe(exc).reason
            audit.record("connection_test", org, {"result": f"failed: {reason!s}"})
            raise CommandError(f"{org.slug}: {reason}") from None
        audit.record("connection_test", org, {"result": "OK"})
        self.stdout.write(
            f"OK: {org.slug} got an EnOS access token from {org.gateway_url} and EnOS answered "
            f"a firmware search of orgId {org.org_id} ({firmware_count} firmware)"
        )

    @transaction.atomic
    def handle_rotate_keys(self, **_: Any) -> None:
        orgs = list(Org.objects.select_for_update())
        for org in orgs:
            try:
                org.secret_key_encrypted = reencrypt(org.secret_key_encrypted)
            except UndecryptableSecret:
                raise CommandError(
                    f"{org.slug}: its secret key cannot be decrypted with CREDENTIALS_KEYS; "
                    "nothing was changed"
                ) from None
        Org.objects.bulk_update(orgs, ["secret_key_encrypted"])
        for org in orgs:  # bulk_update sends no signals: each org's entry is written here
            audit.record("keys_rotated", org)
        forget_access_answers()  # bulk_update sends no signals; cached orgs hold the old text
        self.stdout.write(f"Re-encrypted the secret keys of {len(orgs)} orgs with the newest key")

    @staticmethod
    def _org(slug: str) -> Org:
        try:
            return Org.objects.get(slug=slug)
        except Org.DoesNotExist:
            raise CommandError(f"unknown org: {slug}") from None
