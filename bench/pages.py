"""fwportal benchmark: fwportal's own cost on the pages people really open, against two floors
(issue 18): a raw signed keep-alive EnOS call (bench/floor.py, not the app's client) and a
minimal Django view behind the same middleware and login (/bench/minimal/, bench/urls.py).

    .venv/bin/python bench/pages.py            # full: three runs side by side, about 8 minutes
    .venv/bin/python bench/pages.py --quick    # smoke run: one short run, 1-1.5 minutes

Everything runs on 127.0.0.1 in a temporary folder, started by bench/stack.py: the EnOS
simulator in its own process (0 ms while setting up, 20 ms for everything timed) and gunicorn
(gunicorn.conf.py, 2 workers x 4 threads, as the issue measured) with bench.settings, SQLite,
fwportal's default cache (the database: CACHE_URL is removed from the environment) and the
access log thrown away (GUNICORN_ACCESSLOG=/dev/null). The operator is logged in CLIENTS times
through the login form once, at set-up: one user, a session per client thread of the cached
phase; the timed-in-turn phases use the first session.

Each run has three phases, and their figures are the columns of one table. A request's worker
CPU is all gunicorn workers' CPU time from its start to the next call's start (the Meter of
bench/firmware_page.py), or over a whole throughput round divided by its requests. Each page
opened is a different firmware from the one before it, so fwportal does the work of a user
moving on (its recently-viewed list is written each time), not of one page reloaded.

1. uncached (the shared cache emptied, gunicorn started with FIRMWARE_CACHE_SECONDS=0: every
   EnOS answer expires at once, so each page makes all its calls). Rounds time in turn, a short
   pause before each call (so the machine's noise hits all alike and each worker has finished
   with the call before): the raw Get Firmware call, the minimal view, and the firmware page of
   each kind (with OTA jobs; no jobs, product known; no jobs, no product: demo_firmware() of
   bench/firmware_page.py), each the next firmware of its kind, never the one before.
   Reported: p50 / p90, worker CPU per request, business calls per page, and target 1 for each
   kind.

   Target 1 is "page p50 - raw call p50 <= 1.5 x minimal view p50". A page waits on dependent
   rounds of EnOS calls, each as long as one raw call: a bare page 1 (Get Firmware and its job
   search go at once), a page with jobs or a known product 2 (the task and device counts need
   the first round's answers; bench/firmware_page.py measures these rounds). So the issue's
   formula, one raw call per page, is applied per dependent round: page p50 - rounds x raw p50,
   printed with its arithmetic.

2. browsing (the same gunicorn): a user opens a firmware list of page size 50, then 3 of its
   rows (read from the links of the list just shown, spread over it and moving on with each
   list, opened with the list as Referer, as a browser sends it), then the next list, ...;
   the lists go round LIST_QUERIES, so no list follows itself. Timed in turn with the raw
   Search Firmware call (page 1 of 50, bench/floor.py) and the minimal view. Reported: p50 /
   p90 and worker CPU of the lists of 50 rows (page 1 in EnOS's order and sorted two ways: the
   list sorts only the rows of its page), of page 2 (the demo org's remaining rows), and of the
   rows opened; how many rows each list showed (counted in its HTML table); and target 3, on
   the lists of 50 rows: list p50 - raw search p50 <= 3 x minimal view p50. Nothing is cached
   here either: the answers a list leaves for its rows expire at once too.

3. cached (gunicorn restarted with FIRMWARE_CACHE_SECONDS=3600, FIRMWARE_STALE_SECONDS=86400):
   every demo-org firmware page is opened once (filling the shared cache), then once more by a
   whole untimed round of the load below (each worker renders every page it serves once: the
   rendered-page cache is each process's own). Then throughput: bench/loadgen.py in its own
   process, CLIENTS threads, each with its own keep-alive connection and session, going round
   ALL demo-org firmware pages from its own place in them (so each request is a different
   firmware from the thread's one before), a bounded number of requests and seconds; the
   minimal view the same way. Each is measured `throughput_rounds` times, alternating (cached,
   minimal, cached, ...), and the medians are reported with the workers' CPU per request
   (bench/stack.cpu_seconds over the round). Target 2: cached req/s >= 0.6 x minimal req/s.
   The simulator's business-call counter is read before and after the timed rounds: any call
   means a page was not cached (reported).

It reports; it never asserts a target, and exits 0 once every phase of every run has run.
"""

