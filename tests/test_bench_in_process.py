"""Smoke run of bench/in_process.py with --parts (10-20 s): it completes and times each part of
the firmware view it names, in the page (a part renamed in the app fails it loudly, a part
never reached prints 0). It checks the bench's premises, never a figure."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from tests.bench_results import ROOT

pytestmark = pytest.mark.load

PART = re.compile(r"^\s+(\d+\.\d{3}) ms  (.+)$", re.MULTILINE)


def parts_of(mode: str, *args: str) -> dict[str, float]:
    done = subprocess.run(
        [sys.executable, "bench/in_process.py", mode, "--parts", "--requests", "130", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-4000:]
    assert re.search(rf"^{mode}: 130 requests over \d+ pages, CPU \d+\.\d+ ms", done.stdout, re.M)
    table = done.stdout[done.stdout.index("Parts of the firmware view") :]
    return {name.strip(): float(ms) for ms, name in PART.findall(table)}


def test_a_cached_page_takes_its_answers_from_the_cache_and_records_nothing() -> None:
    parts = parts_of("cached")
    assert len(parts) == 12, parts
    for part in ("the firmware view, all of it", "the org's access", "recently viewed"):
        assert parts[part] > 0, part
    assert parts["of which cache reads of answers"] > 0
    assert parts["of which EnOS calls through fwportal's client"] == 0
    assert parts["of which answers recorded in history"] == 0


def test_an_uncached_page_calls_enos_and_records_its_answer() -> None:
    parts = parts_of("uncached", "--kind", "no jobs, no product")
    assert parts["of which EnOS calls through fwportal's client"] > 0
    assert parts["of which answers recorded in history"] > 0
    assert parts["the firmware view, all of it"] > parts["the page (cached, or drawn)"] > 0
