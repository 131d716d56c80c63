"""Encryption at rest of the orgs' EnOS secret keys (Fernet, rotatable via CREDENTIALS_KEYS)."""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """The stored secret key was encrypted with a key that CREDENTIALS_KEYS no longer holds."""


def _configured_keys() -> tuple[str, ...]:
    """CREDENTIALS_KEYS as used: each key stripped, empty entries left out."""
    return tuple(key.strip() for key in settings.CREDENTIALS_KEYS if key.strip())


def keys_problem() -> str | None:
    """What is wrong with CREDENTIALS_KEYS, in one line that never shows a key; None if nothing."""
    keys = _configured_keys()
    if not keys:
        return "CREDENTIALS_KEYS is empty: set one or more comma-separated Fernet keys."
    malformed = [str(position) for position, key in enumerate(keys, 1) if not _is_fernet_key(key)]
    if not malformed:
        return None
    positions = f"{', '.join(malformed)} of {len(keys)}"
    which = (
        f"entries {positions} are not Fernet keys"
        if len(malformed) > 1
        else f"entry {positions} is not a Fernet key"
    )
    return f"CREDENTIALS_KEYS {which}: each is 32 url-safe base64-encoded bytes, see .env.example."


def _is_fernet_key(key: str) -> bool:
    try:
        Fernet(key)
    except ValueError:
        return False
    return True


def _fernet() -> MultiFernet:
    return _fernet_for(_configured_keys())


@functools.cache
def _fernet_for(keys: tuple[str, ...]) -> MultiFernet:
    """Built once per set of keys: every page that calls EnOS decrypts an org's secret."""
    if not keys:
        raise ImproperlyConfigured("CREDENTIALS_KEYS must hold at least one Fernet key.")
    try:
        return MultiFernet([Fernet(key) for key in keys])
    except ValueError as exc:
        raise ImproperlyConfigured(
            "CREDENTIALS_KEYS must be comma-separated Fernet keys (see .env.example)."
        ) from exc


def encrypt(plaintext: str) -> str:
    return _fernet().encrypt(plaintext.encode()).decode()


def decrypt(ciphertext: str) -> str:
    try:
        return _fernet().decrypt(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret("none of CREDENTIALS_KEYS decrypts this secret key") from exc


def reencrypt(ciphertext: str) -> str:
    """The same secret, encrypted with the first (newest) key."""
    try:
        return _fernet().rotate(ciphertext.encode()).decode()
    except InvalidToken as exc:
        raise UndecryptableSecret("none of CREDENTIALS_KEYS decrypts this secret key") from exc
