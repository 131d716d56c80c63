"""A benchmark's quick run, as the benchmarks' smoke tests read it: its final results table."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def quick_run_rows(script: str, timeout: int = 300) -> Callable[[str], str]:
    """Run `script --quick` (it must exit 0): a reader of its results table, giving the value
    of the row of a metric (a run's column; the test fails when there is no such row)."""
    done = subprocess.run(
        [sys.executable, script, "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    output = done.stdout
    assert done.returncode == 0, output[-4000:] + done.stderr[-4000:]
    table = output[output.index("\nResults (") :]

    def row(metric: str) -> str:
        match = re.search(rf"^\| {re.escape(metric)} \| (.+) \|$", table, re.MULTILINE)
        assert match, f"no row {metric!r} in:\n{table}"
        return match.group(1)

    return row
