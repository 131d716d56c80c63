from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

import enos_simulator


class Command(BaseCommand):
    help = "Run the EnOS gateway simulator (token service, Get and Search Firmware File)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        enos_simulator.add_arguments(parser)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            enos_simulator.run(options)
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {options['host']}:{options['port']}: {exc}"
            ) from None
