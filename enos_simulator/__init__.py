"""A simulator of the EnOS API gateway: token service, the V2.1 firmware, OTA job and device
upgrade APIs, and V2.5 Download Firmware File.

It follows docs/enos-api.md and serves tests, the demo and benchmarks; nothing the fwportal
server loads imports it. Pure standard library, so benchmark scripts can run it without Django::

    python -m enos_simulator --host 127.0.0.1 --port 8090

In tests::

    with Simulator(port=0) as sim:
        ...  # talk to sim.url with DEMO_APP_KEY / DEMO_APP_SECRET on DEMO_ORG_ID

Modules: ``server`` (the gateway, its counters and control plane), ``faults`` (injected
failures), ``tamper`` (a dishonest gateway's rewrites of an answer), ``wire`` (answers sent a
byte at a time), ``expression`` (the search expressions), ``ota`` (tasks and device versions
generated from the fixtures), ``files`` (the bytes of the firmware files), ``fixtures`` (the
default data and its stable ids), ``signs`` (writes the fixtures' signs), ``cli`` (the command
line).
"""

from enos_simulator.cli import add_arguments, build_arg_parser, main, run
from enos_simulator.faults import Fault
from enos_simulator.fixtures import (
    DEFAULT_FIXTURES,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_ORG_ID,
    DEMO_ORG_ID_2,
)
from enos_simulator.server import Simulator

__all__ = [
    "DEFAULT_FIXTURES",
    "DEMO_APP_KEY",
    "DEMO_APP_SECRET",
    "DEMO_ORG_ID",
    "DEMO_ORG_ID_2",
    "Fault",
    "Simulator",
    "add_arguments",
    "build_arg_parser",
    "main",
    "run",
]
