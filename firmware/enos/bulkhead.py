"""How many calls to one org may be in flight in this process, and who may wait for one.

A slow gateway must not take every worker thread: its calls hold their slot until the deadline,
and a request that waits for a slot holds a thread too. A caller waits only when the calls in
flight are young (a healthy gateway frees a slot in milliseconds); when the oldest has already
run longer than the caller would wait, no slot will come in time, and it is turned away at once
(the page then shows the last good copy, or says EnOS is busy).

A page that asks one org several things at once (a firmware, its jobs, their task counts) counts
as one caller: inside `sharing()`, the calls of this thread and of the threads it hands the
sharing to take one slot per org between them, held until the page's calls are done. The slots
bound how many requests one org can hold, however many calls each request makes.
"""

import contextlib
import threading
import time
from collections.abc import Iterator


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


class SharedSlot:
    """One slot of an org, taken by the first of a page's calls that needs it and kept for the
    rest of them until the page lets it go."""

    def __init__(self, slots: OrgSlots):
        self._slots = slots
        self._slot: int | None = None
        self._lock = threading.Lock()

    def take(self, wait_seconds: float) -> bool:
        """Whether the page holds the slot now (taking it, within `wait_seconds`, if needed)."""
        with self._lock:
            if self._slot is None:
                self._slot = self._slots.acquire(wait_seconds)
            return self._slot is not None

    def release(self) -> None:
        with self._lock:
            if self._slot is not None:
                self._slots.release(self._slot)
                self._slot = None


class Sharing:
    """The slots one page's calls share, one per org they reach."""

    def __init__(self) -> None:
        self._shared: dict[int, SharedSlot] = {}
        self._lock = threading.Lock()

    def slot_of(self, slots: OrgSlots) -> SharedSlot:
        with self._lock:
            return self._shared.setdefault(id(slots), SharedSlot(slots))

    def release_all(self) -> None:
        with self._lock:
            shared = list(self._shared.values())
        for slot in shared:
            slot.release()


_current = threading.local()


def current_sharing() -> Sharing | None:
    """The sharing this thread's calls are part of, if any."""
    return getattr(_current, "sharing", None)


@contextlib.contextmanager
def sharing(shared: Sharing | None = None) -> Iterator[Sharing]:
    """This thread's calls in the block share one slot per org: a new sharing (its slots let go
    at the end), or `shared`, another thread's, handed to a thread that works for it."""
    outer = current_sharing()
    own = shared is None and outer is None
    _current.sharing = shared or outer or Sharing()
    try:
        yield _current.sharing
    finally:
        if own:
            _current.sharing.release_all()
        _current.sharing = outer


_orgs: dict[tuple[str, int], OrgSlots] = {}
_orgs_lock = threading.Lock()


def slots_for(org_key: str, size: int) -> OrgSlots:
    """The one OrgSlots of an org (by gateway, orgId and access key) in this process."""
    with _orgs_lock:
        slots = _orgs.get((org_key, size))
        if slots is None:
            slots = _orgs[(org_key, size)] = OrgSlots(size)
        return slots