from __future__ import annotations

import argparse
import functools
import html
import itertools
import re
import statistics
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.firmware_page import (  # noqa: E402
    BARE,
    PAGE_NAMES,
    PRODUCT_ONLY,
    WITH_JOBS,
    Meter,
    Pages,
    Step,
    Table,
    Timed,
    demo_firmware,
    time_in_turn,
    uncached_stack,
)
from bench.floor import RawGetFirmware, RawSearchFirmware  # noqa: E402
from bench.loadgen import LoadResult  # noqa: E402
from bench.run import (  # noqa: E402
    MINIMAL_PATH,
    ServerCpu,
    load_in_subprocess,
    machine,
    with_server_cpu,
)
from bench.stack import Stack, serving, work_folder  # noqa: E402
from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID  # noqa: E402

WORKERS, THREADS = 2, 4
LATENCY_MS = 20
CLIENTS = 8  # client threads of the cached phase, each its own connection and session
PHASE_MAX_SECONDS = 180.0  # each timed-in-turn loop
LOAD_MAX_SECONDS = 60.0  # each throughput round
CACHE_SECONDS, STALE_SECONDS = "3600", "86400"

RAW_GET = "raw Get Firmware"
RAW_SEARCH = "raw Search Firmware, page size 50"
MINIMAL = "minimal view"
# A page waits on this many rounds of EnOS calls, one after another (module docstring).
DEPENDENT_ROUNDS = {WITH_JOBS: 2, PRODUCT_ONLY: 2, BARE: 1}
UNCACHED_FACTOR = 1.5  # target 1
CACHED_RATIO = 0.6  # target 2
LIST_FACTOR = 3.0  # target 3

LIST_PATH = "/orgs/demo/firmware/"
LIST_SIZE = 50
FULL_LIST = "list, 50 rows"
LAST_LIST = "list, page 2"
# The lists a browsing user opens, in turn; what each is reported as.
LIST_QUERIES = {
    "?page_size=50": FULL_LIST,
    "?page_size=50&page=2": LAST_LIST,
    "?page_size=50&sort=name": FULL_LIST,
    "?page_size=50&sort=-version": FULL_LIST,
}
ROWS_OPENED = 3  # per list
ROW = "row opened from a list"
FIRMWARE_LINK = re.compile(r'href="/orgs/demo/firmware/([^"/?#]+)/"')
TABLE_BODY = re.compile(r'id="firmware-table".*?<tbody>(.*?)</tbody>', re.DOTALL)
CACHED = "cached firmware pages"


@dataclass(frozen=True)
class Sizes:
    runs: int
    uncached_rounds: int  # each: the raw call, the minimal view, a page of each kind
    browsing_rounds: int  # each: the raw search, the minimal view, a list and its rows opened
    passes: int  # cached phase: each client thread goes round all pages this many times
    throughput_rounds: int  # cached phase: rounds of each, alternating


FULL = Sizes(runs=3, uncached_rounds=100, browsing_rounds=60, passes=2, throughput_rounds=3)
QUICK = Sizes(runs=1, uncached_rounds=12, browsing_rounds=8, passes=1, throughput_rounds=1)


def firmware_path(firmware_id: str) -> str:
    return f"/orgs/demo/firmware/{firmware_id}/"


def verdict(met: bool) -> str:
    return "yes" if met else "NO"


def put_timed(table: Table, run: int, label: str, timed: Timed, expected: str) -> None:
    """p50 / p90 (and n) of a call, and the workers' CPU per call when it went through them."""
    table.put(f"{label}, p50 / p90 (ms)", run, f"{timed.text(expected)} (n={len(timed.samples)})")
    if expected == "200":
        cpu = timed.worker_cpu * 1000 / max(len(timed.samples), 1)
        table.put(f"{label}, worker CPU per request (ms)", run, f"{cpu:.1f}")


