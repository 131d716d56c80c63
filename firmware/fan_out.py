"""A page's independent EnOS fetches made at the same time, not one after another.

Each fetch runs in a thread the page has to itself while it runs (never a pool shared with other
pages at the same moment, so one org's slow gateway cannot hold threads another page needs),
under the page's total deadline, and the fetches to one org share one bulkhead slot
(firmware/enos/bulkhead.py): the page counts as one caller of each org. When the block ends
every fetch has finished.

Starting threads and opening a database connection in each (the cache may be in the database)
would cost every page again: a page borrows a set of threads kept from earlier pages, with their
connections (closed when older than CONN_MAX_AGE, as a request's are), and gives it back; a
page that fetches nothing (its parts all cached) borrows none.
"""

import contextvars
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from contextlib import ExitStack
from typing import Generic, ParamSpec, TypeVar

from django.conf import settings
from django.db import close_old_connections

from firmware.enos import bulkhead, deadline

P = ParamSpec("P")
T = TypeVar("T")

KEEP_IDLE = 8  # sets of threads kept for later pages, per process


class Pending(Generic[T]):
    """A fetch under way; `result()` waits for its value or raises its error."""

    def __init__(self, future: Future):
        self._future = future

    def result(self) -> T:
        return self._future.result()


class Ready(Generic[T]):
    """A value a page had in hand without fetching, given as a Pending's is."""

    def __init__(self, value: T):
        self._value = value

    def result(self) -> T:
        return self._value


class _Threads:
    """The sets of threads no page is using, in this process."""

    def __init__(self) -> None:
        self._idle: list[ThreadPoolExecutor] = []
        self._lock = threading.Lock()
        self._pid = os.getpid()

    def borrow(self) -> ThreadPoolExecutor:
        with self._lock:
            if self._pid != os.getpid():  # a forked worker: threads do not survive a fork
                self._idle, self._pid = [], os.getpid()
            if self._idle:
                return self._idle.pop()
        return ThreadPoolExecutor(
            max_workers=settings.ENOS_CALLS_PER_PAGE, thread_name_prefix="enos-page"
        )

    def give_back(self, threads: ThreadPoolExecutor) -> None:
        with self._lock:
            if len(self._idle) < KEEP_IDLE and self._pid == os.getpid():
                self._idle.append(threads)
                return
        threads.shutdown(wait=False)


_threads = _Threads()


class Together:
    def __init__(self) -> None:
        self._stack = ExitStack()
        self._futures: list[Future] = []

    def __enter__(self) -> "Together":
        self._stack.enter_context(deadline.budget(settings.ENOS_TOTAL_TIMEOUT))
        self._sharing = self._stack.enter_context(bulkhead.sharing())
        self._ends_at = deadline.budget_end()
        self._executor: ThreadPoolExecutor | None = None  # borrowed by the first fetch
        self._stack.callback(self._finish)
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.__exit__(*exc_info)

    def submit(self, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        """`fetch(*args, **kwargs)` started in a thread of this page's."""
        # In a copy of the request's context: the fetch's log lines carry the request id.
        context = contextvars.copy_context()
        if self._executor is None:
            self._executor = _threads.borrow()
        future = self._executor.submit(context.run, self._run, fetch, *args, **kwargs)
        self._futures.append(future)
        return Pending(future)

    def _finish(self) -> None:
        """Every fetch ended (each keeps the page's deadline), the threads given back."""
        wait(self._futures)
        if self._executor is not None:
            _threads.give_back(self._executor)

    def _run(self, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        close_old_connections()  # as at a request's start and end: drop broken or old ones
        try:
            with deadline.ending_at(self._ends_at), bulkhead.sharing(self._sharing):
                return fetch(*args, **kwargs)
        finally:
            close_old_connections()
