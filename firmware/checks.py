"""Settings fwportal cannot serve with, caught before serving: by `manage.py check` and
`migrate` (Django's system checks) and by every process that loads fwportal/wsgi.py."""

from collections.abc import Sequence
from typing import Any

from django.apps import AppConfig
from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from firmware import credentials

TAG = "fwportal"
SHORTEST_SECRET_KEY = 32


def check_secret_key(app_configs: Sequence[AppConfig] | None, **kwargs: Any) -> list[checks.Error]:
    try:
        secret_key = settings.SECRET_KEY
    except ImproperlyConfigured:  # Django's own refusal of an empty SECRET_KEY
        secret_key = ""
    if not secret_key:
        problem = "SECRET_KEY is empty"
    elif len(secret_key) < SHORTEST_SECRET_KEY and not settings.DEBUG:
        problem = f"SECRET_KEY is shorter than {SHORTEST_SECRET_KEY} characters"
    else:
        return []
    message = f"{problem}: set it to a long random string, e.g. secrets.token_urlsafe(50)."
    return [checks.Error(message, id="fwportal.E001")]


def check_credentials_keys(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.Error]:
    problem = credentials.keys_problem()
    return [] if problem is None else [checks.Error(problem, id="fwportal.E002")]


def check_history_settings(
    app_configs: Sequence[AppConfig] | None, **kwargs: Any
) -> list[checks.Error]:
    """A negative FIRMWARE_HISTORY_KEEP would fail the first page whose firmware changed."""
    keep = settings.FIRMWARE_HISTORY_KEEP
    if keep >= 0:
        return []
    message = (
        f"FIRMWARE_HISTORY_KEEP is {keep}: set it to the changes to keep per firmware, 0 or more."
    )
    return [checks.Error(message, id="fwportal.E003")]


def register() -> None:
    checks.register(check_secret_key, TAG)
    checks.register(check_credentials_keys, TAG)
    checks.register(check_history_settings, TAG)


def refuse_to_serve_misconfigured() -> None:
    """Raise ImproperlyConfigured, one line per error, when a check of fwportal's fails."""
    errors = [message for message in checks.run_checks(tags=[TAG]) if message.is_serious()]
    if errors:
        raise ImproperlyConfigured("\n".join(str(error) for error in errors))