class Closes(Protocol):
    def close(self) -> None: ...


def in_turn(
    stack: Stack, rounds: int, plan: Callable[[], Sequence[Step]], connections: Sequence[Closes]
) -> tuple[dict[str, Timed], Counter[str]]:
    """`rounds` rounds of `plan`'s calls timed in turn (time_in_turn), then `connections`
    closed: each call's Timed by name, and the business calls made while each ran."""
    timed: dict[str, Timed] = defaultdict(Timed)
    meter = Meter(stack, timed)
    try:
        time_in_turn(rounds, plan, meter, timed, PHASE_MAX_SECONDS)
    finally:
        for connection in connections:
            connection.close()
    return timed, meter.calls


# ---- phase 1: uncached firmware pages ----------------------------------------------------


def phase_uncached(stack: Stack, sizes: Sizes, table: Table, run: int) -> None:
    print(f"\n== run {run + 1}: uncached firmware pages, gateway at {LATENCY_MS} ms")
    kinds = demo_firmware()
    walks = {name: itertools.cycle(ids) for name, ids in kinds.items()}
    floor_ids = itertools.cycle([i for ids in kinds.values() for i in ids])
    floor = RawGetFirmware(stack.sim_url, DEMO_ORG_ID, DEMO_APP_KEY, DEMO_APP_SECRET)
    minimal = Pages(stack)
    pages = {name: Pages(stack) for name in PAGE_NAMES}
    floor.call(next(floor_ids))  # connect each, untimed
    minimal.get(MINIMAL_PATH)
    for name, connection in pages.items():
        connection.firmware(next(walks[name]))

    def plan() -> list[Step]:
        steps = [
            (RAW_GET, functools.partial(floor.call, next(floor_ids))),
            (MINIMAL, lambda: minimal.get(MINIMAL_PATH)[0]),
        ]
        steps += [
            (name, functools.partial(pages[name].firmware, next(walks[name])))
            for name in PAGE_NAMES
        ]
        return steps

    timed, calls = in_turn(stack, sizes.uncached_rounds, plan, [floor, minimal, *pages.values()])

    raw, least = timed[RAW_GET], timed[MINIMAL]
    put_timed(table, run, f"uncached: {RAW_GET}", raw, "ok")
    put_timed(table, run, f"uncached: {MINIMAL}", least, "200")
    for name in PAGE_NAMES:
        put_timed(table, run, f"uncached: firmware page, {name}", timed[name], "200")
        per_page = calls[name] / max(len(timed[name].samples), 1)
        table.put(f"uncached: business calls per page, {name}", run, f"{per_page:.2f}")
    for name in PAGE_NAMES:
        rounds = DEPENDENT_ROUNDS[name]
        own = timed[name].ms(50) - rounds * raw.ms(50)
        bound = UNCACHED_FACTOR * least.ms(50)
        table.put(
            f"target 1, {name}: page p50 - {rounds} x raw p50 <= {UNCACHED_FACTOR} x minimal p50",
            run,
            f"{timed[name].ms(50):.1f} - {rounds} x {raw.ms(50):.1f} = {own:.1f} ms vs "
            f"{UNCACHED_FACTOR} x {least.ms(50):.1f} = {bound:.1f} ms: {verdict(own <= bound)}",
        )


# ---- phase 2: browsing a list and opening rows -------------------------------------------


def list_rows(body: bytes) -> tuple[int, list[str]]:
    """The rows of a firmware list's table, and the firmware ids it links to (in order)."""
    text = body.decode("utf-8", errors="replace")
    table_body = TABLE_BODY.search(text)
    rows = table_body.group(1).count("<tr") if table_body else 0
    ids = [unquote(html.unescape(found)) for found in FIRMWARE_LINK.findall(text)]
    return rows, list(dict.fromkeys(ids))


