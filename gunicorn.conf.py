"""gunicorn settings for fwportal: `gunicorn -c gunicorn.conf.py fwportal.wsgi`.

Pages wait on EnOS (network I/O), so each worker runs threads: a slow gateway ties up a thread,
not a process. Every value can be overridden from the environment (GUNICORN_* names below).
"""

import ctypes
import ctypes.util
import multiprocessing
import os
import shutil
import tempfile


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = _int("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9))
threads = _int("GUNICORN_THREADS", 8)
# Longer than the EnOS connect + read timeouts (3 + 10 s by default) and a cross-org find.
timeout = _int("GUNICORN_TIMEOUT", 60)
graceful_timeout = _int("GUNICORN_GRACEFUL_TIMEOUT", 30)
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Recycle workers now and then (with jitter, so they do not restart together).
max_requests = _int("GUNICORN_MAX_REQUESTS", 5000)
max_requests_jitter = _int("GUNICORN_MAX_REQUESTS_JITTER", 500)
accesslog = os.environ.get("GUNICORN_ACCESSLOG", "-") or None  # empty: no access log
errorlog = "-"
access_log_format = '%(h)s "%(r)s" %(s)s %(b)s %(M)sms "%(a)s" %({x-request-id}o)s'
if os.environ.get("LOG_FORMAT") == "json":
    # gunicorn's own lines (its access log, starts and stops) as JSON too, like fwportal's.
    logger_class = "fwportal.logs.GunicornJsonLogger"
# Trust X-Forwarded-* only from the TLS-terminating proxy in front (see README, Production).
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1")
preload_app = False

# glibc raises its mmap threshold after freeing a large block, so later large answers (an EnOS
# answer of megabytes is copied several times while parsed) come from heap arenas that are never
# given back, and a worker grew by hundreds of MiB. A fixed threshold keeps them in mmap.
MALLOC_MMAP_THRESHOLD = 128 * 1024
M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter number


def post_fork(server, worker) -> None:
    libc_name = ctypes.util.find_library("c")
    if libc_name is None:
        return
    mallopt = getattr(ctypes.CDLL(libc_name), "mallopt", None)
    if mallopt is not None:  # glibc only
        mallopt(M_MMAP_THRESHOLD, MALLOC_MMAP_THRESHOLD)


# Prometheus counts (firmware/metrics.py) from every worker: each writes its own files in
# PROMETHEUS_MULTIPROC_DIR and /metrics adds them up. Without it set, a directory of its own.
METRICS_DIR_OWNED = "FWPORTAL_OWNS_PROMETHEUS_MULTIPROC_DIR"


def on_starting(server) -> None:
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if not directory:
        directory = tempfile.mkdtemp(prefix="fwportal-metrics-")
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = directory
        os.environ[METRICS_DIR_OWNED] = directory
    os.makedirs(directory, exist_ok=True)
    for name in os.listdir(directory):  # counts of an earlier run must not add to this one's
        if name.endswith(".db"):
            os.remove(os.path.join(directory, name))


def child_exit(server, worker) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server) -> None:
    owned = os.environ.get(METRICS_DIR_OWNED)
    if owned:
        shutil.rmtree(owned, ignore_errors=True)
