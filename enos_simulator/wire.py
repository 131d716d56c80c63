"""How a hostile gateway puts an answer on the wire slowly: a byte at a time, for a bounded time.

Styles: ``drip`` (the head at once, then a body of ``size`` bytes under that Content-Length, a
byte per ``delay``), ``drip_chunked`` (the same body in 1-byte chunks) and ``slow_headers`` (the
head a byte per ``delay``, then the whole body). The body is the real answer, cut or padded with
spaces to ``size``. Sending stops after ``max_seconds`` or as soon as the client is gone.
"""

from __future__ import annotations

import http
import itertools
import socket
import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Pace:
    style: str  # "drip", "drip_chunked" or "slow_headers"
    delay: float  # seconds before each byte (or 1-byte chunk) that is paced
    size: int | None  # the body's bytes, for drip and drip_chunked (None for slow_headers)
    max_seconds: float


def send_paced(
    sock: socket.socket,
    status: int,
    fields: Sequence[tuple[str, str]],
    body: bytes,
    pace: Pace,
) -> None:
    """Send an answer with these header fields in ``pace``; the caller closes the connection
    afterwards, since the answer may end unfinished."""
    close = ("Connection", "close")
    if pace.style == "slow_headers":
        head = _head(status, [*fields, ("Content-Length", str(len(body))), close])
        _trickle(sock, b"", (bytes((byte,)) for byte in head), body, pace)
        return
    sized = (bytes((byte,)) for byte in itertools.islice(_padded(body), pace.size))
    if pace.style == "drip":
        head = _head(status, [*fields, ("Content-Length", str(pace.size)), close])
        _trickle(sock, head, sized, b"", pace)
    else:  # drip_chunked
        head = _head(status, [*fields, ("Transfer-Encoding", "chunked"), close])
        _trickle(sock, head, (b"1\r\n" + byte + b"\r\n" for byte in sized), b"0\r\n\r\n", pace)


def _padded(body: bytes) -> Iterator[int]:
    return itertools.chain(body, itertools.repeat(ord(" ")))


def _head(status: int, fields: Sequence[tuple[str, str]]) -> bytes:
    try:
        reason = http.HTTPStatus(status).phrase
    except ValueError:
        reason = ""
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in fields)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def _trickle(
    sock: socket.socket, first: bytes, paced: Iterable[bytes], last: bytes, pace: Pace
) -> None:
    """Send ``first`` at once, each of ``paced`` after a pause of ``pace.delay``, then ``last``;
    give up at the deadline or when the client is gone."""
    deadline = time.monotonic() + pace.max_seconds

    def send(data: bytes) -> bool:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return False
        # A client that stops reading must not hold this thread past the deadline either.
        sock.settimeout(remaining)
        try:
            sock.sendall(data)
        except OSError:  # BrokenPipe or ConnectionReset: the client left; or the deadline passed
            return False
        return True

    if first and not send(first):
        return
    for piece in paced:
        time.sleep(max(0.0, min(pace.delay, deadline - time.monotonic())))
        if not send(piece):
            return
    send(last)
