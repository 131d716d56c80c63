"""fwportal's own CPU per page, measured inside one process: no gunicorn, no HTTP client, so what
a change to the app costs or saves shows without the noise of the server around it.

    .venv/bin/python bench/in_process.py cached            # a cached page of each demo firmware
    .venv/bin/python bench/in_process.py uncached --kind "no jobs, no product"
    .venv/bin/python bench/in_process.py list --profile    # with cProfile's top functions
    .venv/bin/python bench/in_process.py cached --parts    # the firmware view's parts, timed

The EnOS simulator runs in its own process (bench/stack.py) at --latency-ms (0: the CPU of the
calls without their waiting); the demo org is made by `manage.py demo` in a new SQLite database
with fwportal's default (database) cache, as in production. Requests go straight to Django's WSGI
handler with the operator's session cookie, in turn over the pages of the mode:

* minimal: /bench/minimal/ (the same middleware and login as every page, and nothing else);
* uncached: each demo firmware's page in turn (or those of --kind), FIRMWARE_CACHE_SECONDS=0;
* cached: the same, every answer kept for an hour and each page opened once before timing;
* list: the firmware list of 50 rows and its second page, FIRMWARE_CACHE_SECONDS=0.

Printed: CPU per request (the process's, threads included; the simulator's is its own), the SQL
statements the request thread ran per request, most frequent first, with --profile the
request thread's top functions, and with --parts the wall time per firmware page of each part
of the firmware view (VIEW_PARTS), measured in the page, where its code and data compete with
the rest of the request (alone in a loop each part is cheaper). It reports; it asserts nothing.
"""

from __future__ import annotations

import argparse
import cProfile
import functools
import importlib
import io
import itertools
import os
import pstats
import sys
import time
from collections import Counter
from http.cookies import SimpleCookie
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))  # run as a script: make the checkout's packages importable

from bench.firmware_page import PAGE_NAMES, demo_firmware  # noqa: E402
from bench.stack import HOST, Stack, work_folder  # noqa: E402

MODES = ("minimal", "uncached", "cached", "list")
WARM_UP_PASSES = 1
# The firmware view (firmware/views.py, the URL named VIEW_NAME) and what it calls, as the view
# names them: part -> (module, name in it). A part nested in another is counted in both; a part
# is timed in whichever thread runs it (the page's threads fetch some of its answers).
VIEW, VIEW_NAME = "the firmware view, all of it", "firmware_detail"
VIEW_PARTS = {
    "the org's access": ("firmware.views", "get_visible_org"),
    "the firmware and where it stands": ("firmware.views", "fetch_firmware_page"),
    "  of which cache reads of answers": ("firmware.services", "already_fetched"),
    "  of which EnOS calls through fwportal's client": ("firmware.enos.client", "EnosClient._call"),
    "  of which answers recorded in history": ("firmware.history", "record"),
    "  of which answers kept in the cache": ("firmware.services", "_remember"),
    "the firmware's history": ("firmware.services", "firmware_history"),
    "recently viewed": ("firmware.recent", "remember_view"),
    "the breadcrumb": ("firmware.trail", "list_url_for"),
    "the page (cached, or drawn)": ("firmware.views", "render_page"),
    "  of which the CSRF token": ("firmware.page_cache", "get_token"),
}


def paths_of(mode: str, kind: str | None) -> list[str]:
    if mode == "minimal":
        return ["/bench/minimal/"]
    if mode == "list":
        return ["/orgs/demo/firmware/?page_size=50", "/orgs/demo/firmware/?page_size=50&page=2"]
    kinds = demo_firmware()
    ids = kinds[kind] if kind else [i for name in PAGE_NAMES for i in kinds[name]]
    return [f"/orgs/demo/firmware/{firmware_id}/" for firmware_id in ids]


class Requests:
    """GETs straight to Django's WSGI handler, as the logged-in operator's browser: the cookies
    the answers set (the CSRF token's) are sent back."""

    def __init__(self, session_key: str) -> None:
        from django.core.handlers.wsgi import WSGIHandler

        self._app = WSGIHandler()
        self._cookies = {"sessionid": session_key}

    def get(self, url: str) -> tuple[str, bytes]:
        path, _, query = url.partition("?")
        environ = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": query,
            "SERVER_NAME": HOST,
            "SERVER_PORT": "80",
            "HTTP_HOST": HOST,
            "HTTP_COOKIE": "; ".join(f"{name}={value}" for name, value in self._cookies.items()),
            "HTTP_USER_AGENT": "fwportal-bench",
            "REMOTE_ADDR": HOST,
            "wsgi.url_scheme": "http",
            "wsgi.input": io.BytesIO(),
            "wsgi.errors": sys.stderr,
        }
        statuses: list[str] = []

        def start_response(status: str, headers: list[tuple[str, str]]) -> None:
            statuses.append(status)
            for name, value in headers:
                if name.lower() == "set-cookie":
                    self._cookies.update((k, m.value) for k, m in SimpleCookie(value).items())

        body = b"".join(self._app(environ, start_response))
        return statuses[0], body


