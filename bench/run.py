"""fwportal benchmark: what a firmware page costs on top of the EnOS call it waits on.

    .venv/bin/python bench/run.py            # full run, a few minutes
    .venv/bin/python bench/run.py --quick    # smoke run, under a minute

Everything runs on 127.0.0.1 in a temporary folder (SQLite database, static files, logs),
started by bench/stack.py: the EnOS simulator (`python -m enos_simulator --latency-ms 20`) in its
own process, and gunicorn (gunicorn.conf.py, 2 workers x 8 threads) with
DJANGO_SETTINGS_MODULE=bench.settings, which adds /bench/minimal/ (a view returning "ok" behind
the same middleware and login).
Each ratio is taken against a floor measured in the same run:

* uncached page latency vs a raw signed keep-alive Get Firmware call (bench/floor.py: none of
  the app's EnOS client, whose cost the page carries; target <= 1.2); pages are timed in turn
  with that call, with a bench view that checks access and fetches without rendering anything,
  and with the minimal view;
* cached detail page requests/s vs the minimal view (target >= 0.6);
* token fetches and TCP connections to EnOS per 1000 uncached pages;
* upstream Get Firmware calls per 50 simultaneous requests for one cold firmware, with the
  local-memory cache (one per process) and with Redis (one in all).

It reports; it does not assert targets, and it exits 0 once every phase has run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.floor import RawGetFirmware  # noqa: E402
from bench.loadgen import LoadResult  # noqa: E402
from bench.stack import (  # noqa: E402
    HOST,
    Stack,
    cpu_seconds,
    serving,
    work_folder,
    worker_pids,
)
from enos_simulator import (  # noqa: E402
    DEFAULT_FIXTURES,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_ORG_ID,
)

FIRMWARE_ID = "fw-turbine-ctrl-3.2.1"
DETAIL_PATH = f"/orgs/demo/firmware/{FIRMWARE_ID}/"
MINIMAL_PATH = "/bench/minimal/"
FIRMWARE_ONLY_PATH = f"/bench/firmware-only/demo/{FIRMWARE_ID}/"
WORKERS, THREADS = 2, 8
SIM_LATENCY_MS = 20
REDIS_URL = "redis://127.0.0.1:6379/14"
SIMULTANEOUS = 50
LOAD_MAX_SECONDS = 120.0
THROUGHPUT_ROUNDS = 3


@dataclass(frozen=True)
class Sizes:
    sequential: int  # rounds of the floor, uncached page, bench view and minimal view in turn
    per_thread: int  # throughput: requests per client thread (x THREADS threads)
    pages: int  # uncached pages for the token/connection counts
    rounds: int  # rounds of 50 simultaneous requests, per cache


FULL = Sizes(sequential=500, per_thread=400, pages=1000, rounds=5)
QUICK = Sizes(sequential=60, per_thread=40, pages=200, rounds=2)


# ---- measurements ------------------------------------------------------------------------


def percentile(samples: Sequence[float], q: float) -> float:
    """The q-th percentile (0..100), linear between closest ranks."""
    ordered = sorted(samples)
    if len(ordered) == 1:
        return ordered[0]
    position = (len(ordered) - 1) * q / 100
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


@dataclass
class Latency:
    samples: list[float]
    statuses: Counter[str] = field(default_factory=Counter)

    @property
    def p50(self) -> float:
        return percentile(self.samples, 50) * 1000

    @property
    def p95(self) -> float:
        return percentile(self.samples, 95) * 1000

    def text(self) -> str:
        return f"{self.p50:.1f} / {self.p95:.1f}"


def timed_in_turn(n: int, calls: Mapping[str, Callable[[], str]]) -> dict[str, Latency]:
    """n rounds, each timing every call once in turn (fewer rounds if LOAD_MAX_SECONDS run out):
    the machine speeding up or slowing down during the run affects every call alike."""
    results = {name: Latency([]) for name in calls}
    deadline = time.monotonic() + LOAD_MAX_SECONDS
    for done in range(n):
        if time.monotonic() > deadline:
            print(f"  warning: stopped after {done} of {n} rounds (time bound)")
            break
        for name, call in calls.items():
            started = time.perf_counter()
            outcome = call()
            results[name].samples.append(time.perf_counter() - started)
            results[name].statuses[outcome] += 1
    return results


def floor_call(stack: Stack) -> Callable[[], str]:
    """A raw signed Get Firmware call on one keep-alive connection (bench/floor.py): none of the
    app's client, whose own cost the page carries and the floor must not (issue 18)."""
    floor = RawGetFirmware(stack.sim_url, DEMO_ORG_ID, DEMO_APP_KEY, DEMO_APP_SECRET)

    def call() -> str:
        return floor.call(FIRMWARE_ID)

    call()  # the connection
    return call


