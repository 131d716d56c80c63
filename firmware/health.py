"""Liveness of what every page needs: the database, the cache and usable credential keys."""

import logging
import uuid

from django.core.cache import cache
from django.db import DatabaseError, connection

from firmware import credentials

logger = logging.getLogger(__name__)


def _database_answers() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            return cursor.fetchone() == (1,)
    except DatabaseError:
        logger.warning("health check: the database does not answer", exc_info=True)
        return False


def _cache_answers() -> bool:
    key, value = "healthz", uuid.uuid4().hex
    try:
        cache.set(key, value, timeout=10)
        return cache.get(key) == value
    except Exception:  # any cache backend's connection error means "does not answer"
        logger.warning("health check: the cache does not answer", exc_info=True)
        return False


def _credential_keys_usable() -> bool:
    problem = credentials.keys_problem()
    if problem is not None:
        logger.warning("health check: %s", problem)
    return problem is None


def run_checks() -> dict[str, bool]:
    return {
        "database": _database_answers(),
        "cache": _cache_answers(),
        "credential_keys": _credential_keys_usable(),
    }
