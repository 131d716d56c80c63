"""One producer at a time per key: threads of a process wait on a lock, processes on a cache lock
(shared when the cache is Redis); waiters take what the producer left in the cache."""

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from weakref import WeakValueDictionary

T = TypeVar("T")
POLL_SECONDS = 0.05


class LockCache(Protocol):
    def add(self, key: str, value: Any, timeout: float | None = None) -> bool: ...
    def delete(self, key: str) -> Any: ...


_locks: WeakValueDictionary[str, threading.Lock] = WeakValueDictionary()
_locks_guard = threading.Lock()


def _local_lock(key: str) -> threading.Lock:
    with _locks_guard:
        lock = _locks.get(key)
        if lock is None:
            lock = _locks[key] = threading.Lock()
        return lock


def run_once(
    cache: LockCache,
    key: str,
    *,
    ready: Callable[[], T | None],
    produce: Callable[[], T],
    lock_seconds: float,
) -> T:
    """`ready()` when someone already produced it, else `produce()` by one caller at a time.

    A producer that holds the cache lock longer than `lock_seconds` (it hung or died) is
    given up on, and the waiter produces itself.
    """
    with _local_lock(key):
        value = ready()
        if value is not None:
            return value
        lock_key = f"{key}:lock"
        deadline = time.monotonic() + lock_seconds
        while not cache.add(lock_key, 1, timeout=lock_seconds):
            value = ready()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                break
            time.sleep(POLL_SECONDS)
        try:
            value = ready()
            return value if value is not None else produce()
        finally:
            cache.delete(lock_key)
