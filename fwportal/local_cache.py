"""Django's local-memory cache, bounded in bytes as well as in entries.

MAX_ENTRIES alone does not bound memory: a thousand pages of a firmware whose description is
megabytes long fill a worker for good. OPTIONS["MAX_BYTES"] caps the pickled size of everything
held; the least recently used entries go first, and a value larger than an eighth of the budget
is not kept at all.
"""

from threading import Lock

from django.core.cache.backends.base import DEFAULT_TIMEOUT
from django.core.cache.backends.locmem import LocMemCache

DEFAULT_MAX_BYTES = 64 * 1024 * 1024
_sizes: dict[str, dict[str, int]] = {}
_totals: dict[str, list[int]] = {}
_guard = Lock()


class BoundedLocMemCache(LocMemCache):
    def __init__(self, name: str, params: dict) -> None:
        super().__init__(name, params)
        self.max_bytes = int(params.get("OPTIONS", {}).get("MAX_BYTES", DEFAULT_MAX_BYTES))
        with _guard:
            self._sizes = _sizes.setdefault(name, {})
            self._total = _totals.setdefault(name, [0])

    @property
    def total_bytes(self) -> int:
        return self._total[0]

    def _set(self, key: str, value: bytes, timeout: float | None = DEFAULT_TIMEOUT) -> None:
        self._delete(key)
        if len(value) > self.max_bytes // 8:
            return
        while self._cache and self._total[0] + len(value) > self.max_bytes:
            self._delete(next(reversed(self._cache)))  # the least recently used
        super()._set(key, value, timeout)
        self._sizes[key] = len(value)
        self._total[0] += len(value)

    def incr(self, key: str, delta: int = 1, version: int | None = None) -> int:
        value = super().incr(key, delta, version)
        with self._lock:
            stored = self.make_and_validate_key(key, version=version)
            if stored in self._cache:
                size = len(self._cache[stored])
                self._total[0] += size - self._sizes.get(stored, 0)
                self._sizes[stored] = size
        return value

    def _cull(self) -> None:
        super()._cull()
        for key in set(self._sizes) - set(self._cache):
            self._total[0] -= self._sizes.pop(key)

    def _delete(self, key: str) -> bool:
        deleted = super()._delete(key)
        if key in self._sizes:
            self._total[0] -= self._sizes.pop(key)
        return deleted

    def clear(self) -> None:
        with self._lock:
            self._cache.clear()
            self._expire_info.clear()
            self._sizes.clear()
            self._total[0] = 0
