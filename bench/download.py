"""Measure a firmware file's download through gunicorn: the worker's memory before, during and
after, and throughput against reading the same file from disk. Not a timed test.

    .venv/bin/python bench/download.py [--size-mib 200] [--workers 1] [--threads 4]

The simulator serves a firmware of that size (its sign computed here, as enos_simulator.signs
does for the fixtures). Three downloads: the first from EnOS (streamed to disk, hashed, checked,
then served), the second from the store, the third a resumed one (a Range from half way).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.stack import Stack, rss_kb, worker_pids  # noqa: E402
from enos_simulator import DEFAULT_FIXTURES, DEMO_ORG_ID  # noqa: E402
from enos_simulator.files import digest_of  # noqa: E402

FIRMWARE_ID = "fw-bench-large"
MIB = 1024 * 1024
READ_SIZE = 1024 * 1024


class PeakRss:
    """The highest resident memory of some processes, sampled every 20 ms while running."""

    def __init__(self, pids: list[int]):
        self.pids = pids
        self.peak = {pid: rss_kb(pid) for pid in pids}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            for pid in self.pids:
                self.peak[pid] = max(self.peak[pid], rss_kb(pid))

    def __enter__(self) -> PeakRss:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def fixtures_with_large_firmware(work: Path, size: int) -> Path:
    data = json.loads(Path(DEFAULT_FIXTURES).read_text(encoding="utf-8"))
    data["firmware"].append(
        {
            "orgId": DEMO_ORG_ID,
            "firmwareId": FIRMWARE_ID,
            "name": {"defaultValue": "Bench firmware", "i18nValue": {}},
            "version": "1.0.0",
            "signMethod": "sha256",
            "sign": digest_of(DEMO_ORG_ID, FIRMWARE_ID, size, "sha256"),
            "fileUrl": "enos-connect://bench.bin",
            "fileSize": size,
            "createTime": 1,
        }
    )
    path = work / "fixtures.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


def fetch(stack: Stack, url: str, *, headers: dict[str, str] | None = None, digest: bool = False):
    """Seconds, bytes received and sha256 (when asked) of one download."""
    hasher = hashlib.sha256() if digest else None
    received = 0
    started = time.monotonic()
    with stack.session().get(url, headers=headers or {}, stream=True, timeout=600) as response:
        response.raise_for_status()
        for chunk in response.iter_content(READ_SIZE):
            received += len(chunk)
            if hasher is not None:
                hasher.update(chunk)
        seconds = time.monotonic() - started
        return seconds, received, hasher.hexdigest() if hasher else None


def read_from_disk(path: Path) -> float:
    """Seconds to read the whole file, as a program reading it from disk would."""
    started = time.monotonic()
    with path.open("rb") as file:
        while file.read(READ_SIZE):
            pass
    return time.monotonic() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mib", type=int, default=200)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    size = args.size_mib * MIB
    with tempfile.TemporaryDirectory(prefix="fwportal-download-bench-") as tmp:
        work = Path(tmp)
        fixtures = fixtures_with_large_firmware(work, size)
        store = work / "files"
        env = {"FIRMWARE_FILES_DIR": str(store), "FIRMWARE_FILES_MAX_MB": str(4 * args.size_mib)}
        with Stack(
            work, "bench.settings", env, workers=args.workers, threads=args.threads
        ) as stack:
            stack.start_simulator("--fixtures", str(fixtures))
            username, password = stack.set_up_demo()
            stack.start_gunicorn()
            stack.cookies = (stack.log_in(username, password),)
            stack.sim_reset()  # the demo's own download is not this one
            url = f"{stack.web_url}/orgs/demo/firmware/{FIRMWARE_ID}/file/"
            # A page first, so the worker's memory is measured warm (imports, templates loaded).
            stack.session().get(f"{stack.web_url}/orgs/demo/firmware/{FIRMWARE_ID}/", timeout=30)
            pids = worker_pids(stack.master)
            before = {pid: rss_kb(pid) for pid in pids}
            rows = []
            for label, headers, digest in (
                ("first download (from EnOS, verified, then served)", None, True),
                ("second download (from the store)", None, False),
                (
                    "resumed download (Range from half way, from the store)",
                    {"Range": f"bytes={size // 2}-"},
                    False,
                ),
            ):
                with PeakRss(pids) as peak:
                    seconds, received, sha256 = fetch(stack, url, headers=headers, digest=digest)
                rows.append((label, seconds, received, sha256, dict(peak.peak)))
            after = {pid: rss_kb(pid) for pid in pids}
            counters = stack.sim_counters()
            stored = store / "sha256" / digest_of(DEMO_ORG_ID, FIRMWARE_ID, size, "sha256")
            disk_seconds = min(read_from_disk(stored) for _ in range(3))
    sign = digest_of(DEMO_ORG_ID, FIRMWARE_ID, size, "sha256")
    print(f"file: {args.size_mib} MiB, sha256 {sign}")
    print(
        f"gunicorn: {args.workers} worker(s) x {args.threads} threads; simulator downloads: "
        f"{counters['download']}"
    )
    print(f"worker RSS before: {', '.join(f'{kb / 1024:.1f} MiB' for kb in before.values())}")
    for label, seconds, received, sha256, peak in rows:
        check = "" if sha256 is None else f", digest {'matches' if sha256 == sign else 'WRONG'}"
        print(
            f"{label}: {received / MIB:.0f} MiB in {seconds:.2f} s = "
            f"{received / MIB / seconds:.0f} MiB/s; worker peak RSS "
            f"{', '.join(f'{kb / 1024:.1f} MiB' for kb in peak.values())}{check}"
        )
    print(f"worker RSS after: {', '.join(f'{kb / 1024:.1f} MiB' for kb in after.values())}")
    print(
        f"reading the stored file from disk (best of 3, page cache warm): {disk_seconds:.2f} s = "
        f"{size / MIB / disk_seconds:.0f} MiB/s"
    )


if __name__ == "__main__":
    main()
