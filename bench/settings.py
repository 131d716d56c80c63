"""fwportal's own settings plus one minimal page (bench/urls.py) to measure Django's floor."""

from fwportal.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
