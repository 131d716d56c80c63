"""One producer at a time per key: threads of a process wait on a lock, processes on a cache lock
(shared when the cache is shared); waiters take what the producer left in the cache, a value or
a failure, and never wait longer than the producer itself may take."""

import threading
import time
from collections.abc import Callable
from typing import Any, Protocol, TypeVar
from weakref import WeakValueDictionary

from firmware.enos.deadline import remaining
from firmware.enos.errors import Busy, EnosError, UpstreamTimeout

T = TypeVar("T")
POLL_SECONDS = 0.05


class LockCache(Protocol):
    def get(self, key: str, default: Any = None) -> Any: ...
    def get_many(self, keys: list[str]) -> dict[str, Any]: ...
    def set(self, key: str, value: Any, timeout: float | None = None) -> None: ...
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
    ready_key: str,
    ready: Callable[[Any], T | None],
    produce: Callable[[], T],
    wait_seconds: float,
    failure_seconds: float,
    retry_failed: bool = False,
) -> T:
    """`ready(cached)` when someone already produced it (`cached` is what the cache holds at
    `ready_key`, read with the kept failure in one round trip), else `produce()` by one caller at
    a time.

    A failure of `produce()` (an EnosError) is kept for `failure_seconds` and raised to everyone
    who waited on it or asks within that time, without producing again; Busy is not kept (it is
    this process's own crowding, not an answer). Waiting for another producer ends after
    `wait_seconds` (the longest a producer may take) with UpstreamTimeout; a producer that died
    holding the cache lock leaves it to expire after that time. `retry_failed` (someone asked
    explicitly, as Refresh does) produces again even when a failure is kept.
    """
    failure_key = f"{key}:failed"

    def settled() -> T | None:
        found = cache.get_many([ready_key, failure_key])
        value = ready(found.get(ready_key))
        if value is not None:
            return value
        failure = None if retry_failed else found.get(failure_key)
        if failure is not None:
            raise failure
        return None

    wait_seconds = remaining(wait_seconds)
    deadline = time.monotonic() + wait_seconds
    local = _local_lock(key)
    if not local.acquire(timeout=wait_seconds):
        raise _waited(wait_seconds)
    try:
        value = settled()
        if value is not None:
            return value
        lock_key = f"{key}:lock"
        while not cache.add(lock_key, 1, timeout=wait_seconds):
            value = settled()
            if value is not None:
                return value
            if time.monotonic() > deadline:
                raise _waited(wait_seconds)
            time.sleep(POLL_SECONDS)
        try:
            value = settled()
            if value is not None:
                return value
            try:
                return produce()
            except Busy:
                raise
            except EnosError as exc:
                cache.set(failure_key, exc, timeout=failure_seconds)
                raise
        finally:
            cache.delete(lock_key)
    finally:
        local.release()


def _waited(seconds: float) -> UpstreamTimeout:
    return UpstreamTimeout(f"another request's call to EnOS did not finish within {seconds:g} s")
