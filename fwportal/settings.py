"""fwportal settings: every value comes from the environment (and `.env` when present)."""

import ipaddress
from datetime import timedelta
from pathlib import Path

import environ
from csp.constants import NONE, SELF
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# Required, like CREDENTIALS_KEYS: when missing, the system checks (firmware/checks.py) say so.
SECRET_KEY = env.str("SECRET_KEY", default="")
DEBUG = env.bool("DEBUG", default=False)
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1"])

# Fernet keys for the orgs' EnOS secret keys: the first encrypts, all decrypt (rotation).
CREDENTIALS_KEYS = env.list("CREDENTIALS_KEYS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "axes",
    "ninja",  # the JSON API (firmware/api/); listed so its docs use its own static files
    "auditlog",
    "firmware",
]

MIDDLEWARE = [
    "fwportal.logs.RequestIdMiddleware",
    "firmware.metrics_endpoint.RequestMetricsMiddleware",
    # Outside every middleware that writes a body, so it compresses the final one (whitenoise's
    # files pass through as they are); inside the request id and metrics, which then cover it.
    "fwportal.compression.CompressionMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "firmware.time_zones.TimeZoneMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.auth.middleware.LoginRequiredMiddleware",
    "firmware.audit.AuditMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "fwportal.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "fwportal.wsgi.application"

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
# Keep each worker thread's connection open between requests (opening one costs a page ~1 ms).
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Several gunicorn workers write (sessions, recently viewed): WAL lets readers run beside a
    # writer, IMMEDIATE transactions and a busy timeout make writers queue instead of failing.
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        **DATABASES["default"].get("OPTIONS", {}),
    }
