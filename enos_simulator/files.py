"""The bytes of the simulator's firmware files, made up on the fly from the firmware's ids.

Each firmware's file is ``fileSize`` bytes (DEFAULT_FILE_SIZE when it has none) generated from
its orgId and firmwareId, so nothing is stored and every run serves the same bytes. The fixtures'
``sign`` values are digests of these bytes, computed once by ``python -m enos_simulator.signs``
(hashing three GiB at every simulator start would slow every test).

How a file is sent can be changed per firmware (the fixtures' ``files`` list, or
``Simulator.set_file``): ``content`` (exact bytes instead of generated ones), ``corrupt`` (the
first byte flipped: what EnOS sends no longer matches its sign), ``stallAfterBytes`` (sends that
many bytes, then nothing until the client gives up) and ``bytesPerSecond`` (slow but moving).
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from enos_simulator.values import is_int

BLOCK = 64 * 1024
DEFAULT_FILE_SIZE = 1024 * 1024  # for firmware that give no fileSize
STALL_SECONDS = 120.0  # the longest a stalled download holds its connection open


@dataclass(frozen=True)
class FileSpec:
    """How one firmware's file is made and sent (see the module's docstring)."""

    content: bytes | None = None
    corrupt: bool = False
    stall_after_bytes: int | None = None
    bytes_per_second: float | None = None

    @classmethod
    def from_fixture(cls, entry: Mapping[str, Any]) -> FileSpec:
        stall = entry.get("stallAfterBytes")
        rate = entry.get("bytesPerSecond")
        if stall is not None and not (is_int(stall) and stall >= 0):
            raise ValueError("stallAfterBytes must be a whole number of bytes")
        if rate is not None and not (isinstance(rate, int | float) and rate > 0):
            raise ValueError("bytesPerSecond must be a positive number")
        return cls(
            corrupt=bool(entry.get("corrupt", False)),
            stall_after_bytes=stall,
            bytes_per_second=rate,
        )


def file_size(record: Mapping[str, Any]) -> int:
    """The size of a firmware's generated file: its fileSize (a number or digits), else the
    default."""
    size = record.get("fileSize")
    if is_int(size) and size >= 0:
        return size
    if isinstance(size, str) and size.isascii() and size.isdigit():
        return int(size)
    return DEFAULT_FILE_SIZE


def generated_chunks(org_id: str, firmware_id: str, size: int) -> Iterator[bytes]:
    """The firmware's generated file in blocks: one random block of its own, each copy starting
    with its block number, so no two blocks of a file are alike."""
    base = random.Random(f"{org_id}/{firmware_id}").randbytes(BLOCK)  # noqa: S311 - test data
    for number, start in enumerate(range(0, size, BLOCK)):
        block = number.to_bytes(8, "big") + base[8:]
        yield block[: size - start]


def file_chunks(org_id: str, firmware_id: str, size: int, spec: FileSpec) -> Iterator[bytes]:
    """The bytes the simulator sends for a firmware, as its spec says (not how fast)."""
    chunks = (
        (spec.content[i : i + BLOCK] for i in range(0, len(spec.content), BLOCK))
        if spec.content is not None
        else generated_chunks(org_id, firmware_id, size)
    )
    first = True
    for chunk in chunks:
        if first and spec.corrupt and chunk:
            chunk = bytes((chunk[0] ^ 0xFF,)) + chunk[1:]
        first = False
        yield chunk


def digest_of(org_id: str, firmware_id: str, size: int, method: str) -> str:
    """The hex digest of a firmware's generated file."""
    hasher = hashlib.new(method)
    for chunk in generated_chunks(org_id, firmware_id, size):
        hasher.update(chunk)
    return hasher.hexdigest()


def write_signs(path: str | Path) -> int:
    """Set every firmware's sign in a fixtures file to the digest of its generated file; only the
    sign lines change. Returns how many changed."""
    path = Path(path)
    text = path.read_text(encoding="utf-8")
    cursor = text.index('"firmware": [')  # records appear in the text in list order
    changed = 0
    for record in json.loads(text).get("firmware", []):
        method, sign = record.get("signMethod"), record.get("sign")
        if not (isinstance(method, str) and isinstance(sign, str)):
            continue
        old = f'"sign": "{sign}"'
        at = text.index(old, cursor)
        digest = digest_of(record["orgId"], record["firmwareId"], file_size(record), method)
        new = f'"sign": "{digest}"'
        text = text[:at] + new + text[at + len(old) :]
        cursor = at + len(new)
        changed += digest != sign
    path.write_text(text, encoding="utf-8")
    return changed
