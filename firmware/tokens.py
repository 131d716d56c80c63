"""Personal API tokens: made, recognised and revoked here, nowhere else.

A token is `fwp_` and 43 characters of `secrets.token_urlsafe(32)`: 256 random bits. Only its
plain SHA-256 is stored. A keyed hash (HMAC with a server secret) or a slow one (as for
passwords) only helps where the secret is guessable; nobody can search 2**256 tokens, so the
plain digest is as safe, keeps tokens valid across a SECRET_KEY rotation, and is looked up by
its unique index in one query. The prefix lets secret scanners recognise a leaked token.
"""

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Q, QuerySet
from django.utils import timezone

from firmware import audit
from firmware.models import ApiToken

PREFIX = "fwp_"
HINT_LENGTH = len(PREFIX) + 6  # what a list shows so its owner can tell tokens apart
LAST_USED_EVERY = timedelta(minutes=1)  # a busy token costs one write a minute, not one a request
TOKEN_LENGTH = len(PREFIX) + 43


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


@dataclass(frozen=True)
class NewToken:
    """A token just made: `raw` is shown once to its owner and kept nowhere."""

    token: ApiToken
    raw: str


def create(user: AbstractBaseUser, name: str, expires_at: datetime | None = None) -> NewToken:
    raw = PREFIX + secrets.token_urlsafe(32)
    token = ApiToken.objects.create(
        user=user,
        name=name,
        token_hash=digest(raw),
        hint=raw[:HINT_LENGTH],
        expires_at=expires_at,
    )
    audit.record(
        "api_token_created", token, {"name": name, "owner": user.get_username()}, actor=user
    )
    return NewToken(token, raw)


def authenticate(raw: str) -> ApiToken | None:
    """The token, if `raw` is one that is neither revoked nor expired and whose user is active;
    notes when it was last used (at most once a minute)."""
    if not raw.startswith(PREFIX) or len(raw) != TOKEN_LENGTH:
        return None
    now = timezone.now()
    token = (
        ApiToken.objects.select_related("user")
        .filter(token_hash=digest(raw), revoked_at__isnull=True)
        .filter(Q(expires_at__isnull=True) | Q(expires_at__gt=now))
        .first()
    )
    if token is None or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        # Conditional, so workers racing on one token write once.
        ApiToken.objects.filter(pk=token.pk).filter(
            Q(last_used_at__isnull=True) | Q(last_used_at__lte=now - LAST_USED_EVERY)
        ).update(last_used_at=now)
        token.last_used_at = now
    return token


def of(user: AbstractBaseUser) -> QuerySet[ApiToken]:
    return ApiToken.objects.filter(user=user)


def revoke(tokens: QuerySet[ApiToken]) -> int:
    """Revoke these tokens (those not revoked already); how many were. Each is in the audit
    trail (an update() sends no signal for auditlog to see)."""
    live = tokens.filter(revoked_at__isnull=True)
    for token in live.select_related("user"):
        audit.record(
            "api_token_revoked", token, {"name": token.name, "owner": token.user.get_username()}
        )
    return live.update(revoked_at=timezone.now())


def is_live(token: ApiToken) -> bool:
    return token.revoked_at is None and (
        token.expires_at is None or token.expires_at > timezone.now()
    )
