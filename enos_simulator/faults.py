"""Failures the simulator injects into its answers, and the pages a failing gateway sends."""

from __future__ import annotations

import dataclasses
import math
import random
from collections.abc import Mapping
from typing import Any, ClassVar

from enos_simulator.tamper import parse_path
from enos_simulator.values import finite_number, is_int

_HTTP_ERROR_STATUSES = (502, 503, 500)
_STATUS_TEXT = {
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Temporarily Unavailable",
}
_NGINX_PAGE = (
    "<html>\r\n<head><title>{status} {text}</title></head>\r\n<body>\r\n"
    "<center><h1>{status} {text}</h1></center>\r\n<hr><center>nginx</center>\r\n"
    "</body>\r\n</html>\r\n"
)
PORTAL_PAGE = (
    b'<!DOCTYPE html>\n<html lang="en">\n<head><meta charset="utf-8"><title>EnOS</title></head>\n'
    b'<body><div id="app">Loading EnOS Management Console...</div></body>\n</html>\n'
)


def nginx_error_page(status: int) -> bytes:
    """The error page the gateway's nginx sends for a 500, 502 or 503."""
    return _NGINX_PAGE.format(status=status, text=_STATUS_TEXT[status]).encode()


@dataclasses.dataclass
class Fault:
    """A failure injected into answers, each request in ``scope`` hit with probability ``rate``.

    ``scope``: "business" (every business call), "token" (token get and refresh), "all", or
    one part of the business calls: "firmware" (get and search firmware), "jobs" (OTA jobs and
    their tasks), "devices" (device versions) or "files" (downloads; kinds that alter a JSON
    answer leave a file as it is).
    Parameters that only some kinds read: ``delay`` (seconds: slow, and between the bytes of
    drip, drip_chunked and slow_headers), ``size`` (bytes of drip, drip_chunked and huge_body,
    characters of huge_description's desc), ``max_seconds`` (how long drip, drip_chunked and
    slow_headers may last), ``code`` (error_code's business code, redirect's HTTP status),
    ``field`` and ``value`` (odd_value's path and raw JSON text, see ``tamper.parse_path``),
    ``retry_after`` (rate_limited's header, sent verbatim). None means the kind's default.
    """

    KINDS: ClassVar[tuple[str, ...]] = (
        "http500",
        "html",
        "malformed_json",
        "error_code",
        "slow",
        "drop",
        "data_null",
        "wrong_shape",
        "mixed",
        "drip",
        "drip_chunked",
        "slow_headers",
        "huge_body",
        "huge_description",
        "odd_value",
        "rate_limited",
        "redirect",
    )
    # What a "mixed" fault picks from at each strike: the failures a real gateway shows most.
    MIXED_KINDS: ClassVar[tuple[str, ...]] = (
        "http500",
        "error_code",
        "malformed_json",
        "slow",
        "drop",
    )
    SCOPES: ClassVar[tuple[str, ...]] = (
        "business",
        "token",
        "all",
        "firmware",
        "jobs",
        "devices",
        "files",
    )
    PACED_KINDS: ClassVar[tuple[str, ...]] = ("drip", "drip_chunked", "slow_headers")
    DEFAULT_SIZES: ClassVar[Mapping[str, int]] = {
        "drip": 1_000_000,
        "drip_chunked": 1_000_000,
        "huge_body": 6 * 1024 * 1024,  # above fwportal's 5 MiB answer cap
        "huge_description": 5_000_000,
    }

    kind: str
    rate: float = 1.0
    delay: float | None = None
    code: int | None = None
    seed: int | None = None
    scope: str = "business"
    size: int | None = None
    max_seconds: float = 120.0
    field: str | None = None
    value: str | None = None
    retry_after: str = "2"
    _rng: random.Random = dataclasses.field(init=False, repr=False)
    _http_turn: int = dataclasses.field(init=False, default=0, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in self.KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {self.KINDS}")
        if not 0.0 <= self.rate <= 1.0:
            raise ValueError(f"fault rate must be within [0, 1], got {self.rate}")
        if self.scope not in self.SCOPES:
            raise ValueError(f"unknown fault scope {self.scope!r}; expected one of {self.SCOPES}")
        if self.delay is None:
            self.delay = 1.0 if self.kind in self.PACED_KINDS else 0.0
        if self.delay < 0:
            raise ValueError("fault delay must not be negative")
        if self.size is None:
            self.size = self.DEFAULT_SIZES.get(self.kind)
        elif self.size < 1:
            raise ValueError(f"fault size must be a positive integer, got {self.size}")
        if not 0 < self.max_seconds < math.inf:
            raise ValueError(f"fault max_seconds must be positive, got {self.max_seconds}")
        self._check_kind_parameters()
        self._rng = random.Random(self.seed)  # noqa: S311 - reproducible chaos, not crypto

    def _check_kind_parameters(self) -> None:
        """The parameters that some kinds need, or need in a given form."""
        if self.kind == "huge_description" and self.scope not in ("business", "firmware"):
            raise ValueError(
                "huge_description alters firmware answers: its scope must be business or firmware"
            )
        if self.kind == "odd_value":
            if self.field is None or self.value is None:
                raise ValueError("odd_value needs field (a path such as data.fileSize) and value")
            parse_path(self.field)
            try:
                self.value.encode("utf-8")
            except UnicodeEncodeError:
                raise ValueError(
                    "fault value must be UTF-8 text, without lone surrogates"
                ) from None
        if self.kind == "redirect":
            self.code = 302 if self.code is None else self.code
            if not 300 <= self.code <= 399:
                raise ValueError(f"redirect code must be an HTTP 3xx status, got {self.code}")
        # http.server writes header values as Latin-1 and would split the head at a line break.
        if any(char in "\r\n" or ord(char) > 0xFF for char in self.retry_after):
            raise ValueError("fault retry_after must be one line of Latin-1 text")

    @classmethod
    def from_dict(cls, spec: Mapping[str, Any]) -> Fault:
        """A fault from its JSON form: ``kind`` plus any of the optional fields (null: the
        default); ValueError on anything else."""
        unknown = set(spec) - _SPEC_KEYS
        if unknown:
            raise ValueError(f"unknown fault keys: {', '.join(sorted(unknown))}")
        kind = spec.get("kind")
        if not isinstance(kind, str):
            raise ValueError("fault kind must be a string")
        rate = finite_number(spec, "rate", 1.0)
        delay = None if spec.get("delay") is None else finite_number(spec, "delay", 0.0)
        max_seconds = finite_number(spec, "max_seconds", 120.0)
        code, seed, size = spec.get("code"), spec.get("seed"), spec.get("size")
        for name, value in (("code", code), ("seed", seed), ("size", size)):
            if value is not None and not is_int(value):
                raise ValueError(f"fault {name} must be an integer or null")
        scope, retry_after = spec.get("scope", "business"), spec.get("retry_after", "2")
        for name, value in (("scope", scope), ("retry_after", retry_after)):
            if not isinstance(value, str):
                raise ValueError(f"fault {name} must be a string")
        field, raw = spec.get("field"), spec.get("value")
        for name, value in (("field", field), ("value", raw)):
            if value is not None and not isinstance(value, str):
                raise ValueError(f"fault {name} must be a string or null")
        return cls(
            kind,
            rate=rate,
            delay=delay,
            code=code,
            seed=seed,
            scope=scope,
            size=size,
            max_seconds=max_seconds,
            field=field,
            value=raw,
            retry_after=retry_after,
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "rate": self.rate,
            "delay": self.delay,
            "code": self.code,
            "seed": self.seed,
            "scope": self.scope,
            "size": self.size,
            "max_seconds": self.max_seconds,
            "field": self.field,
            "value": self.value,
            "retry_after": self.retry_after,
        }

    def strike(self, endpoint: str, part: str | None = None) -> tuple[str, int] | None:
        """The failure hitting one request to ``endpoint`` ("business" or "token"; a business
        call's ``part`` is "firmware", "jobs" or "devices"), as its kind (a pick when "mixed")
        and HTTP status, or None when the request is spared. Requests out of scope draw no
        random number, so a seed gives the same strikes whatever else is called. Not
        thread-safe: the simulator holds its lock."""
        if self.scope not in (endpoint, part, "all") or not self._strikes():
            return None
        kind = self._pick_kind()
        return kind, (self._next_http_status() if kind == "http500" else 200)

    def _strikes(self) -> bool:
        return self._rng.random() < self.rate

    def _pick_kind(self) -> str:
        """The failure of one strike: the fault's own kind, or a random one when "mixed"."""
        return self._rng.choice(self.MIXED_KINDS) if self.kind == "mixed" else self.kind

    def _next_http_status(self) -> int:
        status = _HTTP_ERROR_STATUSES[self._http_turn % len(_HTTP_ERROR_STATUSES)]
        self._http_turn += 1
        return status


_SPEC_KEYS = frozenset(f.name for f in dataclasses.fields(Fault) if f.init)
