"""How many calls to one org may be in flight in this process, and how many may wait for one.

A slow gateway must not take every worker thread: its calls hold their slot until the deadline,
and a request that waits for a slot holds a thread too. So only a few may wait, briefly; the rest
are turned away at once (the page then shows the last good copy, or says EnOS is busy).
"""

import threading


class OrgSlots:
    def __init__(self, size: int):
        self._slots = threading.BoundedSemaphore(size)
        self._max_waiting = max(1, size // 2)
        self._waiting = 0
        self._lock = threading.Lock()

    def acquire(self, wait_seconds: float) -> bool:
        """A slot, at once or within `wait_seconds`; False when none is to be had."""
        if self._slots.acquire(blocking=False):
            return True
        with self._lock:
            if self._waiting >= self._max_waiting:
                return False
            self._waiting += 1
        try:
            return self._slots.acquire(timeout=wait_seconds)
        finally:
            with self._lock:
                self._waiting -= 1

    def release(self) -> None:
        self._slots.release()


_orgs: dict[tuple[str, int], OrgSlots] = {}
_orgs_lock = threading.Lock()


def slots_for(org_key: str, size: int) -> OrgSlots:
    """The one OrgSlots of an org (by gateway, orgId and access key) in this process."""
    with _orgs_lock:
        slots = _orgs.get((org_key, size))
        if slots is None:
            slots = _orgs[(org_key, size)] = OrgSlots(size)
        return slots
