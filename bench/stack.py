"""The process harness of the benchmarks and the load tests: the EnOS simulator and gunicorn
serving fwportal, as child processes on 127.0.0.1.

Each child runs in its own process group (gunicorn's workers go with their master) and logs to
``<work>/logs/<name>.log``; the SQLite database is in ``work`` too. Every wait is bounded, and
``close()`` (or leaving a ``with Stack(...)`` block) stops every child, whatever happened::

    with Stack(work, "bench.settings", workers=2, threads=8) as stack:
        stack.start_simulator("--latency-ms", "20")
        stack.manage("migrate", "--noinput")
        stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0")

It needs neither Django nor the simulator in this process: both run as children.
"""

from __future__ import annotations

import base64
import contextlib
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import requests

HOST = "127.0.0.1"
ROOT = Path(__file__).resolve().parent.parent
SIM_START_SECONDS = 20.0
WEB_START_SECONDS = 60.0
WORKERS_BOOT_SECONDS = 30.0
STOP_SECONDS = 15.0


def free_port() -> int:
    """A TCP port on HOST that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def spawn(argv: Sequence[str], env: Mapping[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start argv in the checkout, in a new process group, its output appended to `log`."""
    with log.open("ab") as out:  # the child holds its own descriptor
        return subprocess.Popen(  # noqa: S603 - argv built by this harness's callers
            list(argv),
            cwd=ROOT,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_group(proc: subprocess.Popen[bytes], sig: int, wait: float = STOP_SECONDS) -> None:
    """Signal the child's process group, then kill whatever is left of it after `wait` s."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=wait)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGKILL)
    proc.wait(timeout=10)


def wait_until_answers(url: str, proc: subprocess.Popen[bytes], seconds: float) -> None:
    """Poll `url` until it answers 200; RuntimeError if `proc` exits or `seconds` run out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args} exited with {proc.returncode}")
        with contextlib.suppress(requests.RequestException):
            if requests.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not answer within {seconds:.0f} s")


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


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU time of these processes so far."""
    ticks = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15)
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kb(pid: int) -> int:
    """The resident memory of a process, in kB."""
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"^VmRSS:\s+(\d+) kB", status, re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no VmRSS for {pid}")
    return int(match.group(1))


class Stack:
    """The simulator and gunicorn for one run: fwportal's `settings` module, `workers` x
    `threads`, a new SQLite database, SECRET_KEY and CREDENTIALS_KEYS, and `env` on top."""

    def __init__(
        self,
        work: Path,
        settings: str,
        env: Mapping[str, str] | None = None,
        *,
        workers: int = 2,
        threads: int = 8,
    ) -> None:
        self.logs = work / "logs"
        self.logs.mkdir(exist_ok=True)
        self.workers, self.threads = workers, threads
        self.env: dict[str, str] = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": settings,
            "DATABASE_URL": f"sqlite:///{work / 'fwportal.sqlite3'}",
            "STATIC_ROOT": str(work / "static"),  # collected there, not into the checkout
            "SECRET_KEY": secrets.token_urlsafe(50),
            "CREDENTIALS_KEYS": base64.urlsafe_b64encode(secrets.token_bytes(32)).decode(),
            "DEBUG": "0",
            "HTTPS_ONLY": "0",
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "PYTHONUNBUFFERED": "1",
            **(env or {}),
        }
        self.sim_port = free_port()
        self.web_port = 0
        self.sim: subprocess.Popen[bytes] | None = None
        self.web: subprocess.Popen[bytes] | None = None
        self.cookies: tuple[str, ...] = ()  # a Cookie header each, from log_in()
        self._booted_log_size = 0  # gunicorn's log up to the end of its start-up

    @property
    def sim_url(self) -> str:
        return f"http://{HOST}:{self.sim_port}"

    @property
    def web_url(self) -> str:
        return f"http://{HOST}:{self.web_port}"

    @property
    def master(self) -> int:
        """The pid of the gunicorn master."""
        if self.web is None:
            raise RuntimeError("gunicorn is not running")
        return self.web.pid

    # -- the simulator

    def start_simulator(self, *args: str) -> None:
        """(Re)start the simulator on sim_port (the same port each time) with these options,
        e.g. latency and faults; waits until its control plane answers."""
        self.stop_simulator()
        argv = [
            sys.executable,
            "-m",
            "enos_simulator",
            "--host",
            HOST,
            "--port",
            str(self.sim_port),
        ]
        self.sim = spawn([*argv, *args], self.env, self.logs / "simulator.log")
        wait_until_answers(self.sim_url + "/_simulator/counters", self.sim, SIM_START_SECONDS)

    def stop_simulator(self) -> None:
        """Stop the simulator, if running: it closes every connection and exits."""
        if self.sim is not None:
            stop_group(self.sim, signal.SIGTERM)
            self.sim = None

    def sim_counters(self) -> dict[str, int]:
        return self._sim_control("GET", "counters")

    def sim_reset(self) -> dict[str, int]:
        """Zero the simulator's counters."""
        return self._sim_control("POST", "reset")

    def sim_configure(self, changes: Mapping[str, Any]) -> dict[str, Any]:
        """Change the simulator's latency, token lifetime or fault; its whole configuration."""
        return self._sim_control("POST", "config", changes)

    def _sim_control(self, method: str, name: str, payload: object = None) -> dict[str, Any]:
        answer = requests.request(
            method, f"{self.sim_url}/_simulator/{name}", json=payload, timeout=5
        )
        answer.raise_for_status()
        return answer.json()

    # -- gunicorn

    def start_gunicorn(self, **env: str) -> None:
        """(Re)start gunicorn (gunicorn.conf.py) on a new free port with these extra settings;
        waits for /healthz and every worker."""
        self.stop_gunicorn()
        self.web_port = free_port()
        full_env = {
            **self.env,
            "GUNICORN_BIND": f"{HOST}:{self.web_port}",
            "GUNICORN_WORKERS": str(self.workers),
            "GUNICORN_THREADS": str(self.threads),
            # No recycling after N requests: a restart would look like a crash, or skew a measure.
            "GUNICORN_MAX_REQUESTS": "0",
            **env,
        }
        argv = [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py"]
        self.web = spawn([*argv, "fwportal.wsgi:application"], full_env, self.logs / "gunicorn.log")
        wait_until_answers(self.web_url + "/healthz", self.web, WEB_START_SECONDS)
        deadline = time.monotonic() + WORKERS_BOOT_SECONDS
        while len(worker_pids(self.web.pid)) < self.workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"gunicorn did not boot {self.workers} workers")
            time.sleep(0.1)
        time.sleep(0.5)  # let every worker finish booting before the log is marked
        self._booted_log_size = (self.logs / "gunicorn.log").stat().st_size

    def stop_gunicorn(self) -> None:
        if self.web is not None:
            stop_group(self.web, signal.SIGINT)  # gunicorn's quick shutdown
            self.web = None

    def gunicorn_log_since_boot(self) -> str:
        with (self.logs / "gunicorn.log").open("rb") as log:
            log.seek(self._booted_log_size)
            return log.read().decode(errors="replace")

    # -- clients and commands

    def manage(self, *args: str, stdin: str | None = None) -> str:
        """Run `manage.py args` with the stack's settings and database, `stdin` as its standard
        input (e.g. the secret `orgs add` reads); its output, or RuntimeError when it fails."""
        done = subprocess.run(  # noqa: S603 - argv built by this harness's callers
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        if done.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
        return done.stdout

    def clear_cache(self) -> None:
        """Empty fwportal's default cache (the shared one: answers, tokens, access)."""
        self.manage("shell", "-c", "from django.core.cache import cache; cache.clear()")

    def set_up_demo(self) -> tuple[str, str]:
        """Migrate, collect static files and make the demo orgs on the simulator: the
        operator's (username, password)."""
        self.manage("migrate", "--noinput")
        self.manage("collectstatic", "--noinput")
        demo = self.manage("demo", "--gateway-url", self.sim_url)
        login = re.search(r"Operator login: (\S+) / (\S+)", demo)
        if login is None:
            raise RuntimeError(f"no operator login in the demo command's output:\n{demo}")
        username, password = login.groups()
        return username, password

    def log_in(self, username: str, password: str) -> str:
        """Log in through the real login form; the cookies a browser then holds (the session's
        and the CSRF token's) as a Cookie header: `sessionid=...; csrftoken=...`."""
        session = requests.Session()
        form = session.get(self.web_url + "/accounts/login/", timeout=10)
        form.raise_for_status()
        match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text)
        if match is None:
            raise RuntimeError("no CSRF token in the login form")
        answer = session.post(
            self.web_url + "/accounts/login/",
            data={
                "csrfmiddlewaretoken": match.group(1),
                "username": username,
                "password": password,
                "next": "",
            },
            headers={"Referer": self.web_url + "/accounts/login/"},
            allow_redirects=False,
            timeout=30,
        )
        sessionid = session.cookies.get("sessionid")
        if answer.status_code != 302 or not sessionid:
            raise RuntimeError(f"login failed: HTTP {answer.status_code}")
        return "; ".join(f"{name}={value}" for name, value in session.cookies.items())

    def session(self, i: int = 0) -> requests.Session:
        """A new session logged in with the i-th cookie (cycling)."""
        session = requests.Session()
        for name, value in cookies_of(self.cookies[i % len(self.cookies)]).items():
            session.cookies.set(name, value, domain=HOST, path="/")
        return session

    def log_tail(self, name: str, lines: int = 30) -> str:
        """The last lines of a child's log ("simulator" or "gunicorn")."""
        path = self.logs / f"{name}.log"
        if not path.exists():
            return ""
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])

    def close(self) -> None:
        try:
            self.stop_simulator()
        finally:
            self.stop_gunicorn()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def cookies_of(header: str) -> dict[str, str]:
    """The cookies of a Cookie header `log_in()` gave, by name."""
    return dict(cookie.partition("=")[::2] for cookie in header.split("; "))


@contextlib.contextmanager
def serving(stack: Stack) -> Iterator[Stack]:
    """`stack`, closed at the end whatever happens; when something fails, the last lines of its
    children's logs go to stderr first (a benchmark's folder is gone by the time one reads)."""
    try:
        yield stack
    except BaseException:
        for name in ("gunicorn", "simulator"):
            print(f"--- last lines of {name}'s log:\n{stack.log_tail(name)}", file=sys.stderr)
        raise
    finally:
        stack.close()


@contextlib.contextmanager
def work_folder(prefix: str, keep: bool) -> Iterator[Path]:
    """A new temporary folder for one benchmark run, removed afterwards unless `keep` (then
    its path is printed)."""
    work = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        yield work
    finally:
        if keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
