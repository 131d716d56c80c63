"""A page's independent EnOS fetches made at the same time, not one after another.

Each fetch runs in a thread of the page's own (never a pool shared with other pages, so one
org's slow gateway cannot hold threads another page needs), under the page's total deadline, and
the fetches to one org share one bulkhead slot (firmware/enos/bulkhead.py): the page counts as
one caller of each org. When the block ends every thread has finished and closed the database
connection it opened (the cache may be in the database).
"""

import contextvars
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import ExitStack
from typing import Generic, ParamSpec, TypeVar

from django.conf import settings
from django.db import connections

from firmware.enos import bulkhead, deadline

P = ParamSpec("P")
T = TypeVar("T")


class Pending(Generic[T]):
    """A fetch under way; `result()` waits for its value or raises its error."""

    def __init__(self, future: Future):
        self._future = future

    def result(self) -> T:
        return self._future.result()


class Together:
    def __init__(self) -> None:
        self._stack = ExitStack()
        self._executor = ThreadPoolExecutor(
            max_workers=settings.ENOS_CALLS_PER_PAGE, thread_name_prefix="enos-page"
        )

    def __enter__(self) -> "Together":
        self._stack.enter_context(deadline.budget(settings.ENOS_TOTAL_TIMEOUT))
        self._sharing = self._stack.enter_context(bulkhead.sharing())
        self._ends_at = deadline.budget_end()
        self._stack.enter_context(self._executor)  # waits for every thread at the end
        return self

    def __exit__(self, *exc_info) -> None:
        self._stack.__exit__(*exc_info)

    def submit(self, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> Pending[T]:
        """`fetch(*args, **kwargs)` started in a thread of this page's."""
        # In a copy of the request's context: the fetch's log lines carry the request id.
        context = contextvars.copy_context()
        return Pending(self._executor.submit(context.run, self._run, fetch, *args, **kwargs))

    def _run(self, fetch: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        try:
            with deadline.ending_at(self._ends_at), bulkhead.sharing(self._sharing):
                return fetch(*args, **kwargs)
        finally:
            connections.close_all()  # this thread's own connections only
