"""The EnOS gateway simulator for tests, the demo and benchmarks; fwportal never loads it."""

from enos_simulator.server import (
    DEFAULT_FIXTURES,
    DEMO_APP_KEY,
    DEMO_APP_SECRET,
    DEMO_ORG_ID,
    DEMO_ORG_ID_2,
    Fault,
    Simulator,
    add_arguments,
    build_arg_parser,
    main,
    run,
)

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