def measure(args: argparse.Namespace, stack: Stack) -> None:
    stack.start_simulator("--latency-ms", str(args.latency_ms))
    username, _ = stack.set_up_demo()
    os.environ.update(stack.env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    client = Client()
    client.force_login(get_user_model().objects.get(username=username))
    requests = Requests(client.cookies["sessionid"].value)
    paths = paths_of(args.mode, args.kind)
    for path in paths * WARM_UP_PASSES:
        status, body = requests.get(path)
        if not status.startswith("200"):
            raise RuntimeError(f"{path} answered {status}: {body[:300]!r}")
    spent = time_parts() if args.parts else Counter()
    statements: Counter[str] = Counter()

    def count(execute, sql, params, many, context):
        statements[sql.split(" WHERE")[0][:100]] += 1
        return execute(sql, params, many, context)

    profile = cProfile.Profile()
    order = itertools.cycle(paths)
    with connection.execute_wrapper(count):
        if args.profile:
            profile.enable()
        started = time.process_time()
        for _ in range(args.requests):
            requests.get(next(order))
        cpu = time.process_time() - started
        profile.disable()
    n = args.requests
    print(
        f"{args.mode}: {n} requests over {len(paths)} pages, CPU {cpu * 1000 / n:.2f} ms a request"
    )
    print(f"SQL statements in the request thread: {sum(statements.values()) / n:.1f} a request")
    for sql, times in statements.most_common(12):
        print(f"  {times / n:5.2f}  {sql}")
    if args.profile:
        pstats.Stats(profile, stream=sys.stdout).sort_stats("cumulative").print_stats(40)
    if spent[VIEW]:
        print(f"Parts of the firmware view, wall time per page ({n} pages):")
        for part in (VIEW, *VIEW_PARTS):
            print(f"  {spent[part] * 1000 / n:6.3f} ms  {part}")


def time_parts() -> Counter[str]:
    """Each of VIEW_PARTS wrapped where the view's code looks it up, adding its wall time (in
    any thread) to the counter returned."""
    spent: Counter[str] = Counter()

    def timed(part: str, function):
        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                spent[part] += time.perf_counter() - started

        return wrapper

    for part, (module_name, name) in VIEW_PARTS.items():
        *owners, attribute = name.split(".")
        owner = importlib.import_module(module_name)
        for owner_name in owners:
            owner = getattr(owner, owner_name)
        setattr(owner, attribute, timed(part, getattr(owner, attribute)))
    from django.urls import URLPattern, URLResolver, get_resolver

    patterns = list(get_resolver().url_patterns)
    while patterns:  # the URL holds the view itself: it is timed there
        pattern = patterns.pop()
        if isinstance(pattern, URLResolver):
            patterns.extend(pattern.url_patterns)
        elif isinstance(pattern, URLPattern) and pattern.name == VIEW_NAME:
            pattern.callback = timed(VIEW, pattern.callback)
    return spent


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="fwportal's CPU per page, in one process")
    parser.add_argument("mode", choices=MODES)
    parser.add_argument("--kind", choices=PAGE_NAMES, help="only the firmware pages of this kind")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--latency-ms", type=int, default=0, help="the simulator's, per call")
    parser.add_argument("--profile", action="store_true", help="print cProfile's top functions")
    parser.add_argument(
        "--parts", action="store_true", help="time the firmware view's parts (a firmware mode)"
    )
    args = parser.parse_args(argv)
    cache_seconds = "3600" if args.mode == "cached" else "0"
    with work_folder("fwportal-bench-in-process-", keep=False) as work:
        env = {"FIRMWARE_CACHE_SECONDS": cache_seconds}
        with Stack(work, "bench.settings", env) as stack:
            stack.env.pop("CACHE_URL", None)  # fwportal's default cache (the database)
            measure(args, stack)
    return 0


if __name__ == "__main__":
    sys.exit(main())
