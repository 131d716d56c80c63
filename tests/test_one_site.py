"""The defaults behave as one site: real gunicorn with 2 workers, fwportal's settings as a new
user runs them (no CACHE_URL: the shared cache lives in the database), the EnOS simulator.

Each request goes out on a new connection, so both workers answer in turn. Every loop is
bounded; every child is stopped at the end.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests

from bench.stack import Stack, cookies_of, worker_pids

pytestmark = pytest.mark.load

WORKERS, THREADS = 2, 4
CACHE_SECONDS = 3  # longer than a burst of 20 takes on a busy 2-core machine
TURBINE = "/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/"
NEVER_FETCHED = "/orgs/demo/firmware/3da5ab42e8157fdd21e7c6df/"
COLD = ["/orgs/demo/firmware/fw-unverified/", "/orgs/demo/firmware/fw-xss-tags/"]
STALE_BANNER = 'id="stale-banner"'


@pytest.fixture(scope="module")
def operator_login() -> dict[str, str]:
    """The demo's operator login, filled in when the stack starts."""
    return {}


@pytest.fixture(scope="module")
def stack(
    tmp_path_factory: pytest.TempPathFactory, operator_login: dict[str, str]
) -> Iterator[Stack]:
    work = tmp_path_factory.mktemp("one-site")
    env = {
        "FIRMWARE_CACHE_SECONDS": str(CACHE_SECONDS),
        "ENOS_FAILURE_SECONDS": "1",
    }
    with Stack(work, "fwportal.settings", env, workers=WORKERS, threads=THREADS) as stack:
        stack.env.pop("CACHE_URL", None)  # the defaults, whatever the test run was given
        stack.start_simulator()
        login = stack.set_up_demo()
        stack.start_gunicorn()
        operator_login.update(zip(("username", "password"), login, strict=True))
        stack.cookies = (stack.log_in(**operator_login),)
        yield stack


def get(stack: Stack, path: str, cookie: str | None = None) -> requests.Response:
    """One GET on a new connection, with `cookie` (default: the stack's login)."""
    cookies = cookies_of(cookie or stack.cookies[0])
    return requests.get(stack.web_url + path, cookies=cookies, allow_redirects=False, timeout=30)


def answers_on_every_worker(stack: Stack, path: str, cookie: str | None = None) -> list:
    """The same GET, 12 times on new connections: gunicorn spreads them over its workers."""
    return [get(stack, path, cookie) for _ in range(12)]


def test_the_site_runs_with_the_database_cache(stack: Stack) -> None:
    assert "CACHE_URL" not in stack.env
    assert len(worker_pids(stack.master)) == WORKERS
    assert get(stack, TURBINE).status_code == 200


def test_logout_ends_the_session_on_every_worker_at_once(
    stack: Stack, operator_login: dict[str, str]
) -> None:
    cookie = stack.log_in(**operator_login)
    assert {r.status_code for r in answers_on_every_worker(stack, TURBINE, cookie)} == {200}
    session = requests.Session()
    for name, value in cookies_of(cookie).items():
        session.cookies.set(name, value, domain="127.0.0.1", path="/")
    form = session.get(stack.web_url + "/", timeout=10).text
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form)
    assert token, "no CSRF token on the home page"
    logout = session.post(
        stack.web_url + "/accounts/logout/",
        data={"csrfmiddlewaretoken": token.group(1)},
        headers={"Referer": stack.web_url + "/"},
        allow_redirects=False,
        timeout=10,
    )
    assert logout.status_code == 302
    replayed = answers_on_every_worker(stack, TURBINE, cookie)
    assert {r.status_code for r in replayed} == {302}
    assert all(r.headers["Location"].startswith("/accounts/login/") for r in replayed)


def test_one_upstream_call_for_a_burst_and_one_token_for_every_worker(stack: Stack) -> None:
    stack.sim_reset()
    barrier = threading.Barrier(20)

    def one(path: str) -> int:
        barrier.wait(timeout=10)
        return get(stack, path).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = list(pool.map(one, [COLD[0]] * 20))
    assert set(statuses) == {200}
    counters = stack.sim_counters()
    assert counters["get"] == 1, counters
    assert counters["token_get"] + counters["token_refresh"] == 0, "a worker fetched its own token"


def test_every_worker_and_a_restart_serve_the_last_good_copy_during_an_outage(
    stack: Stack,
) -> None:
    assert get(stack, COLD[1]).status_code == 200  # fetched once, by one worker
    time.sleep(CACHE_SECONDS + 0.2)  # the fresh copy is gone: pages ask EnOS again
    stack.stop_simulator()
    try:
        for path in (TURBINE, COLD[1]):
            answers = answers_on_every_worker(stack, path)
            assert [(r.status_code, STALE_BANNER in r.text) for r in answers] == [(200, True)] * 12
        assert get(stack, NEVER_FETCHED).status_code == 503
        stack.start_gunicorn()  # a deploy during the outage
        assert {STALE_BANNER in r.text for r in answers_on_every_worker(stack, COLD[1])} == {True}
        assert get(stack, NEVER_FETCHED).status_code == 503
    finally:
        stack.start_simulator()
    time.sleep(CACHE_SECONDS + 0.2)  # the stale copy served meanwhile is due for a new try
    fresh = get(stack, COLD[1])
    assert fresh.status_code == 200 and STALE_BANNER not in fresh.text


def test_a_revoked_grant_ends_access_on_every_worker_at_once(stack: Stack) -> None:
    assert {r.status_code for r in answers_on_every_worker(stack, TURBINE)} == {200}
    stack.manage("orgs", "revoke", "demo", "--user", "operator")
    try:
        assert {r.status_code for r in answers_on_every_worker(stack, TURBINE)} == {404}
    finally:
        stack.manage("orgs", "grant", "demo", "--user", "operator")
    assert {r.status_code for r in answers_on_every_worker(stack, TURBINE)} == {200}
