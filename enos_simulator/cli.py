"""The simulator's command line, shared by `python -m enos_simulator` and the management command."""

from __future__ import annotations

import argparse
import signal
import threading
from collections.abc import Mapping, Sequence
from typing import Any

from enos_simulator.faults import Fault
from enos_simulator.fixtures import DEFAULT_FIXTURES
from enos_simulator.server import Simulator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add the simulator's options to a parser (a Django management command can reuse this)."""
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8090, help="port to bind, 0 = any free one")
    parser.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="fixtures JSON file")
    parser.add_argument(
        "--token-lifetime", type=float, default=7200, help="access token lifetime in seconds"
    )
    parser.add_argument(
        "--latency-ms", type=float, default=0.0, help="added latency per business call"
    )
    parser.add_argument(
        "--latency-jitter-ms",
        type=float,
        default=0.0,
        help="random extra latency per business call, uniform in 0..this",
    )
    parser.add_argument(
        "--fault", choices=Fault.KINDS, help="inject this fault into the calls of --fault-scope"
    )
    parser.add_argument(
        "--fault-scope",
        choices=Fault.SCOPES,
        default="business",
        help="calls the fault hits: business (default), token (get and refresh) or all",
    )
    parser.add_argument("--fault-rate", type=float, default=1.0, help="fault probability, 0..1")
    parser.add_argument("--fault-seed", type=int, help="random seed of the fault choice")
    parser.add_argument(
        "--fault-delay",
        type=float,
        help="seconds of slow (default 0); between the bytes of drip, drip_chunked and "
        "slow_headers (default 1)",
    )
    parser.add_argument(
        "--fault-code",
        type=int,
        help="business code of error_code (default 500); HTTP status of redirect (default 302)",
    )
    parser.add_argument(
        "--fault-size",
        type=int,
        help="body bytes of drip, drip_chunked (default 1000000) and huge_body (default 6 MiB); "
        "desc characters of huge_description (default 5000000)",
    )
    parser.add_argument(
        "--fault-max-seconds",
        type=float,
        default=120.0,
        help="longest drip, drip_chunked or slow_headers answer (default 120)",
    )
    parser.add_argument(
        "--fault-field", help="odd_value: path of the value, e.g. data.fileSize, data[].firmwareId"
    )
    parser.add_argument("--fault-value", help="odd_value: raw JSON text put there, e.g. 1e999")
    parser.add_argument(
        "--fault-retry-after", default="2", help="rate_limited: Retry-After, verbatim (default 2)"
    )


def fault_from_options(opts: Mapping[str, Any]) -> Fault | None:
    """The fault the parsed options ask for, if any; ValueError when they make no valid one."""
    if not opts.get("fault"):
        return None
    return Fault(
        opts["fault"],
        rate=opts["fault_rate"],
        delay=opts["fault_delay"],
        code=opts["fault_code"],
        seed=opts["fault_seed"],
        scope=opts.get("fault_scope", "business"),
        size=opts.get("fault_size"),
        max_seconds=opts.get("fault_max_seconds", 120.0),
        field=opts.get("fault_field"),
        value=opts.get("fault_value"),
        retry_after=opts.get("fault_retry_after", "2"),
    )


def build_arg_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m enos_simulator", description="Run the EnOS gateway simulator."
    )
    add_arguments(parser)
    return parser


def run(options: argparse.Namespace | Mapping[str, Any]) -> int:
    """Serve until SIGINT or SIGTERM; returns the exit status (0)."""
    opts = vars(options) if isinstance(options, argparse.Namespace) else dict(options)
    sim = Simulator(
        host=opts["host"],
        port=opts["port"],
        fixtures=opts["fixtures"],
        token_lifetime=opts["token_lifetime"],
        latency=opts["latency_ms"] / 1000,
        latency_jitter=opts.get("latency_jitter_ms", 0.0) / 1000,
    )
    sim.fault = fault_from_options(opts)
    stopping = threading.Event()
    previous = {
        signum: signal.signal(signum, lambda *_: stopping.set())
        for signum in (signal.SIGINT, signal.SIGTERM)
    }
    try:
        sim.start()
        print(f"EnOS simulator listening on {sim.url}", flush=True)
        stopping.wait()
    finally:
        sim.stop()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_arg_parser()
    options = parser.parse_args(argv)
    try:
        fault_from_options(vars(options))
    except ValueError as exc:
        parser.error(str(exc))  # a usage error, not a traceback, for a fault that makes no sense
    return run(options)
