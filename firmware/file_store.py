"""Verified firmware files on disk, each under its digest, within a size cap.

Layout: ``<root>/<method>/<digest>`` for kept files, ``<root>/incoming/`` for downloads in
progress, ``<root>/locks/`` for the lock files that let one worker fetch a file while the others
wait. There is no index: a kept file's mtime is when it was last served (atimes are unreliable
under noatime/relatime), and eviction removes the least recently served files until the total is
within the cap. Every step is safe across gunicorn workers: a file enters the store by an atomic
rename, and a file evicted while another worker serves it stays readable through its open handle.
"""

import contextlib
import fcntl
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

INCOMING = "incoming"
LOCKS = "locks"
# An unfinished download this old was left by a worker that died: its file is removed.
ABANDONED_SECONDS = 24 * 3600


@dataclass(frozen=True)
class KeptFile:
    """A verified file, open for reading (the caller closes it)."""

    file: BinaryIO
    size: int


class FileStore:
    def __init__(self, root: str | Path, max_bytes: int):
        self.root = Path(root)
        self.max_bytes = max_bytes

    def open(self, method: str, digest: str) -> KeptFile | None:
        """The kept file of this digest, open and marked as just used; None when not kept."""
        path = self._path(method, digest)
        try:
            file = path.open("rb")
        except FileNotFoundError:
            return None
        with contextlib.suppress(OSError):  # evicted meanwhile: the open handle still reads
            os.utime(path)
        return KeptFile(file, os.fstat(file.fileno()).st_size)

    @contextlib.contextmanager
    def incoming(self) -> Iterator[tuple[Path, BinaryIO]]:
        """A new file for a download in progress (removed on the way out unless kept)."""
        folder = self.root / INCOMING
        folder.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=folder)
        path = Path(name)
        try:
            with os.fdopen(handle, "wb") as file:
                yield path, file
        finally:
            path.unlink(missing_ok=True)

    def keep(self, path: Path, method: str, digest: str) -> KeptFile:
        """Move a verified download into the store and open it; then evict the least recently
        used files beyond the cap. A file larger than the whole cap is served but not kept."""
        final = self._path(method, digest)
        final.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, final)  # atomic: other workers see the whole file or none
        kept = self.open(method, digest)
        if kept is None:  # evicted by another worker in between: rare, and never served twice
            raise FileNotFoundError(final)
        self.evict(protect=final)
        return kept

    def evict(self, protect: Path | None = None) -> None:
        """Remove the least recently used files until the kept ones fit the cap (`protect`, the
        file just kept, only when it alone exceeds the cap), and abandoned downloads."""
        files = []
        for path in self.root.glob("*/*"):
            if path.parent.name == LOCKS:
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            if path.parent.name == INCOMING:
                if time.time() - stat.st_mtime > ABANDONED_SECONDS:
                    path.unlink(missing_ok=True)
                continue
            files.append((path != protect, stat.st_mtime, stat.st_size, path))
        total = sum(size for _, _, size, _ in files)
        # The protected file sorts last; among the others the oldest use goes first.
        for _, _, size, path in sorted(files, key=lambda f: (not f[0], f[1])):
            if total <= self.max_bytes:
                break
            path.unlink(missing_ok=True)
            total -= size

    @contextlib.contextmanager
    def lock(self, method: str, digest: str) -> Iterator[None]:
        """Held by one thread of one worker at a time per digest (released if it dies)."""
        folder = self.root / LOCKS
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / f"{method}-{digest}.lock", "wb") as file:
            fcntl.flock(file, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(file, fcntl.LOCK_UN)

    def _path(self, method: str, digest: str) -> Path:
        return self.root / method / digest
