#!/usr/bin/env bash
# Sets up fwportal on SQLite and runs it with demo data served by the bundled EnOS simulator.
# Usage: [PORT=8000] [SIMULATOR_PORT=8090] scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh requirements.txt

if [ ! -f .env ]; then
  secret=$(.venv/bin/python -c 'import secrets; print(secrets.token_urlsafe(50))')
  fernet=$(.venv/bin/python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())')
  printf 'DEBUG=1\nSECRET_KEY=%s\nCREDENTIALS_KEYS=%s\n' "$secret" "$fernet" > .env
  echo "Wrote .env for local development (DEBUG on, new SECRET_KEY and CREDENTIALS_KEYS)."
fi
.venv/bin/python manage.py migrate --noinput

sim_port="${SIMULATOR_PORT:-8090}"
web_port="${PORT:-8000}"
.venv/bin/python manage.py enos_simulator --port "$sim_port" &
sim_pid=$!
trap 'kill "$sim_pid" 2>/dev/null || true' EXIT
for _ in $(seq 50); do
  (echo > "/dev/tcp/127.0.0.1/$sim_port") 2>/dev/null && break
  kill -0 "$sim_pid" 2>/dev/null || { echo "the EnOS simulator did not start" >&2; exit 1; }
  sleep 0.1
done
.venv/bin/python manage.py demo --gateway-url "http://127.0.0.1:$sim_port"
echo "fwportal: http://127.0.0.1:$web_port/  (Ctrl-C stops the dashboard and the simulator)"
.venv/bin/python manage.py runserver "127.0.0.1:$web_port"
