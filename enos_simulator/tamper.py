"""A dishonest gateway's rewrites of a JSON answer: a raw value at a path, huge text, padding.

Python's json writes valid JSON only, so a rewrite serialises the answer with a unique marker
string where the odd text goes, and the text takes the marker's place as the body is written
(``Spliced``): a huge text repeated in every item of a list is then held in memory once.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

EVERY_ITEM = None  # the "[]" step of a path
Path = tuple[str | None, ...]

_STEP = re.compile(r"([^.\[\]]+)((?:\[\])*)")
_LOREM = b"Lorem ipsum dolor sit amet, consectetur adipiscing elit. "


@dataclass(frozen=True)
class Spliced:
    """A body written as ``skeleton`` with ``text`` in place of every ``marker``."""

    skeleton: bytes
    marker: bytes
    text: bytes

    def __len__(self) -> int:
        extra = len(self.text) - len(self.marker)
        return len(self.skeleton) + self.skeleton.count(self.marker) * extra

    def chunks(self) -> Iterator[bytes]:
        first, *rest = self.skeleton.split(self.marker)
        yield first
        for part in rest:
            yield self.text
            yield part


def parse_path(text: str) -> Path:
    """A path into a JSON answer: keys joined by dots, a key followed by ``[]`` stepping into
    every item of the list there. E.g. ``code``, ``status``, ``data.fileSize``, ``data.expire``,
    ``data.name.defaultValue``, ``pagination.totalSize``, ``data[].firmwareId`` (every item of
    a search answer). ValueError on anything else."""
    steps: list[str | None] = []
    for part in text.split("."):
        match = _STEP.fullmatch(part)
        if match is None:
            raise ValueError(
                "fault field must be a dotted path such as data.fileSize or data[].firmwareId, "
                f"got {text!r}"
            )
        steps.append(match[1])
        steps.extend([EVERY_ITEM] * (len(match[2]) // 2))
    return tuple(steps)


def with_raw_value(body: bytes, path: Path, raw: str) -> Spliced:
    """The answer with the raw JSON text ``raw`` as the value at ``path``: the last key is set
    (added if missing) in each object the path reaches; a path through a missing key or a value
    of another type changes nothing there."""
    return _spliced(json.loads(body), path, raw.encode("utf-8"))


def with_huge_descriptions(body: bytes, size: int) -> Spliced:
    """The answer with the ``desc`` of its FirmwareInfo (``data``, or each item of a list there)
    set to ``size`` characters of plain text."""
    answer = json.loads(body)
    path = (
        ("data", EVERY_ITEM, "desc") if isinstance(answer.get("data"), list) else ("data", "desc")
    )
    text = (_LOREM * (size // len(_LOREM) + 1))[:size]
    return _spliced(answer, path, b'"' + text + b'"')


def padded(body: bytes, size: int) -> bytes | Spliced:
    """The answer with a ``padding`` string of spaces making it ``size`` bytes long; the answer
    as it is when it is already longer."""
    spliced = _spliced(json.loads(body), ("padding",), b"")
    spaces = size - len(spliced) - len(b'""')
    if spaces < 0:
        return body
    return Spliced(spliced.skeleton, spliced.marker, b'"' + b" " * spaces + b'"')


def _spliced(answer: Any, path: Path, text: bytes) -> Spliced:
    marker = secrets.token_hex(16)  # random: no real value in the answer can be equal to it
    _place(answer, path, marker)
    return Spliced(_dumps(answer), _dumps(marker), text)


def _dumps(value: Any) -> bytes:
    """JSON the way the simulator writes its answers."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8")


def _place(node: Any, path: Path, value: str) -> None:
    step, rest = path[0], path[1:]
    slots: list[Any]
    if step is EVERY_ITEM and isinstance(node, list):
        slots = list(range(len(node)))
    elif step is not EVERY_ITEM and isinstance(node, dict):
        slots = [step] if not rest or step in node else []
    else:
        return
    for slot in slots:
        if rest:
            _place(node[slot], rest, value)
        else:
            node[slot] = value