def page_call(stack: Stack, path: str) -> Callable[[], str]:
    """A GET of one page, logged in, on its own keep-alive connection. By http.client, as the
    load generator: `requests` spends 1-2 ms of CPU per call here, which would be timed as if
    the page cost it (a browser does not)."""
    connection = http.client.HTTPConnection(HOST, stack.web_port, timeout=30)
    headers = {"Cookie": stack.cookies[0], "User-Agent": "fwportal-bench"}

    def call() -> str:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return str(response.status)

    call()
    return call


def load_in_process_requests(stack: Stack, path: str, per_thread: int) -> LoadResult:
    """The naive load generator: `requests` sessions on threads of this process."""
    statuses: Counter[str] = Counter()
    lock = threading.Lock()
    barrier = threading.Barrier(THREADS + 1)

    def worker() -> None:
        session = stack.session()
        session.get(stack.web_url + MINIMAL_PATH, timeout=30)  # open the connection
        local: Counter[str] = Counter()
        barrier.wait()
        deadline = time.monotonic() + LOAD_MAX_SECONDS
        for _ in range(per_thread):
            if time.monotonic() > deadline:
                break
            try:
                local[str(session.get(stack.web_url + path, timeout=30).status_code)] += 1
            except requests.RequestException:
                local["error"] += 1
        with lock:
            statuses.update(local)

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    cpu = time.process_time()
    barrier.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join(LOAD_MAX_SECONDS)
    elapsed = time.perf_counter() - started
    return LoadResult(sum(statuses.values()), elapsed, time.process_time() - cpu, dict(statuses))


