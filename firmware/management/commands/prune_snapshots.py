"""`manage.py prune_snapshots`: forget firmware EnOS has not confirmed for a while."""

from argparse import ArgumentParser
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from firmware import history


class Command(BaseCommand):
    help = (
        "Delete the kept EnOS answer and the history of every firmware EnOS has not confirmed "
        "for N days (default: FIRMWARE_SNAPSHOT_DAYS)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        # Read as text, so a bad value is a CommandError (exit 1) like every other bad input.
        parser.add_argument("--older-than-days", metavar="N")

    def handle(self, *args: Any, older_than_days: str | None, **options: Any) -> None:
        if older_than_days is None:
            days = _days(str(settings.FIRMWARE_SNAPSHOT_DAYS), "FIRMWARE_SNAPSHOT_DAYS")
        else:
            days = _days(older_than_days, "--older-than-days")
        pruned = history.prune(timedelta(days=days))
        if options["verbosity"] >= 1:
            for slug, firmware_id, confirmed_at in pruned.firmware:
                self.stdout.write(f"{slug} {firmware_id} (last confirmed {confirmed_at:%Y-%m-%d})")
        self.stdout.write(
            f"Deleted {len(pruned.firmware)} firmware snapshot(s) and {pruned.changes} "
            f"change(s) not confirmed by EnOS for {days} day(s)."
        )


def _days(value: str, name: str) -> int:
    try:
        days = int(value)
    except ValueError:
        days = 0
    if days < 1:
        raise CommandError(f"{name} must be a whole number of days, at least 1: {value!r}")
    return days