class Browser:
    """The operator going from list to list, opening rows of each on one connection."""

    def __init__(self, stack: Stack) -> None:
        self._pages = Pages(stack)
        self._lists: Iterator[str] = itertools.cycle(LIST_QUERIES)
        self.rows_shown: dict[str, Counter[int]] = {query: Counter() for query in LIST_QUERIES}
        self.last_list = LIST_PATH
        self.opened = 0  # lists opened so far: where in each list the rows opened start
        self.rows: list[str] = []  # the firmware ids of the last list shown

    def next_list(self) -> Step:
        query = next(self._lists)

        def open_list() -> str:
            status, body = self._pages.get(LIST_PATH + query)
            rows, self.rows = list_rows(body)
            self.rows_shown[query][rows] += 1
            self.last_list = LIST_PATH + query
            self.opened += 1
            return status

        return LIST_QUERIES[query], open_list

    def open_row(self, nth: int) -> str:
        """The nth of ROWS_OPENED rows of the last list shown (spread over it): its status."""
        if not self.rows:
            return "no rows"
        where = (self.opened + nth * len(self.rows) // ROWS_OPENED) % len(self.rows)
        return self._pages.get(firmware_path(self.rows[where]), referer=self.last_list)[0]

    def close(self) -> None:
        self._pages.close()


def phase_browsing(stack: Stack, sizes: Sizes, table: Table, run: int) -> None:
    print(f"\n== run {run + 1}: browsing lists and opening rows, gateway at {LATENCY_MS} ms")
    floor = RawSearchFirmware(
        stack.sim_url, DEMO_ORG_ID, DEMO_APP_KEY, DEMO_APP_SECRET, page_size=LIST_SIZE
    )
    minimal = Pages(stack)
    browser = Browser(stack)
    floor.call()  # connect each, untimed
    minimal.get(MINIMAL_PATH)
    browser.next_list()[1]()

    def plan() -> list[Step]:
        steps = [(RAW_SEARCH, floor.call), (MINIMAL, lambda: minimal.get(MINIMAL_PATH)[0])]
        steps.append(browser.next_list())
        steps += [(ROW, functools.partial(browser.open_row, nth)) for nth in range(ROWS_OPENED)]
        return steps

    timed, _ = in_turn(stack, sizes.browsing_rounds, plan, [floor, minimal, browser])

    raw, least, lists = timed[RAW_SEARCH], timed[MINIMAL], timed[FULL_LIST]
    put_timed(table, run, f"browsing: {RAW_SEARCH}", raw, "ok")
    put_timed(table, run, f"browsing: {MINIMAL}", least, "200")
    for name in (FULL_LIST, LAST_LIST, ROW):
        put_timed(table, run, f"browsing: {name}", timed[name], "200")
    shown = "; ".join(
        f"{query}: {', '.join(str(rows) for rows in sorted(counts)) or 'never opened'}"
        for query, counts in browser.rows_shown.items()
    )
    table.put("browsing: rows each list showed", run, shown)
    own = lists.ms(50) - raw.ms(50)
    bound = LIST_FACTOR * least.ms(50)
    table.put(
        f"target 3: list p50 - raw search p50 <= {LIST_FACTOR:g} x minimal p50",
        run,
        f"{lists.ms(50):.1f} - {raw.ms(50):.1f} = {own:.1f} ms vs "
        f"{LIST_FACTOR:g} x {least.ms(50):.1f} = {bound:.1f} ms: {verdict(own <= bound)}",
    )


# ---- phase 3: cached firmware pages, throughput ------------------------------------------


def statuses_text(statuses: Counter[str]) -> str:
    others = {status: n for status, n in statuses.items() if status != "200"}
    return f"all {sum(statuses.values())} 200" if not others else f"NOT all 200: {dict(statuses)}"


def phase_cached(stack: Stack, sizes: Sizes, table: Table, run: int) -> None:
    print(f"\n== run {run + 1}: cached firmware pages, {CLIENTS} client threads")
    stack.start_gunicorn(FIRMWARE_CACHE_SECONDS=CACHE_SECONDS, FIRMWARE_STALE_SECONDS=STALE_SECONDS)
    ids = [i for ids in demo_firmware().values() for i in ids]
    paths = [firmware_path(i) for i in sorted(ids)]
    per_thread = sizes.passes * len(paths)

    opener = Pages(stack)
    warmed = Counter(opener.get(path)[0] for path in paths)
    opener.close()
    warm = load_in_subprocess(
        stack, paths, len(paths), threads=CLIENTS, max_seconds=LOAD_MAX_SECONDS
    )
    warmed.update(warm.statuses)
    table.put("cached: warm-up, every page once, then once per client", run, statuses_text(warmed))

    calls_before = stack.sim_counters()["business"]
    results: dict[str, list[tuple[LoadResult, ServerCpu]]] = {CACHED: [], MINIMAL: []}
    for _ in range(sizes.throughput_rounds):
        for name, round_paths in ((CACHED, paths), (MINIMAL, [MINIMAL_PATH])):
            measured = with_server_cpu(
                stack,
                functools.partial(
                    load_in_subprocess,
                    stack,
                    round_paths,
                    per_thread,
                    threads=CLIENTS,
                    max_seconds=LOAD_MAX_SECONDS,
                ),
            )
            results[name].append(measured)
    calls = stack.sim_counters()["business"] - calls_before

    rates = {}
    for name, rounds in results.items():
        rates[name] = statistics.median(result.per_second for result, _ in rounds)
        statuses: Counter[str] = Counter()
        for result, _ in rounds:
            statuses.update(result.statuses)
        each = "/".join(f"{result.per_second:.0f}" for result, _ in rounds)
        table.put(
            f"cached: {name}, req/s (median of {len(rounds)})",
            run,
            f"{rates[name]:.0f} (rounds {each}; {statuses_text(statuses)})",
        )
        cpu = statistics.median(server.per_request_ms for _, server in rounds)
        table.put(f"cached: {name}, worker CPU per request (ms)", run, f"{cpu:.1f}")
    table.put("cached: business calls during the timed rounds", run, str(calls))
    ratio = rates[CACHED] / rates[MINIMAL]
    table.put(
        f"target 2: cached pages req/s >= {CACHED_RATIO} x minimal req/s",
        run,
        f"{rates[CACHED]:.0f} / {rates[MINIMAL]:.0f} = {ratio:.2f}: "
        f"{verdict(ratio >= CACHED_RATIO)}",
    )


# ---- the runs ----------------------------------------------------------------------------


def run(sizes: Sizes, work: Path) -> Table:
    stack = uncached_stack(work, WORKERS, THREADS)
    table = Table(sizes.runs)
    with serving(stack):
        stack.start_simulator("--latency-ms", "0")
        login = stack.set_up_demo()
        for index in range(sizes.runs):
            # A cached phase before left every answer in the shared cache for an hour.
            stack.clear_cache()
            stack.start_gunicorn(FIRMWARE_CACHE_SECONDS="0")
            if index == 0:  # sessions live in the database: they outlast gunicorn's restarts
                stack.cookies = tuple(stack.log_in(*login) for _ in range(CLIENTS))
                stack.sim_configure({"latency": LATENCY_MS / 1000})  # set up: now timed parts
            phase_uncached(stack, sizes, table, index)
            phase_browsing(stack, sizes, table, index)
            phase_cached(stack, sizes, table, index)
    return table


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description="fwportal's own cost on realistic page mixes, against a raw signed EnOS "
        "call and a minimal Django view (reports only)"
    )
    parser.add_argument("--quick", action="store_true", help="one short run: a smoke run")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (logs)")
    args = parser.parse_args(argv)
    sizes = QUICK if args.quick else FULL
    started = time.monotonic()
    print(f"fwportal pages benchmark{' (quick)' if args.quick else ''}: {machine()}")
    with work_folder("fwportal-bench-pages-", args.keep) as work:
        table = run(sizes, work)
    print(f"\nResults ({time.strftime('%Y-%m-%d %H:%M %Z')}, {time.monotonic() - started:.0f} s)")
    print(f"machine: {machine()}")
    print(
        f"gunicorn {WORKERS} workers x {THREADS} threads; gateway {LATENCY_MS} ms; "
        f"per run {sizes.uncached_rounds} uncached rounds, {sizes.browsing_rounds} browsing "
        f"rounds, {sizes.throughput_rounds} x 2 throughput rounds of {CLIENTS} threads x "
        f"{sizes.passes} pass(es) over the demo org's firmware"
    )
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    print(table.text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
