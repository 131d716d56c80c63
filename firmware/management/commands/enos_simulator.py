from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from enos_simulator import cli


class Command(BaseCommand):
    help = "Run the EnOS gateway simulator (token service, Get and Search Firmware File)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        cli.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            cli.run(options)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from None