LOCAL_CACHE = "fwportal.local_cache.BoundedLocMemCache"
# Each process's own memory caches are bounded in bytes (MiB), not only in entries.
LOCAL_CACHE_MAX_BYTES = env.int("LOCAL_CACHE_MAX_MB", default=64) * 1024 * 1024
# The cache every worker and host shares: EnOS access tokens, fetched answers and their last
# good copies, the locks and failures that coalesce identical fetches, access answers. Without
# CACHE_URL it lives in the database (the table is made by `migrate`), so any number of workers
# on one machine, or hosts on one PostgreSQL, behave as one site; Redis is the faster choice.
SHARED_CACHE_TABLE = "fwportal_cache"
CACHES = {
    "default": env.cache("CACHE_URL", default=f"dbcache://{SHARED_CACHE_TABLE}?MAX_ENTRIES=100000"),
    # Rendered pages and page parts (firmware/page_cache.py, {% cache %}): apart, so they never
    # crowd out tokens and last good copies, and always in each process's own memory: rendering
    # a page again costs less than fetching it over the network, and a restart (a deploy, a new
    # SECRET_KEY) starts with none, so no page rendered by an earlier release is ever served.
    "pages": {
        "BACKEND": LOCAL_CACHE,
        "LOCATION": "fwportal-pages",
        "OPTIONS": {"MAX_ENTRIES": 1000, "MAX_BYTES": LOCAL_CACHE_MAX_BYTES // 2},
    },
}
if CACHES["default"]["BACKEND"] == "django.core.cache.backends.db.DatabaseCache":
    # The same table, written in one statement an entry (fwportal/db_cache.py).
    CACHES["default"]["BACKEND"] = "fwportal.db_cache.DatabaseCache"
elif CACHES["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache":
    # Chosen on purpose (CACHE_URL=locmemcache://): one process only; bounded in bytes.
    CACHES["default"]["BACKEND"] = LOCAL_CACHE
    CACHES["default"].setdefault("OPTIONS", {}).setdefault("MAX_BYTES", LOCAL_CACHE_MAX_BYTES)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Sessions live in the database; with Redis they are read from the cache first (written
# through), which saves a query a page. Never from one process's memory: a logout must end the
# session on every worker at once.
SESSION_ENGINE = (
    "django.contrib.sessions.backends.cached_db"
    if "redis" in CACHES["default"]["BACKEND"].lower()
    else "django.contrib.sessions.backends.db"
)
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "firmware:home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en"
# The one list of the UI's languages: Django's code, the language's name, and the EnOS locale id
# whose StringI18n values are shown in it. Everything else derives from this.
UI_LANGUAGES = [
    ("en", _("English"), "en_US"),
    ("zh-hans", _("Simplified Chinese"), "zh_CN"),
    ("ja", _("Japanese"), "ja_JP"),
    ("es", _("Spanish"), "es_ES"),
]
LANGUAGES = [(code, name) for code, name, _locale in UI_LANGUAGES]
LOCALE_PATHS = [BASE_DIR / "firmware" / "locale"]
# Our own date formats where Django's differ from what the pages need (fwportal/formats/).
FORMAT_MODULE_PATH = ["fwportal.formats"]
# Times are shown in this zone to a viewer whose browser has not said its own (time_zones.py).
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
# Where `collectstatic` puts the files whitenoise serves (a test or benchmark stack its own).
STATIC_ROOT = Path(env.str("STATIC_ROOT", default=str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# HTTPS behind a TLS-terminating proxy that sets X-Forwarded-Proto. HTTPS_ONLY=0 is for plain-http
# local runs (tests, benchmarks); the demo runs with DEBUG on, which turns it off too.
HTTPS_ONLY = env.bool("HTTPS_ONLY", default=not DEBUG)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = HTTPS_ONLY
# Load balancers probe, and Prometheus scrapes a worker, over plain http.
SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000 if HTTPS_ONLY else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS_ONLY
SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=HTTPS_ONLY)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = HTTPS_ONLY
SESSION_COOKIE_HTTPONLY = CSRF_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = CSRF_COOKIE_SAMESITE = "Lax"
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF],
        "style-src": [SELF],
        "img-src": [SELF, "data:"],
        "connect-src": [SELF],
        "font-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [NONE],
    }
}

# Failed logins (site and admin): 5 failures for one username from one address lock that pair
# out for 15 minutes. Behind N proxies set PROXY_COUNT=N so the client's address is used.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_SENSITIVE_PARAMETERS = ["password"]
# No "AXES: BEGIN …" line at every start of a process (each manage.py command); the login
# failures, lockouts and successes are still logged.
AXES_VERBOSE = False
AXES_IPWARE_PROXY_COUNT = env.int("PROXY_COUNT", default=0) or None
AXES_IPWARE_META_PRECEDENCE_ORDER = (
    ("HTTP_X_FORWARDED_FOR", "REMOTE_ADDR") if AXES_IPWARE_PROXY_COUNT else ("REMOTE_ADDR",)
)

# EnOS client: (connect, read) timeouts in seconds, the total deadline of one call (connect,
# headers and body, however slowly they arrive), a cap on response size, connection pool size.
ENOS_CONNECT_TIMEOUT = env.float("ENOS_CONNECT_TIMEOUT", default=3.05)
ENOS_READ_TIMEOUT = env.float("ENOS_READ_TIMEOUT", default=10.0)
ENOS_TOTAL_TIMEOUT = env.float("ENOS_TOTAL_TIMEOUT", default=15.0)
# At most this many requests calling one org's EnOS at once in each process (a bulkhead: one
# slow org cannot take every thread; a page's several calls at once count as one); a request
# waits ENOS_SLOT_WAIT_SECONDS at most for a free slot, then gets the last good copy or a prompt
# 503 saying EnOS is busy.
ENOS_MAX_CALLS_PER_ORG = env.int("ENOS_MAX_CALLS_PER_ORG", default=4)
ENOS_SLOT_WAIT_SECONDS = env.float("ENOS_SLOT_WAIT_SECONDS", default=0.5)
# At most this many of one page's EnOS calls run at the same time (a firmware page: the
# firmware and its jobs, then the jobs' task counts and the device counts).
ENOS_CALLS_PER_PAGE = env.int("ENOS_CALLS_PER_PAGE", default=16)
# A failed EnOS call is the answer to everyone who asks the same within this many seconds.
ENOS_FAILURE_SECONDS = env.float("ENOS_FAILURE_SECONDS", default=5.0)
ENOS_MAX_RESPONSE_BYTES = env.int("ENOS_MAX_RESPONSE_BYTES", default=5 * 1024 * 1024)
ENOS_POOL_SIZE = env.int("ENOS_POOL_SIZE", default=16)
# Renew an access token this many seconds before EnOS says it expires.
ENOS_TOKEN_RENEW_MARGIN = env.int("ENOS_TOKEN_RENEW_MARGIN", default=300)
# How long a fetched FirmwareInfo is served from cache, and how long the last good copy is kept
# for when EnOS is down (the oldest copy the database's is served at, too).
FIRMWARE_CACHE_SECONDS = env.int("FIRMWARE_CACHE_SECONDS", default=5)
FIRMWARE_STALE_SECONDS = env.int("FIRMWARE_STALE_SECONDS", default=24 * 3600)
# Each firmware's history (firmware/history.py): how many changes are kept per firmware, and
# after how many days unconfirmed by EnOS `manage.py prune_snapshots` deletes a firmware's
# kept answer and history.
FIRMWARE_HISTORY_KEEP = env.int("FIRMWARE_HISTORY_KEEP", default=50)
FIRMWARE_SNAPSHOT_DAYS = env.int("FIRMWARE_SNAPSHOT_DAYS", default=90)
# Access answers are cached until orgs, grants or users change (in the shared cache: every
# worker sees a change at once); this bounds an answer's life in a CACHE_URL=locmemcache:// one.
ACCESS_CACHE_SECONDS = env.int("ACCESS_CACHE_SECONDS", default=10)
# Finding a firmware id in every org: how many orgs are asked at once, and how long each may take.
FIND_MAX_WORKERS = env.int("FIND_MAX_WORKERS", default=8)
FIND_ORG_TIMEOUT = env.float("FIND_ORG_TIMEOUT", default=min(ENOS_TOTAL_TIMEOUT, 10.0))

# The JSON API (firmware/api/): each token (or session) may make API_THROTTLE_REQUESTS requests in
# each fixed window of API_THROTTLE_SECONDS (counted in the shared cache, so across workers);
# a CSV export holds at most CSV_EXPORT_MAX firmware (its last line says when it was cut).
API_THROTTLE_REQUESTS = env.int("API_THROTTLE_REQUESTS", default=120)
API_THROTTLE_SECONDS = env.int("API_THROTTLE_SECONDS", default=60)
CSV_EXPORT_MAX = env.int("CSV_EXPORT_MAX", default=50_000)

# Firmware files (firmware/downloads.py): each verified file is kept in FIRMWARE_FILES_DIR, at
# most FIRMWARE_FILES_MAX_MB in all (the least recently downloaded go first). A download from
# EnOS goes on as long as ENOS_DOWNLOAD_PROGRESS_BYTES arrive in every
# ENOS_DOWNLOAD_PROGRESS_SECONDS (a stalled or dripping gateway is abandoned, a slow one is not);
# at most ENOS_MAX_DOWNLOADS_PER_ORG run at once per org and process, apart from page calls.
FIRMWARE_FILES_DIR = env.path("FIRMWARE_FILES_DIR", default=BASE_DIR / "firmware-files")
FIRMWARE_FILES_MAX_MB = env.int("FIRMWARE_FILES_MAX_MB", default=4096)
ENOS_DOWNLOAD_PROGRESS_SECONDS = env.float("ENOS_DOWNLOAD_PROGRESS_SECONDS", default=30.0)
ENOS_DOWNLOAD_PROGRESS_BYTES = env.int("ENOS_DOWNLOAD_PROGRESS_BYTES", default=64 * 1024)
ENOS_MAX_DOWNLOADS_PER_ORG = env.int("ENOS_MAX_DOWNLOADS_PER_ORG", default=2)

# /metrics (Prometheus): answered to a scraper sending `Authorization: Bearer METRICS_TOKEN` or
# from an address in METRICS_ALLOWED_IPS (addresses or networks); with neither set it is off.
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
METRICS_ALLOWED_IPS = [
    ipaddress.ip_network(network, strict=False)  # a typo stops the start, with its value
    for network in env.list("METRICS_ALLOWED_IPS", default=[])
]

# Each audit entry made in a request carries the request's id (its log lines' request_id), not
# a correlation id a client could send.
AUDITLOG_CID_GETTER = "fwportal.logs.current_request_id"

# Error reports (the DEBUG page, mails to ADMINS) never show EnOS tokens, signatures or secrets.
DEFAULT_EXCEPTION_REPORTER_FILTER = "firmware.error_reports.SecretsFilter"

# LOG_FORMAT=json: one JSON object a line, for a log shipper; plain text for a terminal. Every
# line of a request carries its request id, user and org (fwportal/logs.py).
LOG_FORMAT = env.str("LOG_FORMAT", default="plain")
if LOG_FORMAT not in ("plain", "json"):
    raise ValueError(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"request": {"()": "fwportal.logs.RequestContextFilter"}},
    "formatters": {
        "plain": {"format": "{asctime} {levelname} {name} [{request_id}] {message}", "style": "{"},
        "json": {"()": "fwportal.logs.JsonFormatter"},
    },
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": LOG_FORMAT,
            "filters": ["request"],
        }
    },
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
}
