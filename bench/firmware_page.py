"""fwportal benchmark: the uncached firmware page, with whatever panels it shows, against one raw
signed EnOS call (issue 14 item 6: at most 2.4 x the call, p50, with the gateway at 100 ms).

    .venv/bin/python bench/firmware_page.py            # full: three runs, about 6 minutes
    .venv/bin/python bench/firmware_page.py --quick    # smoke run, under a minute

Everything runs on 127.0.0.1 in a temporary folder, started by bench/stack.py: the EnOS
simulator in its own process and gunicorn (gunicorn.conf.py, 2 workers x 8 threads) with
bench.settings, SQLite, the default (database) cache, and FIRMWARE_CACHE_SECONDS=0: every answer
expires at once, so no call a page makes is ever answered from the cache, and a page costs the
cache look-ups and writes of a first visit all the same.

First, with the gateway at 0 ms, each demo-org firmware page is opened once on its own and the
business calls it made are counted at the simulator (/_simulator/counters). Then, in each run, at
100 ms and then 20 ms, rounds time in turn (so the machine's noise hits all alike):

* the floor: a raw signed Get Firmware call on a keep-alive connection (bench/floor.py);
* the page /orgs/demo/firmware/<id>/ of three kinds of firmware, each a panel fewer: with OTA
  jobs (every panel: jobs, their task counts, devices); without jobs, of a known product (the
  devices on its version); without jobs or product (the firmware alone);

each kind the next firmware of its kind each round, by the logged-in operator on its own
keep-alive connection (http.client), so no request is for the firmware of the one before it.
(The rendered-page cache, firmware/page_cache.py, works as in production: a firmware seen before
that shows the same again is not rendered whole again.)

Reported per run, side by side: p50 / p90 of each, page p50 / floor p50, the gunicorn workers'
CPU per page, the business calls per page counted during the timed rounds against the sum of the
counts first taken (equal when nothing was cached), and the dependent rounds of calls a page
waits on: (page p50 at 100 ms - at 20 ms) / (floor p50 at 100 ms - at 20 ms), in which
fwportal's own cost cancels out.

It reports; it does not assert the target, and it exits 0 once every run is done.
"""

from __future__ import annotations

import argparse
import functools
import http.client
import itertools
import json
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.floor import RawGetFirmware  # noqa: E402
from bench.run import THREADS, WORKERS, machine, percentile  # noqa: E402
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

LATENCIES_MS = (100, 20)
TARGET_LATENCY_MS = 100
TARGET_RATIO = 2.4
LOOP_MAX_SECONDS = 240.0
SETTLE_SECONDS = 0.02  # untimed, before each call: the last call's worker has finished with it
FLOOR = "floor"
# The kinds of firmware page, each a panel fewer: OTA jobs and their task counts; the devices on
# the firmware's version (EnOS names its product); the firmware and its (no) jobs alone.
WITH_JOBS = "with jobs"
PRODUCT_ONLY = "no jobs, product known"
BARE = "no jobs, no product"
PAGE_NAMES = (WITH_JOBS, PRODUCT_ONLY, BARE)


@dataclass(frozen=True)
class Sizes:
    runs: int
    rounds: int  # per run and latency; each round times the floor and each kind of page once


FULL = Sizes(runs=3, rounds=150)
QUICK = Sizes(runs=1, rounds=10)


def demo_firmware() -> dict[str, list[str]]:
    """The demo org's firmware ids of each kind of page, from the simulator's fixtures."""
    fixtures = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
    with_jobs = {job["firmwareId"] for job in fixtures["jobs"] if job["orgId"] == DEMO_ORG_ID}
    kinds: dict[str, list[str]] = {name: [] for name in PAGE_NAMES}
    for fw in sorted(fixtures["firmware"], key=lambda fw: fw["firmwareId"]):
        if fw["orgId"] == DEMO_ORG_ID:
            if fw["firmwareId"] in with_jobs:
                kinds[WITH_JOBS].append(fw["firmwareId"])
            elif fw.get("productKey") and fw.get("version"):
                kinds[PRODUCT_ONLY].append(fw["firmwareId"])
            else:
                kinds[BARE].append(fw["firmwareId"])
    return kinds


