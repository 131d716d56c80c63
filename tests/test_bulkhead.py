"""The per-org bulkhead: a few calls in flight; a caller waits only while a slot may come soon."""

import threading
import time

from firmware.enos.bulkhead import OrgSlots


def test_a_healthy_burst_waits_briefly_for_slots_that_free_quickly():
    slots = OrgSlots(2)
    granted: list[bool] = []

    def quick_call() -> None:
        slot = slots.acquire(2.0)
        granted.append(slot is not None)
        if slot is not None:
            time.sleep(0.02)  # a healthy gateway answers in milliseconds
            slots.release(slot)

    callers = [threading.Thread(target=quick_call) for _ in range(10)]
    for caller in callers:
        caller.start()
    for caller in callers:
        caller.join(timeout=10)
    assert granted == [True] * 10


def test_behind_calls_older_than_the_wait_a_caller_is_turned_away_at_once():
    slots = OrgSlots(2)
    held = [slots.acquire(0), slots.acquire(0)]
    assert None not in held
    time.sleep(0.3)  # the calls in flight are slow: older than a caller would wait
    started = time.monotonic()
    assert slots.acquire(0.25) is None
    assert time.monotonic() - started < 0.2, "a caller waited for a slot that could not come"
    slots.release(held[0])
    assert slots.acquire(0.25) is not None


def test_a_waiter_gives_up_after_its_time():
    slots = OrgSlots(1)
    held = slots.acquire(0)
    started = time.monotonic()
    assert slots.acquire(0.2) is None
    assert 0.15 < time.monotonic() - started < 2
    slots.release(held)
    assert slots.acquire(0) is not None
