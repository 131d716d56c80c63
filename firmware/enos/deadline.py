"""A total deadline for one HTTP exchange, however slowly the gateway sends its bytes.

Socket timeouts bound each read, not the exchange: a gateway that drips one byte a second holds
a thread for as long as it likes. Each exchange registers a Watch; one watchdog thread per
process shuts the socket of an exchange whose deadline passed, which ends any blocked read at
once. The socket in use is found through the thread that makes the exchange: it is noted when a
connection is opened or reused (a response may outlive its connection's hold on the socket).
A download's deadline follows its progress: `Watch.extend` moves it as bytes arrive.
"""

import contextlib
import heapq
import itertools
import socket
import threading
import time
from collections.abc import Iterator

from urllib3.connection import HTTPConnection, HTTPSConnection

# While an exchange's socket is not open yet, look again this often.
RETRY_SECONDS = 0.05

_current = threading.local()


class Watch:
    """One exchange under a deadline; `expired` once the watchdog cut it short."""

    def __init__(self, deadline: float):
        self.deadline = deadline
        self.expired = False
        self.done = False
        self.sock: socket.socket | None = None

    def extend(self, seconds: float) -> None:
        """The exchange now ends `seconds` from now, sooner or later than it would have (a
        download that made progress)."""
        deadline = time.monotonic() + seconds
        sooner = deadline < self.deadline
        self.deadline = deadline
        if sooner:
            _watchdog.add(self, deadline)

    def cut(self) -> bool:
        """Shut the exchange's socket; False when it has none yet."""
        self.expired = True
        if self.sock is None:
            return False
        with contextlib.suppress(OSError):
            self.sock.shutdown(socket.SHUT_RDWR)
        return True


class _Watchdog:
    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Watch]] = []
        self._order = itertools.count()
        self._wakeup = threading.Condition()
        self._thread: threading.Thread | None = None

    def add(self, watch: Watch, at: float) -> None:
        with self._wakeup:
            heapq.heappush(self._heap, (at, next(self._order), watch))
            if self._thread is None or not self._thread.is_alive():
                # Started on first use, so each forked worker gets its own.
                self._thread = threading.Thread(target=self._run, name="enos-deadline", daemon=True)
                self._thread.start()
            self._wakeup.notify()

    def _run(self) -> None:
        while True:
            with self._wakeup:
                while not self._heap or self._heap[0][0] > time.monotonic():
                    timeout = self._heap[0][0] - time.monotonic() if self._heap else None
                    self._wakeup.wait(timeout)
                _, _, watch = heapq.heappop(self._heap)
            if watch.done:
                continue
            if watch.deadline > time.monotonic():
                self.add(watch, watch.deadline)  # extended meanwhile: look again then
            elif not watch.cut():
                self.add(watch, time.monotonic() + RETRY_SECONDS)


_watchdog = _Watchdog()


@contextlib.contextmanager
def budget(seconds: float) -> Iterator[None]:
    """Everything this thread does with EnOS in this block, waits included, ends by `seconds`."""
    with ending_at(time.monotonic() + seconds):
        yield


def budget_end() -> float | None:
    """When this thread's budget ends (on the `time.monotonic()` clock), None without one: what
    to hand a thread that works for this one."""
    return getattr(_current, "ends_at", None)


@contextlib.contextmanager
def ending_at(ends_at: float | None) -> Iterator[None]:
    """This thread's EnOS work in the block ends by `ends_at` (or its own budget's end, if
    sooner); None adds no limit."""
    outer = budget_end()
    if ends_at is not None and outer is not None:
        ends_at = min(outer, ends_at)
    _current.ends_at = ends_at if ends_at is not None else outer
    try:
        yield
    finally:
        _current.ends_at = outer


def remaining(seconds: float) -> float:
    """`seconds`, or less when this thread's budget ends sooner (0 when it has run out)."""
    ends_at = getattr(_current, "ends_at", None)
    if ends_at is None:
        return seconds
    return max(0.0, min(seconds, ends_at - time.monotonic()))


@contextlib.contextmanager
def deadline(seconds: float) -> Iterator[Watch]:
    """Everything sent and received over HTTP in this block, in this thread, ends by `seconds`."""
    watch = Watch(time.monotonic() + seconds)
    _current.watch = watch
    _watchdog.add(watch, watch.deadline)
    try:
        yield watch
    finally:
        watch.done = True
        _current.watch = None


def _note(sock: socket.socket | None) -> None:
    watch = getattr(_current, "watch", None)
    if watch is not None and sock is not None:
        watch.sock = sock
        if watch.expired:
            watch.cut()


class WatchedHTTPConnection(HTTPConnection):
    def connect(self) -> None:
        super().connect()
        _note(self.sock)

    def request(self, *args, **kwargs) -> None:
        _note(self.sock)  # a kept-alive connection's socket; a new one is noted in connect()
        super().request(*args, **kwargs)


class WatchedHTTPSConnection(HTTPSConnection):
    def connect(self) -> None:
        super().connect()
        _note(self.sock)

    def request(self, *args, **kwargs) -> None:
        _note(self.sock)
        super().request(*args, **kwargs)
