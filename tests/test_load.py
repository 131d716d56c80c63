"""Load and fault run: real gunicorn (2 workers x 8 threads) in front of the EnOS simulator.

Everything runs as child processes on 127.0.0.1 from a temporary folder (SQLite database,
static files, logs) with fwportal's own settings; every loop is bounded in count and time, and
every child is killed at the end, whatever happens. About a minute on a 2-core machine.

1. 2,000 pages (detail pages of several firmware and a list page) from 50 concurrent sessions
   while EnOS answers in 0-30 ms and 10 % of its answers fail in mixed ways (HTTP 5xx, error
   codes, broken JSON, a 2 s delay against a 1 s read timeout, dropped connections): only
   200/502/503/504, never a 500; workers neither crash, restart nor grow.
2. EnOS goes down under load: pages fetched before are served stale (HTTP 200, banner), a
   firmware never fetched is 503; EnOS back on the same port: fresh pages within seconds, with
   no gunicorn restart.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests

pytestmark = pytest.mark.load

ROOT = Path(__file__).resolve().parents[1]
HOST = "127.0.0.1"
WORKERS, THREADS = 2, 8
CACHE_SECONDS = 1
SLOW_FAULT_SECONDS = 2.0  # > ENOS_READ_TIMEOUT=1: a "slow" answer is a timeout
PAGES, CONCURRENCY, RUN_SECONDS = 2000, 50, 120.0
WARM_UP_PAGES = 300
RSS_GROWTH_LIMIT_KB = 20 * 1024
LOGINS = 5  # each login costs a password hash; the 50 sessions share these 5 logins
EXPECTED_STATUSES = {200, 502, 503, 504}
STALE_BANNER = 'id="stale-banner"'

# Detail pages under load; the list page also feeds the detail cache of its 10 newest entries.
LOADED_IDS = [
    "fw-turbine-ctrl-3.2.1",
    "fw-legacy-inverter-1.0.4",
    "fw-pitch-and-yaw",
    "fw-xss-tags",
    "fw-no-name",
    "fw-null-fields",
    "fw-unverified",
    "fw-quote-name",
    "fw-unicode-name",
    "2768aad5deedd14208bbed1b",
]
LIST_PATH = "/orgs/demo/firmware/?page_size=10"
# Old firmware of the demo org: on no list page fetched here and never opened before the outage.
NEVER_FETCHED_IDS = ["3da5ab42e8157fdd21e7c6df", "80d4fd15c2f0578b2d94dd48"]


def detail_path(firmware_id: str) -> str:
    return f"/orgs/demo/firmware/{firmware_id}/"


LOAD_PATHS = [*(detail_path(i) for i in LOADED_IDS), LIST_PATH]


# ---- processes --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def stop_group(proc: subprocess.Popen, sig: int = signal.SIGTERM, wait: float = 10) -> None:
    """Signal the child's process group, then kill whatever is left of it."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def worker_pids(master: int) -> list[int]:
    """The gunicorn master's children (what `ps --ppid <master>` lists), from /proc."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                if int(stat.rsplit(")", 1)[1].split()[1]) == master:
                    pids.append(int(entry.name))
    return sorted(pids)


def rss_kb(pid: int) -> int:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    assert match, f"no VmRSS for {pid}"
    return int(match.group(1))


@dataclass
class Stack:
    """The simulator and gunicorn, as child processes in their own process groups."""

    work: Path
    env: dict[str, str]
    sim_port: int
    web_port: int
    sim: subprocess.Popen | None = None
    web: subprocess.Popen | None = None
    cookies: tuple[str, ...] = ()
    booted_log_size: int = 0  # gunicorn's log up to the end of its start-up

    @property
    def sim_url(self) -> str:
        return f"http://{HOST}:{self.sim_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    def _spawn(self, name: str, argv: Sequence[str], env: dict[str, str]) -> subprocess.Popen:
        log = (self.work / f"{name}.log").open("ab")
        try:
            return subprocess.Popen(
                list(argv),
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        finally:
            log.close()  # the child holds its own descriptor

    def start_simulator(self, *fault_args: str) -> None:
        argv = [sys.executable, "-m", "enos_simulator", "--host", HOST]
        argv += ["--port", str(self.sim_port), "--latency-ms", "0", "--latency-jitter-ms", "30"]
        self.sim = self._spawn("simulator", [*argv, *fault_args], self.env)
        wait_for(self.sim_url + "/_simulator/counters", self.sim, 20)

    def stop_simulator(self) -> None:
        if self.sim is not None:
            stop_group(self.sim)
            self.sim = None

    def start_gunicorn(self) -> None:
        env = {
            **self.env,
            "GUNICORN_BIND": f"{HOST}:{self.web_port}",
            "GUNICORN_WORKERS": str(WORKERS),
            "GUNICORN_THREADS": str(THREADS),
            # Recycling after N requests is deliberate and would look like a crash here.
            "GUNICORN_MAX_REQUESTS": "0",
        }
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        self.web = self._spawn("gunicorn", [*argv, "fwportal.wsgi:application"], env)
        wait_for(self.web_url + "/healthz", self.web, 60)
        deadline = time.monotonic() + 30
        while len(worker_pids(self.web.pid)) < WORKERS:
            assert time.monotonic() < deadline, "gunicorn did not boot its workers"
            time.sleep(0.1)
        time.sleep(0.5)  # let both workers finish booting before the log is marked
        self.booted_log_size = (self.work / "gunicorn.log").stat().st_size

    def gunicorn_log_since_boot(self) -> str:
        with (self.work / "gunicorn.log").open("rb") as log:
            log.seek(self.booted_log_size)
            return log.read().decode(errors="replace")

    def session(self, i: int = 0) -> requests.Session:
        session = requests.Session()
        session.cookies.set("sessionid", self.cookies[i % len(self.cookies)], domain=HOST)
        return session

    def sim_control(self, method: str, name: str, payload: object = None) -> dict:
        answer = requests.request(
            method, f"{self.sim_url}/_simulator/{name}", json=payload, timeout=5
        )
        answer.raise_for_status()
        return answer.json()

    def close(self) -> None:
        self.stop_simulator()
        if self.web is not None:
            stop_group(self.web, signal.SIGINT)  # gunicorn's quick shutdown
            self.web = None


def wait_for(url: str, proc: subprocess.Popen, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"{proc.args} exited with {proc.returncode}"
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    pytest.fail(f"{url} did not answer within {seconds} s")


def manage(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, f"manage.py {args} failed:\n{done.stdout}\n{done.stderr}"
    return done.stdout


def log_in(web_url: str, username: str, password: str) -> str:
    """Log in through the login form; the session id."""
    session = requests.Session()
    form = session.get(web_url + "/accounts/login/", timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
    assert token, "no CSRF token in the login form"
    answer = session.post(
        web_url + "/accounts/login/",
        data={"csrfmiddlewaretoken": token.group(1), "username": username, "password": password},
        allow_redirects=False,
        timeout=30,
    )
    assert answer.status_code == 302, f"login failed: HTTP {answer.status_code}"
    return session.cookies["sessionid"]


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("load")
    # fwportal's settings as they are, with static files collected into the temporary folder.
    (work / "load_settings.py").write_text(
        f"from fwportal.settings import *  # noqa: F403\n\nSTATIC_ROOT = {str(work / 'static')!r}\n"
    )
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(work), str(ROOT)]),
        "DJANGO_SETTINGS_MODULE": "load_settings",
        "DATABASE_URL": f"sqlite:///{work / 'load.sqlite3'}",
        "CACHE_URL": "locmemcache://fwportal-load",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "CREDENTIALS_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
        "DEBUG": "0",
        "HTTPS_ONLY": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "FIRMWARE_CACHE_SECONDS": str(CACHE_SECONDS),
        "ENOS_READ_TIMEOUT": "1",
        "PYTHONUNBUFFERED": "1",
    }
    stack = Stack(work, env, sim_port=free_port(), web_port=free_port())
    try:
        stack.start_simulator(*MIXED_FAULTS)
        manage(env, "migrate", "--noinput")
        manage(env, "collectstatic", "--noinput")
        demo = manage(env, "demo", "--gateway-url", stack.sim_url)
        login = re.search(r"Operator login: (\S+) / (\S+)", demo)
        assert login, demo
        stack.start_gunicorn()
        with ThreadPoolExecutor(LOGINS) as pool:
            logins = [pool.submit(log_in, stack.web_url, *login.groups()) for _ in range(LOGINS)]
            stack.cookies = tuple(future.result() for future in logins)
        yield stack
    finally:
        stack.close()


MIXED_FAULTS = (
    *("--fault", "mixed", "--fault-rate", "0.1", "--fault-seed", "20261125"),
    *("--fault-delay", str(SLOW_FAULT_SECONDS)),
)


# ---- load -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    path: str
    status: int | str  # an HTTP status, or the name of the client-side exception
    stale: bool = False


def hammer(
    stack: Stack,
    paths: Callable[[int], str],
    total: int,
    concurrency: int,
    seconds: float,
    stop: threading.Event | None = None,
) -> list[Answer]:
    """`total` GETs of paths(i) from `concurrency` threads, each its own keep-alive session;
    bounded by `seconds` and by `stop`."""
    deadline = time.monotonic() + seconds
    turn = iter(range(total))
    lock = threading.Lock()
    answers: list[Answer] = []

    def worker(n: int) -> None:
        session = stack.session(n)
        while (stop is None or not stop.is_set()) and time.monotonic() < deadline:
            with lock:
                i = next(turn, None)
            if i is None:
                return
            path = paths(i)
            try:
                response = session.get(stack.web_url + path, timeout=30)
                answer = Answer(path, response.status_code, STALE_BANNER in response.text)
            except requests.RequestException as exc:
                answer = Answer(path, type(exc).__name__)
            with lock:
                answers.append(answer)

    with ThreadPoolExecutor(concurrency) as pool:
        for future in [pool.submit(worker, n) for n in range(concurrency)]:
            future.result()
    return answers


def health(stack: Stack) -> tuple[list[int], dict[int, int]]:
    assert stack.web is not None and stack.web.poll() is None, "the gunicorn master died"
    pids = worker_pids(stack.web.pid)
    return pids, {pid: rss_kb(pid) for pid in pids}


def assert_workers_unharmed(stack: Stack, pids_at_start: list[int]) -> None:
    pids, _ = health(stack)
    assert pids == pids_at_start, f"worker PIDs changed: {pids_at_start} -> {pids}"
    log = stack.gunicorn_log_since_boot()
    for sign in ("WORKER TIMEOUT", "Booting worker", "Worker exiting", "was sent SIGKILL"):
        assert sign not in log, f"gunicorn logged {sign!r} after start:\n{log[-3000:]}"


def test_mixed_faults_under_load_give_only_gateway_statuses_and_workers_stay_well(
    stack: Stack,
) -> None:
    pids_at_start, _ = health(stack)
    assert len(pids_at_start) == WORKERS

    warm_up = hammer(stack, lambda i: LOAD_PATHS[i % len(LOAD_PATHS)], WARM_UP_PAGES, 50, 60)
    assert len(warm_up) == WARM_UP_PAGES
    _, rss_after_warm_up = health(stack)

    started = time.monotonic()
    answers = hammer(
        stack, lambda i: LOAD_PATHS[i % len(LOAD_PATHS)], PAGES, CONCURRENCY, RUN_SECONDS
    )
    took = time.monotonic() - started
    _, rss_at_end = health(stack)
    counters = stack.sim_control("GET", "counters")

    statuses = Counter(answer.status for answer in [*warm_up, *answers])
    summary = (
        f"{len(answers)} pages in {took:.1f} s, statuses {dict(statuses)}, "
        f"stale {sum(a.stale for a in answers)}, EnOS counters {counters}"
    )
    print(summary)
    assert len(answers) == PAGES, f"the run hit its {RUN_SECONDS} s bound: {summary}"
    assert statuses[500] == 0, summary
    assert set(statuses) <= EXPECTED_STATUSES, summary
    assert statuses[200] >= len(answers) // 2, summary
    assert counters["faults"] > 0, f"no fault was injected: {summary}"

    growth = {pid: rss_at_end[pid] - rss_after_warm_up[pid] for pid in rss_after_warm_up}
    rss = f"RSS kB after warm-up {rss_after_warm_up}, at the end {rss_at_end}, growth {growth}"
    print(rss)
    assert all(kb < RSS_GROWTH_LIMIT_KB for kb in growth.values()), rss
    assert_workers_unharmed(stack, pids_at_start)


# ---- outage -----------------------------------------------------------------------------------


def make_every_worker_fetch(stack: Stack, path: str, counter: str) -> None:
    """Make each worker fetch `path` from EnOS: with a local-memory cache, a worker can only
    serve a stale copy of what it fetched itself. Within one cache lifetime, a second upstream
    call for the same firmware can only come from the other worker."""
    for _ in range(15):
        time.sleep(CACHE_SECONDS + 0.2)  # every worker's copy is due for a refetch
        stack.sim_control("POST", "reset")
        barrier = threading.Barrier(2 * THREADS)

        def one(barrier: threading.Barrier = barrier) -> int | str:
            barrier.wait(timeout=10)
            return fetch(stack, path).status

        with ThreadPoolExecutor(2 * THREADS) as pool:
            statuses = list(pool.map(lambda _: one(), range(2 * THREADS)))
        assert set(statuses) == {200}, (path, statuses)
        if stack.sim_control("GET", "counters")[counter] >= WORKERS:
            return
    pytest.fail(f"could not get both workers to fetch {path}")


def poll(check: Callable[[], bool], seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, f"not within {seconds} s: {what}"
        time.sleep(0.1)


def fetch(stack: Stack, path: str) -> Answer:
    """One GET on a new connection (so over many calls both workers answer)."""
    with requests.Session() as session:
        session.cookies.set("sessionid", stack.cookies[0], domain=HOST)
        response = session.get(stack.web_url + path, timeout=30)
    return Answer(path, response.status_code, STALE_BANNER in response.text)


def test_enos_outage_serves_stale_pages_then_recovers_without_a_restart(stack: Stack) -> None:
    pids_at_start, _ = health(stack)
    stack.sim_control("POST", "config", {"fault": None})
    known = [detail_path(i) for i in LOADED_IDS[:3]]
    for path in known:
        make_every_worker_fetch(stack, path, "get")
    make_every_worker_fetch(stack, LIST_PATH, "search")
    known.append(LIST_PATH)
    never_fetched = [detail_path(i) for i in NEVER_FETCHED_IDS]

    # EnOS goes down while requests for the known pages continue.
    stop = threading.Event()
    with ThreadPoolExecutor(1) as background:
        during = background.submit(
            hammer, stack, lambda i: known[i % len(known)], 2000, 8, 30, stop
        )
        time.sleep(0.5)
        assert stack.sim is not None
        stack.sim.terminate()  # SIGTERM: the simulator closes every connection and exits
        stack.sim.wait(timeout=10)
        stack.sim = None
        try:
            for path in known:
                poll(lambda p=path: fetch(stack, p).stale, 5, f"{path} served stale")
            for _ in range(3):
                for path in known:
                    answer = fetch(stack, path)
                    assert (answer.status, answer.stale) == (200, True), answer
                for path in never_fetched:
                    assert fetch(stack, path).status == 503, path
        finally:
            stop.set()
        answers_during = during.result()

    statuses = Counter((a.status, a.stale) for a in answers_during)
    assert answers_during, "no request ran during the outage"
    assert all(a.status == 200 for a in answers_during), statuses  # fresh, then stale
    assert statuses[(200, True)] > 0, statuses

    # EnOS is back on the same port; gunicorn is not restarted.
    stack.start_simulator()
    for path in known:
        poll(lambda p=path: not fetch(stack, p).stale, 10, f"{path} fresh again")
    time.sleep(CACHE_SECONDS + 0.2)  # any worker's stale copy has expired by now
    for _ in range(3):
        for path in [*known, *never_fetched]:
            answer = fetch(stack, path)
            assert (answer.status, answer.stale) == (200, False), answer
    assert_workers_unharmed(stack, pids_at_start)
