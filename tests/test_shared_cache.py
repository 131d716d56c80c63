"""With Redis as the cache, several processes share EnOS tokens, firmware and fetch locks."""

import os
import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path

import pytest

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID

ROOT = Path(__file__).resolve().parent.parent
REDIS = ("127.0.0.1", 6379)
REDIS_URL = "redis://127.0.0.1:6379/13"

# The processes share a database too (each answer is recorded in the firmware's history).
SETUP = f"""
import sys
import django
django.setup()
from django.core.management import call_command
from firmware.models import Org

call_command("migrate", verbosity=0)
org = Org(slug="demo", org_id="{DEMO_ORG_ID}", gateway_url=sys.argv[1], access_key="{DEMO_APP_KEY}")
org.set_secret_key("{DEMO_APP_SECRET}")
org.save()
"""

WORKER = """
import sys, threading, time
import django
django.setup()
from django.core.cache import cache
from firmware import services
from firmware.models import Org

url, start_at = sys.argv[1], float(sys.argv[2])
org = Org.objects.get(slug="demo")
barrier = threading.Barrier(10)
def fetch():
    barrier.wait()
    services.get_firmware(org, "fw-turbine-ctrl-3.2.1")
time.sleep(max(0, start_at - time.time()))
threads = [threading.Thread(target=fetch) for _ in range(10)]
[t.start() for t in threads]
[t.join() for t in threads]
print("ok")
"""


def redis_answers() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=0.5):
            return True
    except OSError:
        return False


pytestmark = [
    pytest.mark.services,
    pytest.mark.skipif(not redis_answers(), reason="no Redis on 127.0.0.1:6379 to share a cache"),
]


def test_two_processes_share_one_token_and_one_upstream_call(simulator, tmp_path):
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    simulator.latency = 0.5  # long enough for every thread of both processes to pile up
    database = tmp_path / "db.sqlite3"
    env = {
        **os.environ,
        "CACHE_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_SETTINGS_MODULE": "fwportal.settings",
    }
    setup = subprocess.run(
        [sys.executable, "-c", SETUP, simulator.url],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert setup.returncode == 0, setup.stderr
    start_at = str(time.time() + 2)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", WORKER, simulator.url, start_at],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [worker.communicate(timeout=60) for worker in workers]
    assert all(out.strip().endswith("ok") for out, _ in outputs), outputs
    assert simulator.counters["get"] == 1
    assert simulator.counters["token_get"] == 1
    with closing(sqlite3.connect(database)) as db:
        assert db.execute("select count(*) from firmware_firmwaresnapshot").fetchone() == (1,)
    redis.Redis.from_url(REDIS_URL).flushdb()
