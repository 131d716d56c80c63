"""Smoke run of bench/firmware_page.py --quick (about half a minute): it completes and prints
the figures issue 14 item 6 is judged by. It checks the bench's own premises (the floor's signed
calls are answered, no page is answered from the cache), never the target."""

from __future__ import annotations

import re

import pytest

from tests.bench_results import quick_run_rows

pytestmark = pytest.mark.load

KINDS = ("with jobs", "no jobs, product known", "no jobs, no product")
NUMBER = r"\d+\.\d+"


def test_quick_run_completes_and_prints_each_ratio() -> None:
    row = quick_run_rows("bench/firmware_page.py")

    for latency in (100, 20):
        floor = row(f"{latency} ms: floor, raw signed Get Firmware p50 / p90 (ms)")
        assert re.fullmatch(rf"{NUMBER} / {NUMBER} \(n=10\)", floor), floor  # every call "ok"
        for kind in KINDS:
            page = row(f"{latency} ms: page, firmware {kind}, p50 / p90 (ms)")
            assert re.fullmatch(rf"{NUMBER} / {NUMBER}", page), page  # every page a 200
            assert re.match(NUMBER, row(f"{latency} ms: ratio page p50 / floor p50, {kind}"))
            calls = row(f"{latency} ms: business calls per page, {kind}, timed (first counted)")
            timed, first = re.fullmatch(rf"({NUMBER}) \(({NUMBER})\)", calls).groups()
            assert float(timed) >= 1 and timed == first, f"{kind}: a call was cached: {calls}"
    for kind in KINDS:
        assert re.fullmatch(r"-?\d+\.\d\d", row(f"dependent rounds of calls, {kind}"))
