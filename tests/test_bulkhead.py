"""The per-org bulkhead: a few calls in flight, a few briefly waiting, the rest turned away."""

import threading
import time

from firmware.enos.bulkhead import OrgSlots


def test_beyond_the_slots_only_a_few_wait_and_the_rest_are_turned_away_at_once():
    slots = OrgSlots(4)
    assert all(slots.acquire(0) for _ in range(4))
    waiting_started = threading.Barrier(3)
    results: list[bool] = []

    def wait_for_a_slot() -> None:
        waiting_started.wait(timeout=5)
        results.append(slots.acquire(2.0))

    waiters = [threading.Thread(target=wait_for_a_slot) for _ in range(2)]
    for waiter in waiters:
        waiter.start()
    waiting_started.wait(timeout=5)
    time.sleep(0.1)  # both waiters are queued for a slot
    started = time.monotonic()
    assert slots.acquire(2.0) is False  # a third waiter would hold one more thread
    assert time.monotonic() - started < 0.5
    slots.release()
    slots.release()
    for waiter in waiters:
        waiter.join(timeout=5)
    assert results == [True, True]


def test_a_waiter_gives_up_after_its_time():
    slots = OrgSlots(1)
    assert slots.acquire(0)
    started = time.monotonic()
    assert slots.acquire(0.2) is False
    assert 0.15 < time.monotonic() - started < 2
    slots.release()
    assert slots.acquire(0)
