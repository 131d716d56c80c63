"""fwportal's own settings plus one minimal page (bench/urls.py) to measure Django's floor."""

import os

from fwportal.settings import *  # noqa: F403
from fwportal.settings import STATIC_ROOT

ROOT_URLCONF = "bench.urls"
# The benchmark collects static files into its own temporary folder, not the checkout's.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", STATIC_ROOT)
