"""`python -m enos_simulator --port 8090 ...`: the simulator alone, without Django."""

import sys

from enos_simulator.cli import main

sys.exit(main())
