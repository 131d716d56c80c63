"""Django's database cache, writing an entry in one statement instead of four.

Django's DatabaseCache writes an entry by counting the whole table (to cull it when over
MAX_ENTRIES), then, in a transaction, looking the key up and updating or inserting it. fwportal's
default shared cache is that table, and a page writes to it for every EnOS answer it fetches (the
fresh copy, the last good copy, the single-flight lock), so those statements were most of what an
EnOS call cost a worker besides the call itself (issue 18).

On SQLite (3.24 and later) and PostgreSQL, the databases fwportal runs on, this writes each entry
with one `INSERT ... ON CONFLICT DO UPDATE`, atomic on its own (and concurrency-safe), and
`set_many` writes all its entries in one statement. `add` is the same statement updating only an
expired entry, so it succeeds exactly when Django's would. The table is counted, and culled as
Django culls it, on one write in COUNT_EVERY of each process rather than on every write: between
two counts it may hold up to COUNT_EVERY entries per process beyond MAX_ENTRIES.

Reading leaves expired entries out in SQL, as Django's `has_key` does, rather than converting
each row's expiry in Python and deleting the expired ones it read (a write); they are
overwritten, or culled with the rest. `touch` and other databases keep Django's own way.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import pickle
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.db import DatabaseCache as DjangoDatabaseCache
from django.db import DatabaseError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.utils.timezone import now as tz_now

UPSERT_VENDORS = frozenset({"sqlite", "postgresql"})
COUNT_EVERY = 100
ROWS_PER_STATEMENT = 200  # 600 parameters: within every SQLite's limit
_writes = itertools.count()  # this process's writes; next() is atomic under the GIL


class DatabaseCache(DjangoDatabaseCache):
    def _writer(self) -> BaseDatabaseWrapper:
        return connections[router.db_for_write(self.cache_model_class)]

    def _base_set(self, mode: str, key: str, value: Any, timeout: Any = DEFAULT_TIMEOUT) -> bool:
        connection = self._writer()
        if mode == "touch" or connection.vendor not in UPSERT_VENDORS:
            return super()._base_set(mode, key, value, timeout)
        return self._upsert(connection, [(key, value)], timeout, only_if_expired=mode == "add")

    def get_many(self, keys: Iterable[str], version: int | None = None) -> dict[str, Any]:
        connection = connections[router.db_for_read(self.cache_model_class)]
        keys = list(keys)
        if not keys or connection.vendor not in UPSERT_VENDORS:
            return super().get_many(keys, version)
        named = {self.make_and_validate_key(key, version=version): key for key in keys}
        table, key, value, expiry = self._quoted(connection)
        now = connection.ops.adapt_datetimefield_value(tz_now().replace(microsecond=0))
        wanted = ", ".join(["%s"] * len(named))
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {key}, {value} FROM {table} "  # noqa: S608 - our table, as in _upsert
                f"WHERE {key} IN ({wanted}) AND {expiry} > %s",
                [*named, now],
            )
            rows = cursor.fetchall()
        return {named[found]: _loaded(connection.ops.process_clob(kept)) for found, kept in rows}

    def _quoted(self, connection: BaseDatabaseWrapper) -> tuple[str, str, str, str]:
        """The cache table's name and its key, value and expiry columns, quoted."""
        quote = connection.ops.quote_name
        return quote(self._table), quote("cache_key"), quote("value"), quote("expires")

    def set_many(
        self, data: dict[str, Any], timeout: Any = DEFAULT_TIMEOUT, version: int | None = None
    ) -> list[str]:
        connection = self._writer()
        if connection.vendor not in UPSERT_VENDORS:
            return super().set_many(data, timeout, version)
        entries = [
            (self.make_and_validate_key(key, version=version), value) for key, value in data.items()
        ]
        failed = []
        for start in range(0, len(entries), ROWS_PER_STATEMENT):
            chunk = entries[start : start + ROWS_PER_STATEMENT]
            if not self._upsert(connection, chunk, timeout, only_if_expired=False):
                failed += [key for key, _ in chunk]
        return failed

    def _upsert(
        self,
        connection: BaseDatabaseWrapper,
        entries: Iterable[tuple[str, Any]],
        timeout: Any,
        *,
        only_if_expired: bool,
    ) -> bool:
        """Write the entries; False when the database refused (as Django's cache, silently) or,
        for `add`, when the entry is there and unexpired."""
        backend_timeout = self.get_backend_timeout(timeout)
        now = tz_now().replace(microsecond=0)
        if backend_timeout is None:
            expires = datetime.max
        else:
            expires = datetime.fromtimestamp(backend_timeout, tz=UTC if settings.USE_TZ else None)
        expires = connection.ops.adapt_datetimefield_value(expires.replace(microsecond=0))
        table, key, value, expiry = self._quoted(connection)
        params: list[Any] = []
        for cache_key, cached in entries:
            encoded = base64.b64encode(pickle.dumps(cached, self.pickle_protocol)).decode("latin1")
            params += [cache_key, encoded, expires]
        rows = ", ".join(["(%s, %s, %s)"] * (len(params) // 3))
        # Quoted names of the cache's own table; every value is a parameter.
        sql = (
            f"INSERT INTO {table} ({key}, {value}, {expiry}) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT ({key}) DO UPDATE SET {value} = excluded.{value}, "
            f"{expiry} = excluded.{expiry}"
        )
        if only_if_expired:
            sql += f" WHERE {table}.{expiry} < %s"
            params.append(connection.ops.adapt_datetimefield_value(now))
        with connection.cursor() as cursor:
            if next(_writes) % COUNT_EVERY == 0:
                cursor.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608 - our table
                (count,) = cursor.fetchone()
                if count > self._max_entries:
                    self._cull(connection.alias, cursor, now, count)
            # Outside a transaction the statement is one on its own; inside one, a refused write
            # must not abort it, so it gets a savepoint.
            guard = (
                transaction.atomic(using=connection.alias)
                if connection.in_atomic_block
                else contextlib.nullcontext()
            )
            try:
                with guard:
                    cursor.execute(sql, params)
            except DatabaseError:
                return False
            return cursor.rowcount > 0


def _loaded(kept: str) -> Any:
    """An entry's value as Django's cache keeps it: pickled, then base64 (the cache's own
    writes: nothing else writes the table)."""
    return pickle.loads(base64.b64decode(kept))  # noqa: S301
