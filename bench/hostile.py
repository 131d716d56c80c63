"""fwportal against hostile EnOS gateways: does one org's gateway starve the others, and does a
gateway's huge answers make the workers grow?

    .venv/bin/python bench/hostile.py            # full run, a few minutes
    .venv/bin/python bench/hostile.py --quick    # smoke run, about a minute

Everything runs on 127.0.0.1 in a temporary folder, started by bench/stack.py: gunicorn
(gunicorn.conf.py, 2 workers x 8 threads) with bench.settings (fwportal's settings), SQLite, and
two EnOS simulators (20 ms latency): the demo org's, and a second one behind a "hostile" org.

1. Starvation: p50/p95 of /healthz, the anonymous login page and a cached demo-org firmware page
   (keep-alive http.client, timed in turn), first quiet, then while 10 clients keep asking for
   different firmware pages of the hostile org, whose gateway drips its answers a byte a second,
   so each is held until fwportal's total EnOS deadline (ENOS_TOTAL_TIMEOUT, set to 5 s here).
2. Memory: each worker's RSS before and after 200 detail page views (50 firmware x 4 languages,
   8 at a time, FIRMWARE_CACHE_SECONDS=1) while every demo-org answer carries a 5 MB description,
   and after the same 200 views once more.

It reports; it does not assert targets, and it exits 0 once every phase has run.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import itertools
import os
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.run import (  # noqa: E402
    FIRMWARE_ID,
    LOAD_MAX_SECONDS,
    THREADS,
    WORKERS,
    Latency,
    Report,
    cold_firmware_ids,
    machine,
    non_ok,
    timed_in_turn,
)
from bench.stack import HOST, Stack, cpu_seconds, rss_kb, worker_pids  # noqa: E402
from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID  # noqa: E402

SIM_LATENCY_MS = 20
DEADLINE_SECONDS = 5.0  # ENOS_TOTAL_TIMEOUT for this run (default 15 s), to keep it short
DEADLINE_MARGIN_SECONDS = 2.0  # the slowest hostile request may take the deadline plus this
HOSTILE_CLIENTS = 10  # the default; --hostile-clients changes it
DRIP = {"kind": "drip", "delay": 1.0, "max_seconds": 120.0}
HUGE_DESCRIPTION = {"kind": "huge_description", "size": 5_000_000}
CACHED_SECONDS = 600  # phase 1: the demo page stays cached for the whole phase
REFETCH_SECONDS = 1  # phase 2: a page viewed again is fetched again
LANGUAGES = ("en", "zh-hans", "ja", "es")
RSS_GROWTH_TARGET_MIB = 150
PASSES = 2  # the same views again: a leak keeps growing, a worker that has reached its size stays
RSS_SAMPLE_SECONDS = 0.2
BUSY_WORDING = b"EnOS is busy"
EVERYDAY_REQUESTS = {
    "/healthz": ("/healthz", False),
    "login page (anonymous)": ("/accounts/login/", False),
    "cached demo firmware page": (f"/orgs/demo/firmware/{FIRMWARE_ID}/", True),
}


@dataclass(frozen=True)
class Sizes:
    rounds: int  # phase 1: rounds of the three requests in turn, quiet and under load
    firmware: int  # phase 2: firmware ids viewed, each in every language


FULL = Sizes(rounds=1000, firmware=50)  # 1000 rounds under load span a few deadlines
QUICK = Sizes(rounds=60, firmware=10)


# ---- clients -----------------------------------------------------------------------------


class Client:
    """One keep-alive connection to gunicorn, logged in when given a session cookie; after a
    failure the next request opens a new connection (http.client's auto_open)."""

    def __init__(self, stack: Stack, cookie: str | None, timeout: float) -> None:
        self.connection = http.client.HTTPConnection(HOST, stack.web_port, timeout=timeout)
        self.headers = {"User-Agent": "fwportal-bench"}
        if cookie is not None:
            self.headers["Cookie"] = cookie

    def get(self, path: str, headers: Mapping[str, str] | None = None) -> tuple[int, bytes]:
        try:
            self.connection.request("GET", path, headers={**self.headers, **(headers or {})})
            response = self.connection.getresponse()
            return response.status, response.read()
        except (OSError, http.client.HTTPException):
            self.connection.close()
            raise

    @property
    def port(self) -> int | None:
        """This end's TCP port, while connected."""
        sock = self.connection.sock
        return None if sock is None else sock.getsockname()[1]


def timed_call(client: Client, path: str) -> Callable[[], str]:
    """A GET for timed_in_turn, made once untimed to connect (and fill a cache)."""

    def call() -> str:
        return str(client.get(path)[0])

    call()
    return call


def served_by(stack: Stack, ports: Iterable[int | None]) -> dict[int, int]:
    """Client port -> the gunicorn worker (its index in worker_pids) holding that connection,
    read from /proc: keep-alive connections stick to the worker that accepted them."""
    wanted = {port for port in ports if port is not None}
    inodes: dict[str, int] = {}
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = (int(address.rsplit(":", 1)[1], 16) for address in fields[1:3])
        if local == stack.web_port and remote in wanted:
            inodes[f"socket:[{fields[9]}]"] = remote
    owners: dict[int, int] = {}
    for index, pid in enumerate(worker_pids(stack.master)):
        with contextlib.suppress(OSError):
            for fd in Path(f"/proc/{pid}/fd").iterdir():
                with contextlib.suppress(OSError):
                    port = inodes.get(os.readlink(fd))
                    if port is not None:
                        owners[port] = index
    return owners


class HostileLoad:
    """`clients` threads, each on its own keep-alive connection, asking for the next of `paths`
    as soon as its last request answered, until stop() or `max_seconds`."""

    def __init__(
        self, stack: Stack, paths: Sequence[str], clients: int, max_seconds: float
    ) -> None:
        self.clients = [
            Client(stack, stack.cookies[0], timeout=DEADLINE_SECONDS + 30) for _ in range(clients)
        ]
        self.answers: list[tuple[str, float]] = []  # outcome, seconds
        self._paths = itertools.cycle(paths)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._max_seconds = max_seconds
        # Daemons: a thread still stuck after stop()'s bounded join cannot keep the run alive.
        self._threads = [
            threading.Thread(target=self._run, args=(client,), daemon=True)
            for client in self.clients
        ]

    def start(self) -> None:
        for thread in self._threads:
            thread.start()

    def _run(self, client: Client) -> None:
        deadline = time.monotonic() + self._max_seconds
        while not self._stop.is_set() and time.monotonic() < deadline:
            with self._lock:
                path = next(self._paths)
            started = time.perf_counter()
            try:
                status, body = client.get(path)
                outcome = "503 busy" if status == 503 and BUSY_WORDING in body else str(status)
            except (OSError, http.client.HTTPException) as exc:
                outcome = type(exc).__name__
            with self._lock:
                self.answers.append((outcome, time.perf_counter() - started))

    def stop(self, wait: float) -> int:
        """Stop asking, wait up to `wait` s for the requests in flight; how many still hang."""
        self._stop.set()
        until = time.monotonic() + wait
        for thread in self._threads:
            thread.join(max(0.0, until - time.monotonic()))
        for client in self.clients:
            client.connection.close()
        return sum(thread.is_alive() for thread in self._threads)


# ---- phase 1: one hostile org ------------------------------------------------------------


@dataclass
class Timings:
    latencies: dict[str, Latency]
    seconds: float  # how long the measurement took
    cores: float  # the workers' CPU seconds per second of the measurement
    workers: dict[str, int | None]  # measured request -> the worker its connection went to


def time_everyday_requests(stack: Stack, rounds: int) -> Timings:
    """The three requests people make, timed in turn on their own keep-alive connections."""
    clients = {
        name: Client(stack, stack.cookies[0] if logged_in else None, timeout=30)
        for name, (_, logged_in) in EVERYDAY_REQUESTS.items()
    }
    calls = {name: timed_call(clients[name], path) for name, (path, _) in EVERYDAY_REQUESTS.items()}
    ports = {name: client.port for name, client in clients.items()}
    owners = served_by(stack, ports.values())
    pids = worker_pids(stack.master)
    cpu, started = cpu_seconds(pids), time.perf_counter()
    latencies = timed_in_turn(rounds, calls)
    seconds = time.perf_counter() - started
    cores = (cpu_seconds(pids) - cpu) / seconds
    for client in clients.values():
        client.connection.close()
    return Timings(
        latencies, seconds, cores, {name: owners.get(port or 0) for name, port in ports.items()}
    )


def add_hostile_org(stack: Stack, gateway: Stack) -> None:
    """The hostile org: the demo org's id and keys, on the second simulator."""
    stack.manage(
        *("orgs", "add", "hostile", "--name", "Hostile", "--org-id", DEMO_ORG_ID),
        *("--gateway-url", gateway.sim_url, "--access-key", DEMO_APP_KEY),
        stdin=DEMO_APP_SECRET + "\n",
    )
    stack.manage("orgs", "grant", "hostile", "--user", "operator")


def phase_starvation(
    stack: Stack, gateway: Stack, sizes: Sizes, report: Report, clients: int
) -> None:
    print(f"\n== one hostile org: {clients} clients held by a dripping gateway")
    check = Client(stack, stack.cookies[0], timeout=30)
    status, _ = check.get(f"/orgs/hostile/firmware/{FIRMWARE_ID}/")
    check.connection.close()
    report.add(
        "hostile org page before its gateway turns hostile", str(status), "200", status == 200
    )

    quiet = time_everyday_requests(stack, sizes.rounds)

    gateway.sim_configure({"fault": DRIP})
    paths = [f"/orgs/hostile/firmware/{firmware_id}/" for firmware_id in cold_firmware_ids()]
    load = HostileLoad(stack, paths, clients, LOAD_MAX_SECONDS + 2 * DEADLINE_SECONDS)
    load_started = time.perf_counter()
    load.start()
    try:
        time.sleep(DEADLINE_SECONDS + 1)  # every slot held, deadlines passing, "busy" answers
        loaded = time_everyday_requests(stack, sizes.rounds)
        hostile_workers = Counter(
            served_by(stack, (client.port for client in load.clients)).values()
        )
    finally:
        hanging = load.stop(DEADLINE_SECONDS + DEADLINE_MARGIN_SECONDS + 5)
    load_seconds = time.perf_counter() - load_started
    gateway.sim_configure({"fault": None})

    for name in EVERYDAY_REQUESTS:
        before, during = quiet.latencies[name], loaded.latencies[name]
        report.add(
            f"{name} p50 / p95 (ms), quiet -> under hostile load",
            f"{before.text()} -> {during.text()} (n={len(before.samples)} -> "
            f"{len(during.samples)}; worker {quiet.workers[name]} -> "
            f"{loaded.workers[name]}){non_ok(before.statuses)}{non_ok(during.statuses)}",
        )
        report.add(
            f"{name} under load / quiet, p50 / p95",
            f"{during.p50 / before.p50:.2f} / {during.p95 / before.p95:.2f}",
        )
    report.add(
        "worker CPU, quiet -> under hostile load (cores)",
        f"{quiet.cores:.2f} -> {loaded.cores:.2f} (over {quiet.seconds:.1f} s -> "
        f"{loaded.seconds:.1f} s of measurement)",
    )
    outcomes = Counter(outcome for outcome, _ in load.answers)
    slowest = max((seconds for _, seconds in load.answers), default=0.0)
    report.add(
        "hostile requests by outcome",
        f"{dict(sorted(outcomes.items()))} in {load_seconds:.0f} s; hostile connections per "
        f"worker {dict(sorted(hostile_workers.items()))}",
    )
    limit = DEADLINE_SECONDS + DEADLINE_MARGIN_SECONDS
    report.add(
        "slowest hostile request (s)",
        f"{slowest:.2f} ({hanging} client(s) still waiting when stopped)",
        f"<= {limit:.0f} (deadline {DEADLINE_SECONDS:.0f} + {DEADLINE_MARGIN_SECONDS:.0f})",
        slowest <= limit and hanging == 0,
    )
    busy = [seconds for outcome, seconds in load.answers if outcome == "503 busy"]
    if busy:
        report.add("slowest busy 503 (s)", f"{max(busy):.2f}")


# ---- phase 2: huge descriptions ----------------------------------------------------------


def view(stack: Stack, firmware_id: str, language: str) -> tuple[str, bool]:
    """One detail page on a new connection (the accept race spreads them over the workers):
    its status, and whether it came in `language`."""
    client = Client(stack, stack.cookies[0], timeout=60)
    try:
        status, body = client.get(
            f"/orgs/demo/firmware/{firmware_id}/", {"Accept-Language": language}
        )
    except (OSError, http.client.HTTPException) as exc:
        return type(exc).__name__, False
    finally:
        client.connection.close()
    return str(status), f'<html lang="{language}"'.encode() in body


class PeakRss:
    """Samples the workers' RSS in a thread while in its block; the highest seen per pid."""

    def __init__(self, pids: Sequence[int]) -> None:
        self.pids = pids
        self.peak_kb = dict.fromkeys(pids, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(RSS_SAMPLE_SECONDS):
            for pid in self.pids:
                with contextlib.suppress(OSError, RuntimeError):
                    self.peak_kb[pid] = max(self.peak_kb[pid], rss_kb(pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join(5)


def phase_memory(
    stack: Stack, sizes: Sizes, report: Report, gunicorn_env: Mapping[str, str]
) -> None:
    ids = cold_firmware_ids()
    views = [
        (firmware_id, language) for language in LANGUAGES for firmware_id in ids[: sizes.firmware]
    ]
    print(
        f"\n== memory: {PASSES} x {len(views)} views, every desc {HUGE_DESCRIPTION['size']:,} chars"
    )
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS=str(REFETCH_SECONDS), **gunicorn_env)
    warm_up = Counter(
        view(stack, firmware_id, language)[0]
        for firmware_id in (FIRMWARE_ID, ids[-1])
        for language in LANGUAGES
    )
    pids = worker_pids(stack.master)
    rss = [{pid: rss_kb(pid) for pid in pids}]  # before, then after each pass
    cpu_before = {pid: cpu_seconds([pid]) for pid in pids}

    stack.sim_configure({"fault": HUGE_DESCRIPTION})
    stack.sim_reset()
    deadline = time.monotonic() + LOAD_MAX_SECONDS

    def bounded_view(firmware_id: str, language: str) -> tuple[str, bool]:
        if time.monotonic() > deadline:
            return "skipped (time bound)", False
        return view(stack, firmware_id, language)

    answers: list[list[tuple[str, bool]]] = []
    started = time.perf_counter()
    with PeakRss(pids) as peak, ThreadPoolExecutor(THREADS) as pool:
        for _ in range(PASSES):
            answers.append(list(pool.map(bounded_view, *zip(*views, strict=True))))
            rss.append({pid: rss_kb(pid) for pid in pids})
    elapsed = time.perf_counter() - started
    gets = stack.sim_counters()["get"]
    stack.sim_configure({"fault": None})
    if worker_pids(stack.master) != pids:
        report.note("a gunicorn worker restarted during the memory phase")

    for number, answered in enumerate(answers, 1):
        statuses = Counter(status for status, _ in answered)
        in_language = sum(right for status, right in answered if status == "200")
        report.add(
            f"huge-description views answered 200, pass {number}",
            f"{statuses['200']} of {len(views)} ({in_language} in the language asked)"
            f"{non_ok(statuses)}",
        )
    report.add(
        "huge-description views: EnOS Get Firmware calls, time",
        f"{gets} for {PASSES * len(views)} views; {elapsed:.0f} s, {THREADS} at a time; "
        f"warm-up of normal pages {dict(warm_up)}",
    )
    for index, pid in enumerate(pids):
        steps = " -> ".join(f"{sample[pid] / 1024:.0f}" for sample in rss)
        growth = max(sample[pid] - rss[0][pid] for sample in rss[1:]) / 1024
        cpu = cpu_seconds([pid]) - cpu_before[pid]
        report.add(
            f"worker {index} RSS (MiB) before -> after each pass; most growth",
            f"{steps} (peak {peak.peak_kb[pid] / 1024:.0f}); {growth:+.0f}; "
            f"{cpu:.1f} s CPU in the views",
            f"growth <= {RSS_GROWTH_TARGET_MIB}",
            growth <= RSS_GROWTH_TARGET_MIB,
        )
    tracebacks = stack.gunicorn_log_since_boot().count("Traceback")
    report.add("tracebacks in gunicorn's log during the memory phase", str(tracebacks))


# ---- the run -----------------------------------------------------------------------------


def run(sizes: Sizes, work: Path, clients: int, gunicorn_env: Mapping[str, str]) -> Report:
    report = Report()
    env = {
        "CACHE_URL": "locmemcache://fwportal-bench",
        "GUNICORN_ACCESSLOG": "/dev/null",
        "ENOS_TOTAL_TIMEOUT": str(DEADLINE_SECONDS),
    }
    stack = Stack(work, "bench.settings", env, workers=WORKERS, threads=THREADS)
    # A second Stack that only runs a simulator: the hostile org's gateway, on its own port.
    (work / "hostile").mkdir()
    gateway = Stack(work / "hostile", "bench.settings")
    try:
        stack.start_simulator("--latency-ms", str(SIM_LATENCY_MS))
        gateway.start_simulator("--latency-ms", str(SIM_LATENCY_MS))
        login = stack.set_up_demo()
        add_hostile_org(stack, gateway)
        stack.start_gunicorn(FIRMWARE_CACHE_SECONDS=str(CACHED_SECONDS), **gunicorn_env)
        stack.cookies = (stack.log_in(*login),)

        phase_starvation(stack, gateway, sizes, report, clients)
        phase_memory(stack, sizes, report, gunicorn_env)
    except BaseException:
        for name, logs in (("gunicorn", stack), ("simulator", stack), ("simulator", gateway)):
            print(
                f"--- last lines of {logs.logs / name}.log:\n{logs.log_tail(name)}", file=sys.stderr
            )
        raise
    finally:
        try:
            gateway.close()
        finally:
            stack.close()
    return report


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fwportal against hostile gateways (reports)")
    parser.add_argument("--quick", action="store_true", help="small counts: a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    parser.add_argument(
        "--hostile-clients",
        type=int,
        default=HOSTILE_CLIENTS,
        help=f"clients asking for the hostile org's pages at once (default {HOSTILE_CLIENTS})",
    )
    parser.add_argument(
        "--gunicorn-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="extra environment for gunicorn (repeatable), e.g. MALLOC_ARENA_MAX=2: to try a "
        "change before making it",
    )
    args = parser.parse_args(argv)
    gunicorn_env = dict(item.split("=", 1) for item in args.gunicorn_env)
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    print(f"fwportal hostile-gateway benchmark{' (quick)' if args.quick else ''}: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="fwportal-hostile-"))
    try:
        report = run(sizes, work, args.hostile_clients, gunicorn_env)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nResults ({time.strftime('%Y-%m-%d %H:%M %Z')}, {time.monotonic() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(
        f"EnOS simulators latency {SIM_LATENCY_MS} ms; gunicorn {WORKERS} workers x {THREADS}; "
        f"ENOS_TOTAL_TIMEOUT={DEADLINE_SECONDS:g}; {args.hostile_clients} hostile clients, their "
        f"gateway's fault {DRIP}; memory fault {HUGE_DESCRIPTION}; extra gunicorn environment "
        f"{gunicorn_env or 'none'}"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(report.table())
    for note in report.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
