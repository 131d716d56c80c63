"""Logs a machine can read: every line of a request carries its request id, user and org, and
LOG_FORMAT=json writes one JSON object a line (plain text stays the default, for a terminal).

The request id is the client's X-Request-ID when it is a short, plain token (a proxy's or a load
balancer's), else a new one; it is sent back in the X-Request-ID response header. A JSON line
holds only the fields named here, never arbitrary extras, so nothing secret rides along.
"""

import json
import logging
import re
import uuid
from collections.abc import Callable
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest, HttpResponse
from gunicorn import glogging

HEADER = "X-Request-ID"
SAFE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
# Fields of the request every line carries ("-" outside a request).
CONTEXT_FIELDS = ("request_id", "user", "org")
# Fields some lines carry: an EnOS call's (firmware/enos/client.py).
EXTRA_FIELDS = (
    "enos_operation",
    "enos_request_id",
    "enos_code",
    "http_status",
    "outcome",
    "duration_ms",
)

_request_id: ContextVar[str | None] = ContextVar("fwportal_request_id", default=None)
_user: ContextVar[str | None] = ContextVar("fwportal_user", default=None)
_org: ContextVar[str | None] = ContextVar("fwportal_org", default=None)


def current_request_id() -> str | None:
    return _request_id.get()


class RequestContextFilter(logging.Filter):
    """Puts the current request's id, user and org on each record (unless the line names its
    own org, as an EnOS call does)."""

    def filter(self, record: logging.LogRecord) -> bool:
        for name, var in (("request_id", _request_id), ("user", _user), ("org", _org)):
            if getattr(record, name, None) is None:
                setattr(record, name, var.get() or "-")
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: time, level, logger, message, the request's fields, and an EnOS
    call's when the line is about one."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for name in CONTEXT_FIELDS:
            value = getattr(record, name, "-")
            if value not in (None, "-"):
                line[name] = value
        for name in EXTRA_FIELDS:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


class GunicornJsonLogger(glogging.Logger):
    """gunicorn's logger with its access and error lines written as JSON objects, for
    LOG_FORMAT=json (gunicorn.conf.py); an access line's message is the access log format's."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                handler.setFormatter(JsonFormatter())


class RequestIdMiddleware:
    """Gives each request its id (and its user and org, once known) for every log line written
    while it runs, and sends the id back in the X-Request-ID header."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        given = request.headers.get(HEADER, "")
        request.request_id = given if SAFE_REQUEST_ID.match(given) else uuid.uuid4().hex
        tokens = [(_request_id, _request_id.set(request.request_id))]
        tokens += [(_user, _user.set(None)), (_org, _org.set(None))]
        try:
            response = self.get_response(request)
        finally:
            for var, token in reversed(tokens):
                var.reset(token)
        response[HEADER] = request.request_id
        return response

    def process_view(
        self, request: HttpRequest, view: Callable, args: tuple, kwargs: dict[str, Any]
    ) -> None:
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated:
            _user.set(user.get_username())
        if isinstance(kwargs.get("slug"), str):
            _org.set(kwargs["slug"])  # the org a page is about is always its URL's slug
