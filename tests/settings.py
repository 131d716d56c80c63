"""The test suite's settings: production's, with a fast password hasher (hashing passwords with
the real one took most of the suite's time)."""

from fwportal.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
