"""`python -m enos_simulator.signs`: set the fixtures' signs to the digests of the files the
simulator serves (files.py); run it after changing a firmware's ids or fileSize."""

import argparse

from enos_simulator.files import write_signs
from enos_simulator.fixtures import DEFAULT_FIXTURES


def main() -> None:
    parser = argparse.ArgumentParser(
        description="Set the fixtures' signs to the digests of the files the simulator serves."
    )
    parser.add_argument("--fixtures", default=DEFAULT_FIXTURES, help="fixtures JSON file")
    args = parser.parse_args()
    print(f"{write_signs(args.fixtures)} signs changed in {args.fixtures}")


if __name__ == "__main__":
    main()
