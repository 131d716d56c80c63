"""Each process's memory caches are bounded in bytes, not only in entries."""

import pytest
from django.core.cache import caches

from fwportal.local_cache import BoundedLocMemCache


@pytest.fixture
def small():
    cache = BoundedLocMemCache("test-small", {"OPTIONS": {"MAX_BYTES": 100_000}})
    cache.clear()
    yield cache
    cache.clear()


def test_the_least_recently_used_go_first_when_the_bytes_run_out(small):
    for i in range(20):
        small.set(f"k{i}", b"x" * 10_000)
        small.get("k0")  # kept in use
    assert small.total_bytes <= 100_000
    assert small.get("k0") is not None
    assert small.get("k19") is not None
    assert small.get("k1") is None


def test_a_value_too_large_for_the_budget_is_not_kept(small):
    small.set("huge", b"x" * 50_000)
    assert small.get("huge") is None
    assert small.total_bytes == 0


def test_replacing_deleting_and_clearing_keep_the_count_right(small):
    small.set("a", b"x" * 5_000)
    small.set("a", b"x" * 1_000)
    small.set("b", b"x" * 1_000)
    assert 2_000 < small.total_bytes < 2_200
    small.delete("a")
    assert 1_000 < small.total_bytes < 1_100
    small.set("n", 1)
    assert small.incr("n", 10**30) == 10**30 + 1
    small.clear()
    assert small.total_bytes == 0


def test_no_cache_in_process_memory_is_bounded_by_entries_alone(settings):
    backends = {alias: config["BACKEND"] for alias, config in settings.CACHES.items()}
    assert "django.core.cache.backends.locmem.LocMemCache" not in backends.values()
    assert isinstance(caches["pages"], BoundedLocMemCache)
    assert caches["pages"].max_bytes == settings.LOCAL_CACHE_MAX_BYTES // 2
