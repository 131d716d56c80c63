"""Encryption at rest of the orgs' EnOS secret keys (Fernet, rotatable via CREDENTIALS_KEYS)."""

import functools

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class UndecryptableSecret(Exception):
    """The stored secret key was encrypted with a key that CREDENTIALS_KEYS no longer holds."""


def _fernet() -> MultiFernet:
    return _fernet_for(tuple(key.strip() for key in settings.CREDENTIALS_KEYS if key.strip()))


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
