#!/usr/bin/env bash
# Installs the test tools (and Debian's Chromium for the browser tests) and runs every check:
# ruff, then the whole suite on SQLite + local memory, then again on PostgreSQL + Redis.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements-dev.txt

packages="chromium fonts-noto-cjk"
if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  elif sudo -n true 2>/dev/null; then
    sudo apt-get update -qq
    sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $packages >/dev/null
  else
    echo "Browser tests need Debian's chromium package: run 'apt-get install chromium' as root." >&2
    exit 1
  fi
fi

.venv/bin/ruff check .
.venv/bin/ruff format --check .

echo "== test suite on SQLite + local memory cache"
.venv/bin/python -m pytest "$@"

pg_url="${TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/fwportal}"
redis_url="${TEST_REDIS_URL:-redis://127.0.0.1:6379/15}"
if .venv/bin/python - "$pg_url" "$redis_url" <<'PY'
import sys
import psycopg
import redis
try:
    psycopg.connect(sys.argv[1].rsplit("/", 1)[0] + "/postgres", connect_timeout=3).close()
    redis.Redis.from_url(sys.argv[2], socket_connect_timeout=3).ping()
except Exception as exc:
    print(f"not reachable: {exc}")
    sys.exit(1)
PY
then
  echo "== test suite on PostgreSQL + Redis"
  DATABASE_URL="$pg_url" CACHE_URL="$redis_url" .venv/bin/python -m pytest "$@"
else
  echo "== SKIPPED the PostgreSQL + Redis run: they do not answer at $pg_url and $redis_url" >&2
  if [ -n "${CI:-}" ]; then exit 1; fi
fi
