"""A small keep-alive HTTP load generator: T threads x N GETs, bounded in time.

Each thread goes round the paths given from its own place in them (thread i of T starts i/T of
the way round), on its own keep-alive connection.

It uses http.client directly (far less client CPU per request than `requests`), so on a small
machine the server, not the client, sets the pace. Runs in-process (`run_load`) or as its own
process, printing one JSON line::

    LOADGEN_COOKIE='sessionid=...' python bench/loadgen.py --port 8000 --path /bench/minimal/ \\
        --threads 8 --per-thread 250 --max-seconds 120

(The session cookie comes from the environment, not the command line, which `ps` shows; several,
one a line, are given to the threads in turn.)
"""

from __future__ import annotations

import argparse
import http.client
import itertools
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field


@dataclass
class LoadResult:
    requests: int
    elapsed: float  # seconds from the start signal to the last answer
    cpu_seconds: float  # this process's CPU time meanwhile (all threads)
    statuses: dict[str, int] = field(default_factory=dict)  # "200": n, "error": n

    @property
    def per_second(self) -> float:
        return self.requests / self.elapsed if self.elapsed > 0 else 0.0


def run_load(
    host: str,
    port: int,
    paths: Sequence[str],
    cookies: Sequence[str],
    *,
    threads: int,
    per_thread: int,
    max_seconds: float = 120.0,
) -> LoadResult:
    """Each thread opens one keep-alive connection, then all send their GETs at once; thread i
    uses cookies[i % len(cookies)]."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    start = threading.Barrier(threads + 1)
    deadline_box: list[float] = []

    def worker(index: int) -> None:
        headers = {
            "Cookie": cookies[index % len(cookies)],
            "Host": f"{host}:{port}",
            "User-Agent": "fwportal-bench",
        }
        start_at = index * len(paths) // threads
        turn = itertools.islice(itertools.cycle(paths), start_at, start_at + per_thread)
        conn = http.client.HTTPConnection(host, port, timeout=30)
        local: Counter[str] = Counter()
        try:
            conn.connect()
            start.wait()
            for path in turn:
                if time.monotonic() > deadline_box[0]:
                    break
                try:
                    conn.request("GET", path, headers=headers)
                    response = conn.getresponse()
                    response.read()
                    local[str(response.status)] += 1
                    if response.will_close:
                        conn.close()
                except (OSError, http.client.HTTPException):
                    local["error"] += 1
                    conn.close()  # http.client reconnects on the next request
        finally:
            conn.close()
            with lock:
                statuses.update(local)

    pool = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(threads)]
    for thread in pool:
        thread.start()
    cpu_before = time.process_time()
    deadline_box.append(time.monotonic() + max_seconds)
    start.wait()
    started = time.perf_counter()
    for thread in pool:
        thread.join(max_seconds + 60)
    elapsed = time.perf_counter() - started
    return LoadResult(
        requests=sum(statuses.values()),
        elapsed=elapsed,
        cpu_seconds=time.process_time() - cpu_before,
        statuses=dict(statuses),
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--path", action="append", required=True, help="repeat for several")
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--per-thread", type=int, default=100)
    parser.add_argument("--max-seconds", type=float, default=120.0)
    args = parser.parse_args(argv)
    result = run_load(
        args.host,
        args.port,
        args.path,
        os.environ.get("LOADGEN_COOKIE", "").splitlines() or [""],
        threads=args.threads,
        per_thread=args.per_thread,
        max_seconds=args.max_seconds,
    )
    print(json.dumps(asdict(result)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