def load_in_subprocess(
    stack: Stack,
    paths: Sequence[str],
    per_thread: int,
    *,
    threads: int = THREADS,
    max_seconds: float = LOAD_MAX_SECONDS,
) -> LoadResult:
    """bench/loadgen.py in its own process (http.client, keep-alive): its own GIL and CPU.
    Each thread goes round `paths`; the stack's cookies are given to the threads in turn."""
    argv = [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--port", str(stack.web_port)]
    for path in paths:
        argv += ["--path", path]
    argv += ["--threads", str(threads), "--per-thread", str(per_thread)]
    argv += ["--max-seconds", str(max_seconds)]
    done = subprocess.run(  # noqa: S603 - fixed argv built by this script
        argv,
        cwd=ROOT,
        env={**os.environ, "LOADGEN_COOKIE": "\n".join(stack.cookies)},
        capture_output=True,
        text=True,
        timeout=max_seconds + 60,
        check=True,
    )
    data = json.loads(done.stdout.strip().splitlines()[-1])
    return LoadResult(**data)


@dataclass
class ServerCpu:
    per_request_ms: float  # all workers' CPU time per request
    shares: list[float]  # each worker's part of it

    def text(self) -> str:
        split = "/".join(f"{share:.0%}" for share in self.shares)
        return f"server CPU {self.per_request_ms:.2f} ms/req (workers {split})"


def with_server_cpu(stack: Stack, run: Callable[[], LoadResult]) -> tuple[LoadResult, ServerCpu]:
    """The load's result and the gunicorn workers' CPU time meanwhile."""
    pids = worker_pids(stack.master)
    before = [cpu_seconds([pid]) for pid in pids]
    result = run()
    if worker_pids(stack.master) != pids:
        print("  warning: a gunicorn worker restarted during this measurement")
    spent = [max(cpu_seconds([pid]) - was, 0.0) for pid, was in zip(pids, before, strict=True)]
    total = sum(spent) or 1e-9
    per_request = sum(spent) * 1000 / max(result.requests, 1)
    return result, ServerCpu(per_request, [part / total for part in spent])


def uncached_pages(stack: Stack, n: int) -> Counter[str]:
    """n detail page requests from 8 threads, each with its own keep-alive session, started
    together (on a fresh gunicorn that is a cold start under concurrency)."""
    url = stack.web_url + DETAIL_PATH
    barrier = threading.Barrier(THREADS)

    def share(i: int) -> Counter[str]:
        session = stack.session()
        session.get(stack.web_url + MINIMAL_PATH, timeout=30)  # connect; no EnOS call
        barrier.wait(timeout=60)
        deadline = time.monotonic() + LOAD_MAX_SECONDS
        return Counter(
            str(session.get(url, timeout=30).status_code)
            for _ in range(i, n, THREADS)
            if time.monotonic() < deadline
        )

    statuses: Counter[str] = Counter()
    with ThreadPoolExecutor(THREADS) as pool:
        for counted in pool.map(share, range(THREADS)):
            statuses.update(counted)
    return statuses


def warm_up_every_worker(stack: Stack) -> None:
    """Pages on new connections until every worker has fetched its token (each worker has its
    own local-memory cache; keep-alive connections stick to the worker that accepted them)."""
    url = stack.web_url + DETAIL_PATH
    for _ in range(200):
        if stack.sim_counters()["token_get"] >= WORKERS:
            return
        stack.session().get(url, headers={"Connection": "close"}, timeout=30)
    print("  warning: not every worker fetched a token during the warm-up")


def simultaneous_gets(stack: Stack, firmware_id: str) -> tuple[int, Counter[str]]:
    """50 GETs of one cold firmware released at once: upstream Get Firmware calls it took."""
    url = f"{stack.web_url}/orgs/demo/firmware/{firmware_id}/"
    barrier = threading.Barrier(SIMULTANEOUS)
    sessions = [stack.session() for _ in range(SIMULTANEOUS)]

    def one(session: requests.Session) -> str:
        session.get(stack.web_url + MINIMAL_PATH, timeout=30)  # connect before the barrier
        barrier.wait(timeout=60)
        return str(session.get(url, timeout=60).status_code)

    stack.sim_reset()
    with ThreadPoolExecutor(SIMULTANEOUS) as pool:
        statuses = Counter(pool.map(one, sessions))
    return stack.sim_counters()["get"], statuses


def cold_firmware_ids() -> list[str]:
    """Demo-org firmware ids the other phases never ask for, one per round."""
    fixtures = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
    ids = sorted(
        fw["firmwareId"]
        for fw in fixtures["firmware"]
        if fw["orgId"] == DEMO_ORG_ID and fw["firmwareId"] != FIRMWARE_ID
    )
    return ids


def redis_unreachable_reason() -> str | None:
    try:
        import redis
    except ImportError:
        return "redis-py is not installed"
    try:
        client = redis.Redis.from_url(REDIS_URL, socket_timeout=2, socket_connect_timeout=2)
        client.ping()
        client.flushdb()
    except redis.RedisError as exc:
        return f"Redis at {REDIS_URL} is not reachable ({exc})"
    return None


# ---- report ------------------------------------------------------------------------------


def machine() -> str:
    model = "unknown CPU"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    return (
        f"{os.cpu_count()} CPUs (nproc {len(os.sched_getaffinity(0))}), {model}; "
        f"Python {platform.python_version()}; {platform.platform()}"
    )


@dataclass
class Report:
    rows: list[tuple[str, str, str, str]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, metric: str, value: str, target: str = "", met: bool | None = None) -> None:
        verdict = "" if met is None else ("yes" if met else "NO")
        self.rows.append((metric, value, target, verdict))
        print(f"  {metric}: {value}" + (f"  (target {target}: {verdict})" if target else ""))

    def note(self, text: str) -> None:
        self.notes.append(text)
        print(f"  note: {text}")

    def table(self) -> str:
        header = ("metric", "value", "target", "met")
        widths = [max(len(row[i]) for row in [header, *self.rows]) for i in range(4)]
        lines = [" | ".join(cell.ljust(widths[i]) for i, cell in enumerate(header))]
        lines.append("-|-".join("-" * width for width in widths))
        lines += [
            " | ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in self.rows
        ]
        return "\n".join(line.rstrip() for line in lines)


def non_ok(statuses: Mapping[str, int], expected: str = "200") -> str:
    others = {status: n for status, n in statuses.items() if status != expected}
    return "" if not others else f" [non-{expected}: {dict(sorted(others.items()))}]"


# ---- phases ------------------------------------------------------------------------------


def phase_uncached(stack: Stack, sizes: Sizes, report: Report) -> None:
    print(f"\n== uncached (FIRMWARE_CACHE_SECONDS=0), {WORKERS} workers x {THREADS} threads")
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0")

    per = 1000 / sizes.pages
    stack.sim_reset()  # a fresh gunicorn: no worker holds a token yet
    cold = uncached_pages(stack, sizes.pages)
    cold_counts = stack.sim_counters()
    warm_up_every_worker(stack)
    stack.sim_reset()
    steady = uncached_pages(stack, sizes.pages)
    steady_counts = stack.sim_counters()
    for label, counts, statuses in (
        ("cold", cold_counts, cold),
        ("steady", steady_counts, steady),
    ):
        tokens = (counts["token_get"] + counts["token_refresh"]) * per
        report.add(
            f"token fetches per 1000 uncached pages, {label}",
            f"{tokens:.1f} (get {counts['token_get']}, refresh {counts['token_refresh']}, "
            f"{sizes.pages} pages){non_ok(statuses)}",
            f"<= 1 per process ({WORKERS} in all)" if label == "cold" else "<= 1",
            tokens <= WORKERS * per if label == "cold" else tokens <= 1,
        )
        connections = counts["connections"] * per
        report.add(
            f"TCP connections to EnOS per 1000 uncached pages, {label}",
            f"{connections:.1f} ({counts['connections']} for {sizes.pages} pages, "
            f"{counts['get']} gets)",
            f"<= {WORKERS * THREADS}",
            connections <= WORKERS * THREADS,
        )

    latencies = timed_in_turn(
        sizes.sequential,
        {
            "floor": floor_call(stack),
            "page": page_call(stack, DETAIL_PATH),
            "firmware_only": page_call(stack, FIRMWARE_ONLY_PATH),
            "minimal": page_call(stack, MINIMAL_PATH),
        },
    )
    floor = latencies["floor"]
    n = f"(n={sizes.sequential}, all four timed in turn)"
    report.add(
        "floor: raw signed Get Firmware p50 / p95 (ms)",
        f"{floor.text()} {n}{non_ok(floor.statuses, 'ok')}",
    )
    for name, label in (
        ("page", "uncached detail page"),
        ("firmware_only", "access check + Get Firmware, no page (bench view)"),
        ("minimal", "minimal view"),
    ):
        latency = latencies[name]
        report.add(f"{label} p50 / p95 (ms)", f"{latency.text()} {n}{non_ok(latency.statuses)}")
    for name in ("p50", "p95"):
        ratio = getattr(latencies["page"], name) / getattr(floor, name)
        report.add(f"uncached {name} ratio = page / floor", f"{ratio:.2f}", "<= 1.2", ratio <= 1.2)
    bound = latencies["firmware_only"].p50 / floor.p50
    report.add("uncached p50 ratio = bench view (no page) / floor", f"{bound:.2f}")


def phase_cached(stack: Stack, sizes: Sizes, report: Report) -> None:
    print("\n== cached (FIRMWARE_CACHE_SECONDS=5, local memory)")
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="5")
    n = THREADS * sizes.per_thread

    # Which load generator: `requests` threads in this process, or http.client in its own.
    naive, naive_cpu = with_server_cpu(
        stack, lambda: load_in_process_requests(stack, MINIMAL_PATH, sizes.per_thread)
    )
    own, own_cpu = with_server_cpu(
        stack, lambda: load_in_subprocess(stack, [MINIMAL_PATH], sizes.per_thread)
    )
    for label, result, server_ms in (
        ("in-process requests threads", naive, naive_cpu),
        ("separate process, http.client", own, own_cpu),
    ):
        report.add(
            f"load generator check, minimal view: {label}",
            f"{result.per_second:.0f} req/s; client CPU {result.cpu_seconds / result.elapsed:.0%}"
            f" of a core, {result.cpu_seconds * 1000 / max(result.requests, 1):.2f} ms/req; "
            f"{server_ms.text()}{non_ok(result.statuses)}",
        )
    report.note(
        "cached vs minimal is measured with the separate-process http.client generator "
        f"({THREADS} threads x {sizes.per_thread} requests each, {THROUGHPUT_ROUNDS} rounds)"
    )

    stack.session().get(stack.web_url + DETAIL_PATH, timeout=30)  # fill the cache
    # Alternate detail and minimal rounds and take medians: which worker accepts each of the
    # 8 connections varies from run to run, and with it how much of the 2 cores gets used.
    results: dict[str, list[tuple[LoadResult, ServerCpu]]] = {"detail": [], "minimal": []}
    for _ in range(THROUGHPUT_ROUNDS):
        for name, path in (("detail", DETAIL_PATH), ("minimal", MINIMAL_PATH)):
            results[name].append(
                with_server_cpu(
                    stack, lambda path=path: load_in_subprocess(stack, [path], sizes.per_thread)
                )
            )
    rates: dict[str, float] = {}
    for name, label in (("detail", "cached detail page"), ("minimal", "minimal view")):
        rounds = results[name]
        per_second = sorted(result.per_second for result, _ in rounds)
        rates[name] = statistics.median(per_second)
        statuses: Counter[str] = Counter()
        for result, _ in rounds:
            statuses.update(result.statuses)
        cpu = statistics.median(server.per_request_ms for _, server in rounds)
        splits = ", ".join(
            "/".join(f"{share:.0%}" for share in server.shares) for _, server in rounds
        )
        report.add(
            f"{label} req/s (median of {len(rounds)})",
            f"{rates[name]:.0f} (rounds {'/'.join(f'{r:.0f}' for r in per_second)}; "
            f"{len(rounds)} x {n} requests; server CPU {cpu:.2f} ms/req, split by worker "
            f"{splits})"
            f"{non_ok(statuses)}",
        )
    ratio = rates["detail"] / rates["minimal"]
    report.add("cached detail / minimal req/s ratio", f"{ratio:.2f}", ">= 0.6", ratio >= 0.6)


