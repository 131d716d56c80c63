#!/usr/bin/env bash
# Installs the test tools (and Debian's Chromium for the browser tests) and runs every check:
# ruff, then the whole suite on SQLite + local memory, then again on PostgreSQL + Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  elif sudo -n true 2>/dev/null; then
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-noto-cjk >/dev/null
  else
    echo "Browser tests need Debian's chromium package: run 'apt-get install chromium' as root." >&2
    exit 1
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== test suite on SQLite + local memory cache"
.venv/bin/python -m pytest "$@"
