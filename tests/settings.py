"""The test suite's settings: production's, with a fast password hasher (hashing passwords with
the real one took most of the suite's time)."""

import os
import tempfile
from pathlib import Path

from fwportal.settings import *  # noqa: F403
from fwportal.settings import CACHES, LOCAL_CACHE, LOCAL_CACHE_MAX_BYTES, env

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

if not env.str("CACHE_URL", default=""):
    # In-process tests are one process, and many use the cache without the database; the
    # default database cache is what the gunicorn tests (tests/test_one_site.py, load) run.
    CACHES["default"] = {
        "BACKEND": LOCAL_CACHE,
        "LOCATION": "fwportal-tests",
        "OPTIONS": {"MAX_BYTES": LOCAL_CACHE_MAX_BYTES},
    }

# Downloaded firmware files of a test run stay out of the checkout (tests that look at the
# store give each test its own folder).
FIRMWARE_FILES_DIR = Path(tempfile.gettempdir()) / f"fwportal-test-files-{os.getpid()}"
