"""The production server never loads the EnOS simulator: it is a tool for tests, the demo and
benchmarks, and only management commands (loaded when run) may import it."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

# In a fresh interpreter, load what gunicorn loads and everything a request can reach: the WSGI
# application, every URL pattern's view, and every module of fwportal and firmware except
# management commands. Prints which enos_simulator modules got loaded, and the views seen.
LOAD_THE_SERVER = """
import importlib
import json
import pkgutil
import runpy
import sys

runpy.run_path("gunicorn.conf.py")
import fwportal.wsgi
from django.urls import URLResolver, get_resolver


def views(patterns):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            yield from views(entry.url_patterns)
        else:
            yield entry.callback


seen = list(views(get_resolver().url_patterns))
for view in seen:
    importlib.import_module(view.__module__)
for package in ("fwportal", "firmware"):
    for module in pkgutil.walk_packages(importlib.import_module(package).__path__, package + "."):
        if not module.name.startswith("firmware.management.commands."):
            importlib.import_module(module.name)
for name in sys.argv[1:]:
    importlib.import_module(name)
loaded = sorted(name for name in sys.modules if name.split(".")[0] == "enos_simulator")
print(json.dumps({"simulator_modules": loaded, "views": len(seen)}))
"""


def load_the_server(*also_import: str) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", LOAD_THE_SERVER, *also_import],
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "fwportal.settings"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_production_server_never_loads_the_simulator() -> None:
    loaded = load_the_server()
    assert loaded["views"] > 20, loaded  # the URL patterns were really walked
    assert loaded["simulator_modules"] == [], loaded


def test_the_check_sees_the_simulator_when_a_management_command_loads_it() -> None:
    loaded = load_the_server("firmware.management.commands.demo")
    assert "enos_simulator" in loaded["simulator_modules"], loaded