class Pages:
    """The operator's GETs of pages on one keep-alive connection (http.client, as
    bench/run.py's page_call: `requests` would add its own CPU to every page's time)."""

    def __init__(self, stack: Stack) -> None:
        self._connection = http.client.HTTPConnection(HOST, stack.web_port, timeout=30)
        self._headers = {"Cookie": stack.cookies[0], "User-Agent": "fwportal-bench"}
        self._origin = stack.web_url

    def get(self, path: str, referer: str | None = None) -> tuple[str, bytes]:
        """The page at `path`, opened from the page at `referer` (a path) when one is named:
        its HTTP status and body."""
        headers = self._headers
        if referer is not None:
            headers = {**headers, "Referer": self._origin + referer}
        self._connection.request("GET", path, headers=headers)
        response = self._connection.getresponse()
        return str(response.status), response.read()

    def firmware(self, firmware_id: str) -> str:
        """The demo org's page of this firmware: its HTTP status."""
        return self.get(f"/orgs/demo/firmware/{firmware_id}/")[0]

    def close(self) -> None:
        self._connection.close()


def count_calls(stack: Stack, ids: Sequence[str]) -> dict[str, int]:
    """Each firmware page opened once on its own, gateway at 0 ms: the business calls it made."""
    stack.sim_configure({"latency": 0})
    pages = Pages(stack)
    calls = {}
    for firmware_id in ids:
        stack.sim_reset()
        status = pages.firmware(firmware_id)
        if status != "200":
            raise RuntimeError(f"the page of {firmware_id} answered {status}")
        calls[firmware_id] = stack.sim_counters()["business"]
    pages.close()
    return calls


@dataclass
class Timed:
    samples: list[float] = field(default_factory=list)  # seconds
    statuses: Counter[str] = field(default_factory=Counter)
    worker_cpu: float = 0.0  # seconds, all workers, from this call's start to the next call's

    def ms(self, q: float) -> float:
        return percentile(self.samples, q) * 1000

    def text(self, expected: str) -> str:
        others = {status: n for status, n in self.statuses.items() if status != expected}
        flagged = f" [non-{expected}: {dict(sorted(others.items()))}]" if others else ""
        return f"{self.ms(50):.1f} / {self.ms(90):.1f}{flagged}"


@dataclass
class Loop:
    """One latency's timed rounds."""

    timed: dict[str, Timed]
    calls: Counter[str]  # business calls counted during the rounds, by kind of call
    expected: dict[str, int]  # what the same pages made when first counted


class Meter:
    """Worker CPU and business calls from one call's start to the next's, both the call's that
    started the interval: a page's calls are all made before it answers, and the pause before the
    next call lets its worker finish what it does after answering."""

    def __init__(self, stack: Stack, timed: dict[str, Timed]) -> None:
        self._stack = stack
        self._pids = worker_pids(stack.master)
        self._timed = timed
        self._cpu, self._calls = self._read()
        self._current: str | None = None
        self.calls: Counter[str] = Counter()

    def _read(self) -> tuple[float, int]:
        return cpu_seconds(self._pids), self._stack.sim_counters()["business"]

    def start(self, name: str | None) -> None:
        """Close the interval under way; `name`'s call (None: nothing more) starts the next."""
        cpu, calls = self._read()
        if self._current is not None:
            self.calls[self._current] += calls - self._calls
            self._timed[self._current].worker_cpu += cpu - self._cpu
        self._cpu, self._calls, self._current = cpu, calls, name


Step = tuple[str, Callable[[], str]]  # what a call is reported as, and the call: its outcome


