"""fwportal benchmark: what a firmware page costs on top of the EnOS call it waits on.

    .venv/bin/python bench/run.py            # full run, a few minutes
    .venv/bin/python bench/run.py --quick    # smoke run, under a minute

Everything runs on 127.0.0.1 in a temporary folder (SQLite database, static files, logs): the
EnOS simulator (`python -m enos_simulator --latency-ms 20`) in its own process, and
gunicorn (gunicorn.conf.py, 2 workers x 8 threads) with DJANGO_SETTINGS_MODULE=bench.settings,
which adds /bench/minimal/ (a view returning "ok" behind the same middleware and login).
Each ratio is taken against a floor measured in the same run:

* uncached page latency vs a direct, signed, keep-alive Get Firmware call made by the app's own
  EnOS client (target <= 1.2); pages are timed in turn with that call, with a bench view that
  checks access and fetches without rendering anything, and with the minimal view;
* cached detail page requests/s vs the minimal view (target >= 0.6);
* token fetches and TCP connections to EnOS per 1000 uncached pages;
* upstream Get Firmware calls per 50 simultaneous requests for one cold firmware, with the
  local-memory cache (one per process) and with Redis (one in all).

It reports; it does not assert targets, and it exits 0 once every phase has run.
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import http.client
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import requests

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.loadgen import LoadResult  # noqa: E402
from enos_simulator import (  # noqa: E402
    DEFAULT_FIXTURES,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_ORG_ID,
)
from firmware.enos.client import ClientSettings, EnosClient, OrgCredentials  # noqa: E402

HOST = "127.0.0.1"
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


# ---- processes ---------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


class Children:
    """Child processes, each in its own process group, all stopped by close() whatever happens."""

    def __init__(self, logs: Path) -> None:
        self._logs = logs
        self._procs: dict[str, subprocess.Popen[bytes]] = {}
        self._files: list[IO[bytes]] = []

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str]) -> subprocess.Popen:
        log = (self._logs / f"{name}.log").open("ab")
        self._files.append(log)
        proc = subprocess.Popen(  # noqa: S603 - fixed argv built by this script
            list(argv),
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._procs[name] = proc
        return proc

    def stop(self, name: str) -> None:
        proc = self._procs.pop(name, None)
        if proc is None:
            return
        # SIGINT: gunicorn's quick shutdown; the simulator stops on it too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGINT)
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=15)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # anything left in the group (workers)
        proc.wait(timeout=10)

    def tail(self, name: str, lines: int = 30) -> str:
        path = self._logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        for name in list(self._procs):
            self.stop(name)
        for log in self._files:
            log.close()


def wait_until_answers(url: str, proc: subprocess.Popen, seconds: float = 60.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[:4]} exited with {proc.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children, from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            stat = (entry / "stat").read_text()
            if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                pids.append(int(entry.name))
    return sorted(pids)


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


# ---- the stack: simulator + gunicorn -----------------------------------------------------


@dataclass
class Stack:
    children: Children
    app_env: dict[str, str]
    sim_port: int
    web_port: int
    cookie: str = ""
    master: int = 0

    @property
    def sim_url(self) -> str:
        return f"http://{HOST}:{self.sim_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    # simulator control plane
    def sim_counters(self) -> dict[str, int]:
        return requests.get(self.sim_url + "/_simulator/counters", timeout=5).json()

    def sim_reset(self) -> None:
        requests.post(self.sim_url + "/_simulator/reset", timeout=5).raise_for_status()

    def start_simulator(self) -> None:
        argv = [sys.executable, "-m", "enos_simulator", "--host", HOST]
        argv += ["--port", str(self.sim_port), "--latency-ms", str(SIM_LATENCY_MS)]
        proc = self.children.start("simulator", argv, self.app_env)
        wait_until_answers(self.sim_url + "/_simulator/counters", proc, 20)

    def start_gunicorn(self, **env: str) -> None:
        """(Re)start gunicorn with these extra settings; waits for /healthz."""
        self.children.stop("gunicorn")
        self.web_port = free_port()
        full_env = {
            **self.app_env,
            "GUNICORN_BIND": f"{HOST}:{self.web_port}",
            "GUNICORN_WORKERS": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            # Each request's access log line is made as in production, and thrown away.
            "GUNICORN_ACCESSLOG": "/dev/null",
            # No recycling after N requests: a worker restart mid-measurement is not steady state.
            "GUNICORN_MAX_REQUESTS": "0",
            **env,
        }
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        proc = self.children.start("gunicorn", [*argv, "fwportal.wsgi:application"], full_env)
        self.master = proc.pid
        wait_until_answers(self.web_url + "/healthz", proc)
        deadline = time.monotonic() + 20
        while len(worker_pids(self.master)) < WORKERS and time.monotonic() < deadline:
            time.sleep(0.1)

    def session(self) -> requests.Session:
        session = requests.Session()
        name, _, value = self.cookie.partition("=")
        session.cookies.set(name, value, domain=HOST, path="/")
        return session


def manage(env: Mapping[str, str], *args: str) -> str:
    done = subprocess.run(  # noqa: S603 - fixed argv built by this script
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def log_in(base_url: str, username: str, password: str) -> str:
    """Log in through the real login form; the session cookie as `sessionid=...`."""
    session = requests.Session()
    form = session.get(base_url + "/accounts/login/", timeout=10)
    form.raise_for_status()
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    if match is None:
        raise RuntimeError("no CSRF token in the login form")
    answer = session.post(
        base_url + "/accounts/login/",
        data={
            "csrfmiddlewaretoken": match.group(1),
            "username": username,
            "password": password,
            "next": "",
        },
        headers={"Referer": base_url + "/accounts/login/"},
        allow_redirects=False,
        timeout=30,
    )
    sessionid = session.cookies.get("sessionid")
    if answer.status_code != 302 or not sessionid:
        raise RuntimeError(f"login failed: HTTP {answer.status_code}")
    return f"sessionid={sessionid}"


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


class DictCache:
    """The TokenCache the direct client needs, in a dict (no Django in the bench process)."""

    def __init__(self) -> None:
        self._data: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self._data.get(key, default)

    def set(self, key: str, value: Any, timeout: float | None = None) -> None:
        self._data[key] = value

    def add(self, key: str, value: Any, timeout: float | None = None) -> bool:
        return self._data.setdefault(key, value) is value

    def delete(self, key: str) -> None:
        self._data.pop(key, None)


def floor_call(stack: Stack) -> Callable[[], str]:
    """A direct, signed Get Firmware call on one keep-alive connection, as the app makes it."""
    credentials = OrgCredentials(
        label="bench",
        gateway_url=stack.sim_url,
        org_id=DEMO_ORG_ID,
        access_key=DEMO_APP_KEY,
        secret_key=DEMO_APP_SECRET,
    )
    client = EnosClient(credentials, cache=DictCache(), settings=ClientSettings())

    def call() -> str:
        return "ok" if client.get_firmware(FIRMWARE_ID).firmware_id == FIRMWARE_ID else "wrong"

    call()  # token and connection
    return call


def page_call(stack: Stack, path: str) -> Callable[[], str]:
    """A GET of one page, logged in, on its own keep-alive connection. By http.client, as the
    load generator: `requests` spends 1-2 ms of CPU per call here, which would be timed as if
    the page cost it (a browser does not)."""
    connection = http.client.HTTPConnection(HOST, stack.web_port, timeout=30)
    headers = {"Cookie": stack.cookie, "User-Agent": "fwportal-bench"}

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


def load_in_subprocess(stack: Stack, path: str, per_thread: int) -> LoadResult:
    """bench/loadgen.py in its own process (http.client, keep-alive): its own GIL and CPU."""
    argv = [sys.executable, str(ROOT / "bench" / "loadgen.py"), "--port", str(stack.web_port)]
    argv += ["--path", path, "--threads", str(THREADS), "--per-thread", str(per_thread)]
    argv += ["--max-seconds", str(LOAD_MAX_SECONDS)]
    done = subprocess.run(  # noqa: S603 - fixed argv built by this script
        argv,
        cwd=ROOT,
        env={**os.environ, "LOADGEN_COOKIE": stack.cookie},
        capture_output=True,
        text=True,
        timeout=LOAD_MAX_SECONDS + 60,
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
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0", CACHE_URL="locmemcache://fwportal-bench")

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
        "floor: direct signed Get Firmware p50 / p95 (ms)",
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
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="5", CACHE_URL="locmemcache://fwportal-bench")
    n = THREADS * sizes.per_thread

    # Which load generator: `requests` threads in this process, or http.client in its own.
    naive, naive_cpu = with_server_cpu(
        stack, lambda: load_in_process_requests(stack, MINIMAL_PATH, sizes.per_thread)
    )
    own, own_cpu = with_server_cpu(
        stack, lambda: load_in_subprocess(stack, MINIMAL_PATH, sizes.per_thread)
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
                    stack, lambda path=path: load_in_subprocess(stack, path, sizes.per_thread)
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


def run(sizes: Sizes, work: Path, settings_module: str) -> Report:
    report = Report()
    logs = work / "logs"
    logs.mkdir()
    fernet_key = base64.urlsafe_b64encode(secrets.token_bytes(32)).decode()
    app_env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": settings_module,
        "DATABASE_URL": f"sqlite:///{work / 'bench.sqlite3'}",
        "CACHE_URL": "locmemcache://fwportal-bench",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_KEYS": fernet_key,
        "DEBUG": "0",
        "HTTPS_ONLY": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "BENCH_STATIC_ROOT": str(work / "static"),
        "PYTHONUNBUFFERED": "1",
    }
    children = Children(logs)
    stack = Stack(children, app_env, sim_port=free_port(), web_port=0)
    try:
        stack.start_simulator()
        manage(app_env, "migrate", "--noinput")
        manage(app_env, "collectstatic", "--noinput")
        demo = manage(app_env, "demo", "--gateway-url", stack.sim_url)
        login = re.search(r"Operator login: (\S+) / (\S+)", demo)
        if login is None:
            raise RuntimeError(f"no operator login in the demo command's output:\n{demo}")

        stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0")
        stack.cookie = log_in(stack.web_url, login.group(1), login.group(2))

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
    except BaseException:
        for name in ("gunicorn", "simulator"):
            print(f"--- last lines of {name}'s log:\n{children.tail(name)}", file=sys.stderr)
        raise
    finally:
        children.close()
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
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    print(f"fwportal benchmark{' (quick)' if args.quick else ''}: {machine()}")
    work = Path(tempfile.mkdtemp(prefix="fwportal-bench-"))
    try:
        report = run(sizes, work, args.settings)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nResults ({time.strftime('%Y-%m-%d %H:%M %Z')}, {time.monotonic() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(f"EnOS simulator latency {SIM_LATENCY_MS} ms; gunicorn {WORKERS} workers x {THREADS}")
    print(f"settings: {args.settings}; command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(report.table())
    for note in report.notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
