"""How many calls to one org may be in flight in this process, and who may wait for one.

A slow gateway must not take every worker thread: its calls hold their slot until the deadline,
and a request that waits for a slot holds a thread too. A caller waits only when the calls in
flight are young (a healthy gateway frees a slot in milliseconds); when the oldest has already
run longer than the caller would wait, no slot will come in time, and it is turned away at once
(the page then shows the last good copy, or says EnOS is busy).
"""

import threading
import time


class OrgSlots:
    def __init__(self, size: int):
        self._size = size
        self._started: dict[int, float] = {}  # slot holder -> when its call began
        self._ids = iter(range(1 << 62))
        self._changed = threading.Condition()

    def acquire(self, wait_seconds: float) -> int | None:
        """A slot (pass it to release), at once or within `wait_seconds`; None when none is
        to be had in time."""
        deadline = time.monotonic() + wait_seconds
        with self._changed:
            while len(self._started) >= self._size:
                now = time.monotonic()
                if now >= deadline or now - min(self._started.values()) >= wait_seconds:
                    return None
                self._changed.wait(deadline - now)
            slot = next(self._ids)
            self._started[slot] = time.monotonic()
            return slot

    def release(self, slot: int) -> None:
        with self._changed:
            del self._started[slot]
            self._changed.notify()


_orgs: dict[tuple[str, int], OrgSlots] = {}
_orgs_lock = threading.Lock()


def slots_for(org_key: str, size: int) -> OrgSlots:
    """The one OrgSlots of an org (by gateway, orgId and access key) in this process."""
    with _orgs_lock:
        slots = _orgs.get((org_key, size))
        if slots is None:
            slots = _orgs[(org_key, size)] = OrgSlots(size)
        return slots