def time_in_turn(
    rounds: int,
    plan: Callable[[], Sequence[Step]],
    meter: Meter,
    timed: Mapping[str, Timed],
    max_seconds: float = LOOP_MAX_SECONDS,
) -> None:
    """`rounds` rounds (fewer if `max_seconds` run out), each timing in turn the calls `plan()`
    gives for it, a pause before each; `timed[name]` gets each call's time and outcome, and the
    meter its interval."""
    deadline = time.monotonic() + max_seconds
    for done in range(rounds):
        if time.monotonic() > deadline:
            print(f"  warning: stopped after {done} of {rounds} rounds (time bound)")
            break
        for name, call in plan():
            time.sleep(SETTLE_SECONDS)
            meter.start(name)
            started = time.perf_counter()
            outcome = call()
            timed[name].samples.append(time.perf_counter() - started)
            timed[name].statuses[outcome] += 1
    time.sleep(SETTLE_SECONDS)
    meter.start(None)


def timed_rounds(
    stack: Stack, rounds: int, walks: dict[str, Iterator[str]], calls: dict[str, int]
) -> Loop:
    """`rounds` rounds of the floor and each kind of page in turn (fewer if LOOP_MAX_SECONDS run
    out), each page the next firmware of its walk: every call's time, the workers' CPU per page
    and the business calls the pages made."""
    floor = RawGetFirmware(stack.sim_url, DEMO_ORG_ID, DEMO_APP_KEY, DEMO_APP_SECRET)
    floor_ids = itertools.cycle(calls)
    pages = {name: Pages(stack) for name in PAGE_NAMES}
    for name, connection in pages.items():  # connect, and a page of each kind before timing
        connection.firmware(next(walks[name]))
    floor.call(next(floor_ids))
    timed = {name: Timed() for name in (FLOOR, *PAGE_NAMES)}
    visited: dict[str, list[str]] = {name: [] for name in PAGE_NAMES}

    def plan() -> list[Step]:
        steps = [(FLOOR, functools.partial(floor.call, next(floor_ids)))]
        for name in PAGE_NAMES:
            firmware_id = next(walks[name])
            visited[name].append(firmware_id)
            steps.append((name, functools.partial(pages[name].firmware, firmware_id)))
        return steps

    meter = Meter(stack, timed)
    time_in_turn(rounds, plan, meter, timed)
    floor.close()
    for connection in pages.values():
        connection.close()
    expected = {name: sum(calls[i] for i in ids) for name, ids in visited.items()}
    return Loop(timed, meter.calls, expected)


# ---- report ------------------------------------------------------------------------------


@dataclass
class Table:
    """Metrics as rows, runs as columns."""

    runs: int
    rows: dict[str, list[str]] = field(default_factory=dict)

    def put(self, metric: str, run: int, value: str) -> None:
        self.rows.setdefault(metric, [""] * self.runs)[run] = value
        print(f"  {metric}: {value}")

    def text(self) -> str:
        header = ["metric", *(f"run {i + 1}" for i in range(self.runs))]
        lines = [header, ["---"] * len(header)]
        lines += [[metric, *values] for metric, values in self.rows.items()]
        return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def report_loop(table: Table, run: int, latency_ms: int, loop: Loop) -> None:
    floor = loop.timed[FLOOR]
    at = f"{latency_ms} ms"
    table.put(
        f"{at}: floor, raw signed Get Firmware p50 / p90 (ms)",
        run,
        f"{floor.text('ok')} (n={len(floor.samples)})",
    )
    for name in PAGE_NAMES:
        table.put(f"{at}: page, firmware {name}, p50 / p90 (ms)", run, loop.timed[name].text("200"))
    for name in PAGE_NAMES:
        ratio = loop.timed[name].ms(50) / floor.ms(50)
        verdict = ""
        if latency_ms == TARGET_LATENCY_MS:
            verdict = f" (target <= {TARGET_RATIO}: {'yes' if ratio <= TARGET_RATIO else 'NO'})"
        table.put(f"{at}: ratio page p50 / floor p50, {name}", run, f"{ratio:.2f}{verdict}")
    for name in PAGE_NAMES:
        page = loop.timed[name]
        pages = max(len(page.samples), 1)
        table.put(
            f"{at}: worker CPU per page (ms), {name}", run, f"{page.worker_cpu * 1000 / pages:.1f}"
        )
        table.put(
            f"{at}: business calls per page, {name}, timed (first counted)",
            run,
            f"{loop.calls[name] / pages:.2f} ({loop.expected[name] / pages:.2f})",
        )


