"""fwportal's database cache (fwportal/db_cache.py): Django's cache semantics, one statement a
write. Runs on whichever database the suite runs on (SQLite, and PostgreSQL in scripts/test.sh)."""

import itertools
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from fwportal import db_cache
from fwportal.db_cache import DatabaseCache

TABLE = settings.SHARED_CACHE_TABLE


def a_cache(**options):
    return DatabaseCache(TABLE, {"OPTIONS": options, "KEY_PREFIX": "test-db-cache"})


def writes(queries):
    return [q["sql"] for q in queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]


def expire(cache, key):
    stored = cache.make_and_validate_key(key)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {TABLE} SET expires = %s WHERE cache_key = %s",  # noqa: S608
            [connection.ops.adapt_datetimefield_value(timezone.now() - timedelta(hours=1)), stored],
        )


@pytest.fixture(autouse=True)
def no_count_due(monkeypatch):
    """Writes start at one that does not count the table (the count is one write in 100)."""
    monkeypatch.setattr(db_cache, "_writes", itertools.count(1))


@pytest.mark.django_db
def test_set_get_and_overwrite_in_one_statement_each():
    cache = a_cache()
    with CaptureQueriesContext(connection) as queries:
        cache.set("answer", {"firmwareId": "fw-1", "size": 3}, timeout=60)
        cache.set("answer", {"firmwareId": "fw-1", "size": 4}, timeout=60)
    assert cache.get("answer") == {"firmwareId": "fw-1", "size": 4}
    upserts = [sql for sql in writes(queries) if "ON CONFLICT" in sql]
    assert len(upserts) == 2
    assert len(writes(queries)) == 2


@pytest.mark.django_db
def test_add_succeeds_only_when_absent_or_expired():
    cache = a_cache()
    assert cache.add("lock", "first", timeout=60) is True
    assert cache.add("lock", "second", timeout=60) is False
    assert cache.get("lock") == "first"
    expire(cache, "lock")
    assert cache.add("lock", "third", timeout=60) is True
    assert cache.get("lock") == "third"


@pytest.mark.django_db
def test_timeouts_none_and_zero_as_django_means_them():
    cache = a_cache()
    cache.set("forever", 1, timeout=None)
    cache.set("gone", 1, timeout=0)
    assert cache.get("forever") == 1
    assert cache.get("gone") is None


@pytest.mark.django_db
def test_set_many_is_one_statement_for_all_entries():
    cache = a_cache()
    entries = {f"fw-{n}": {"n": n} for n in range(db_cache.ROWS_PER_STATEMENT + 5)}
    with CaptureQueriesContext(connection) as queries:
        assert cache.set_many(entries, timeout=60) == []
    assert len([sql for sql in writes(queries) if "ON CONFLICT" in sql]) == 2  # two chunks
    assert cache.get_many(list(entries)) == entries


@pytest.mark.django_db
def test_touch_and_delete_still_work():
    cache = a_cache()
    cache.set("k", "v", timeout=1)
    assert cache.touch("k", timeout=60) is True
    assert cache.touch("missing", timeout=60) is False
    assert cache.delete("k") is True
    assert cache.get("k") is None


@pytest.mark.django_db
def test_the_table_is_culled_when_a_count_finds_it_over_max_entries(monkeypatch):
    cache = a_cache(MAX_ENTRIES=10, CULL_FREQUENCY=2)
    cache.set_many({f"old-{n}": n for n in range(30)}, timeout=60)
    monkeypatch.setattr(db_cache, "_writes", iter([0]))  # the next write is one that counts
    cache.set("new", 1, timeout=60)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {TABLE}")  # noqa: S608
        (left,) = cursor.fetchone()
    assert left < 31


@pytest.mark.django_db(transaction=True)
def test_outside_a_transaction_a_write_is_one_statement_without_begin():
    cache = a_cache()
    with CaptureQueriesContext(connection) as queries:
        cache.set("answer", 1, timeout=60)
    assert len(writes(queries)) == 1
    assert "ON CONFLICT" in writes(queries)[0]
    assert cache.get("answer") == 1


@pytest.mark.django_db
def test_a_read_is_one_select_that_leaves_expired_entries_out_without_writing():
    cache = a_cache()
    cache.set_many({"fresh": "f", "old": "o", "none": None}, timeout=60)
    expire(cache, "old")
    with CaptureQueriesContext(connection) as queries:
        assert cache.get_many(["fresh", "old", "none", "missing"]) == {"fresh": "f", "none": None}
        assert cache.get("old", "default") == "default"
        assert cache.get("none", "default") is None
        assert cache.get_many([]) == {}
    assert [sql.split()[0] for sql in writes(queries)] == ["SELECT"] * 3
    assert cache.add("old", "again", timeout=60) is True  # expired, as before the read