def phase_single_flight(
    stack: Stack, sizes: Sizes, report: Report, label: str, ids: list[str], **env: str
) -> None:
    print(f"\n== {SIMULTANEOUS} simultaneous requests for a cold firmware, {label} cache")
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="5", **env)
    stack.session().get(stack.web_url + DETAIL_PATH, timeout=30)  # token, connections
    gets: list[int] = []
    statuses: Counter[str] = Counter()
    for firmware_id in ids[: sizes.rounds]:
        count, round_statuses = simultaneous_gets(stack, firmware_id)
        gets.append(count)
        statuses.update(round_statuses)
    limit = WORKERS if label == "local-memory" else 1
    report.add(
        f"upstream gets per {SIMULTANEOUS} simultaneous identical requests, {label}",
        f"max {max(gets)} (rounds: {', '.join(map(str, gets))}){non_ok(statuses)}",
        f"<= {limit}" + (" (1 per process)" if label == "local-memory" else " (1 in all)"),
        max(gets) <= limit,
    )


def run(sizes: Sizes, work: Path, settings_module: str, cache_url: str) -> Report:
    report = Report()
    env = {
        # Each request's access log line is made as in production, and thrown away.
        "GUNICORN_ACCESSLOG": "/dev/null",
    }
    stack = Stack(work, settings_module, env, workers=WORKERS, threads=THREADS)
    # The pages' cache: fwportal's default (the database) unless a CACHE_URL is named.
    stack.env.pop("CACHE_URL", None)
    if cache_url:
        stack.env["CACHE_URL"] = cache_url
    with serving(stack):
        stack.start_simulator("--latency-ms", str(SIM_LATENCY_MS))
        login = stack.set_up_demo()
        stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0")
        stack.cookies = (stack.log_in(*login),)

        phase_uncached(stack, sizes, report)
        phase_cached(stack, sizes, report)
        ids = cold_firmware_ids()
        phase_single_flight(
            stack, sizes, report, "local-memory", ids, CACHE_URL="locmemcache://fwportal-bench"
        )
        reason = redis_unreachable_reason()
        if reason is None:
            phase_single_flight(
                stack, sizes, report, "Redis", ids[sizes.rounds :], CACHE_URL=REDIS_URL
            )
        else:
            report.add(f"upstream gets per {SIMULTANEOUS} simultaneous, Redis", "skipped")
            report.note(f"Redis variant skipped: {reason}")
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fwportal benchmark (reports, never asserts)")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument(
        "--settings",
        default="bench.settings",
        help="Django settings module to measure (default bench.settings); another one must "
        "serve /bench/minimal/ too (extend bench.settings), e.g. to try a change before making it",
    )
    parser.add_argument(
        "--cache-url",
        default="",
        help="CACHE_URL for the pages (default: none, fwportal's default database cache); "
        "e.g. locmemcache://bench for each process's memory, as before issue 12",
    )
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    print(f"fwportal benchmark{' (quick)' if args.quick else ''}: {machine()}")
    with work_folder("fwportal-bench-", args.keep) as work:
        report = run(sizes, work, args.settings, args.cache_url)
    print(f"\nResults ({time.strftime('%Y-%m-%d %H:%M %Z')}, {time.monotonic() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(f"EnOS simulator latency {SIM_LATENCY_MS} ms; gunicorn {WORKERS} workers x {THREADS}")
    print(f"settings: {args.settings}; cache: {args.cache_url or 'the default (database)'}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(report.table())
    for note in report.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