def report_rounds(table: Table, run: int, loops: dict[int, Loop]) -> None:
    """Rounds of calls a page waits on, one after another: fwportal's own cost is the same at
    both latencies, so the pages' p50 gap over the floor's counts the rounds."""
    slow, fast = (loops[ms].timed for ms in LATENCIES_MS)
    gap = slow[FLOOR].ms(50) - fast[FLOOR].ms(50)
    for name in PAGE_NAMES:
        rounds = (slow[name].ms(50) - fast[name].ms(50)) / gap
        table.put(f"dependent rounds of calls, {name}", run, f"{rounds:.2f}")


def calls_summary(calls: dict[str, int], ids: dict[str, list[str]]) -> list[str]:
    """How many business calls the pages of each kind made when first counted."""
    lines = []
    for name in PAGE_NAMES:
        spread = Counter(calls[i] for i in ids[name])
        counts = ", ".join(f"{n} calls: {count}" for n, count in sorted(spread.items()))
        lines.append(f"pages {name} ({len(ids[name])} firmware), first counted: {counts}")
    return lines


def uncached_stack(work: Path, workers: int, threads: int) -> Stack:
    """The page benchmarks' stack in `work`: bench.settings, fwportal's default cache (the
    database), the access log thrown away, and FIRMWARE_CACHE_SECONDS=0 (every answer expires
    at once) unless gunicorn is started with another."""
    env = {
        "GUNICORN_ACCESSLOG": "/dev/null",
        # For the demo set-up too: its download check would leave the turbine's answer cached.
        "FIRMWARE_CACHE_SECONDS": "0",
    }
    stack = Stack(work, "bench.settings", env, workers=workers, threads=threads)
    stack.env.pop("CACHE_URL", None)  # fwportal's default cache (the database)
    return stack


def run(sizes: Sizes, work: Path) -> tuple[Table, list[str]]:
    stack = uncached_stack(work, WORKERS, THREADS)
    table = Table(sizes.runs)
    ids = demo_firmware()
    with serving(stack):
        stack.start_simulator("--latency-ms", "0")
        login = stack.set_up_demo()
        stack.start_gunicorn()
        stack.cookies = (stack.log_in(*login),)
        calls = count_calls(stack, [i for name in PAGE_NAMES for i in ids[name]])
        notes = calls_summary(calls, ids)
        for line in notes:
            print(f"  {line}")
        walks = {name: itertools.cycle(ids[name]) for name in PAGE_NAMES}
        for run_index in range(sizes.runs):
            loops = {}
            for latency_ms in LATENCIES_MS:
                print(f"\n== run {run_index + 1}, gateway at {latency_ms} ms")
                stack.sim_configure({"latency": latency_ms / 1000})
                loops[latency_ms] = timed_rounds(stack, sizes.rounds, walks, calls)
                report_loop(table, run_index, latency_ms, loops[latency_ms])
            report_rounds(table, run_index, loops)
    return table, notes


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="the uncached firmware page against a raw signed EnOS call (reports only)"
    )
    parser.add_argument("--quick", action="store_true", help="one short run: a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    print(f"fwportal firmware page benchmark{' (quick)' if args.quick else ''}: {machine()}")
    with work_folder("fwportal-bench-page-", args.keep) as work:
        table, notes = run(sizes, work)
    print(f"\nResults ({time.strftime('%Y-%m-%d %H:%M %Z')}, {time.monotonic() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(
        f"gunicorn {WORKERS} workers x {THREADS}; FIRMWARE_CACHE_SECONDS=0; "
        f"{sizes.rounds} rounds per run and latency"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(table.text())
    for note in notes:
        print(f"note: {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
