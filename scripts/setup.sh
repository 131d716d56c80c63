#!/usr/bin/env bash
# Prepares a checkout: .venv with the pinned packages, compiled translations.
# Usage: scripts/setup.sh [requirements file]   (default requirements.txt)
set -euo pipefail
cd "$(dirname "$0")/.."

requirements="${1:-requirements.txt}"
python="${PYTHON:-python3}"
"$python" -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
  || { echo "fwportal needs Python 3.11 or newer (found $("$python" --version 2>&1))" >&2; exit 1; }

[ -x .venv/bin/python ] || "$python" -m venv .venv
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r "$requirements"
# Babel compiles the gettext catalogs, so no GNU gettext is needed on the machine.
.venv/bin/pybabel compile --domain django --directory firmware/locale --use-fuzzy --statistics 2>&1 \
  | grep -v '^$' || true
