"""The audit trail: who changed or tested which org's credentials and grants, and when.

Model changes (orgs, their grants, users' access) are written by django-auditlog; events that
change no model (a connection test, a key rotation, a download) are written by `record()` into
the same LogEntry table. The actor is the request's user (auditlog's middleware), or, for
`manage.py` commands, the OS user and host (`cli_actor()`). No secret ever enters an entry: an
org's encrypted secret key is masked, and shown as "secret key replaced".
"""

import contextlib
import getpass
import socket
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from auditlog.middleware import AuditlogMiddleware
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, Group
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.signals import pre_save
from django.http import HttpRequest
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from firmware.addresses import client_address
from firmware.models import Org

SECRET_FIELD = "secret_key_encrypted"  # noqa: S105 (a field name)
HIDDEN = "(hidden)"  # what an entry stores for the secret, before and after: never the secret

# Events that change no model: the key in an entry's additional_data["event"] -> its wording.
EVENTS = {
    "connection_test": _("connection test"),
    "keys_rotated": _("secret key re-encrypted with the newest key"),
    "api_token_created": _("API token created"),
    "api_token_revoked": _("API token revoked"),
    "file_downloaded": _("firmware file downloaded"),
}

_cli_actor: ContextVar[str | None] = ContextVar("fwportal_cli_actor", default=None)


def hide_secret(value: str) -> str:
    """auditlog's mask for the secret field: the same words whatever the value."""
    return HIDDEN


def register() -> None:
    """Track orgs, their grants and what decides a user's access (called once, in ready())."""
    auditlog.register(
        Org,
        exclude_fields=["created_at", "updated_at"],
        mask_fields=[SECRET_FIELD],
        mask_callable="firmware.audit.hide_secret",
        m2m_fields={"granted_users", "granted_groups"},
    )
    auditlog.register(
        get_user_model(),
        include_fields=["username", "is_active", "is_staff", "is_superuser"],
        m2m_fields={"groups"},
    )
    auditlog.register(Group, include_fields=["name"])
    pre_save.connect(_label_cli_actor, sender=LogEntry, dispatch_uid="audit-cli-actor")


def record(
    event: str,
    target: models.Model,
    details: dict[str, Any] | None = None,
    *,
    actor: AbstractBaseUser | None = None,
) -> LogEntry:
    """An entry for an event that changes no model, e.g. `record("connection_test", org,
    {"result": "OK"})`. The actor defaults to the request's user or the CLI's OS user."""
    action = LogEntry.Action.UPDATE if event == "keys_rotated" else LogEntry.Action.ACCESS
    return LogEntry.objects.log_create(
        target,
        force_log=True,
        action=action,
        changes={},
        actor=actor if actor is not None and actor.is_authenticated else None,
        additional_data={"event": event, **(details or {})},
    )


@contextlib.contextmanager
def cli_actor() -> Iterator[str]:
    """Entries written inside name the command's OS user and host ("alice@ops-1") as actor."""
    label = f"{getpass.getuser()}@{socket.gethostname()}"
    token = _cli_actor.set(label)
    try:
        yield label
    finally:
        _cli_actor.reset(token)


def _label_cli_actor(instance: LogEntry, **_: Any) -> None:
    label = _cli_actor.get()
    if label is not None and instance.actor_id is None:
        instance.additional_data = {**(instance.additional_data or {}), "cli": label}


class AuditMiddleware(AuditlogMiddleware):
    """auditlog's middleware, taking the client's address as the login lockout does (the
    X-Forwarded-For hop PROXY_COUNT says), not from whatever header a client sends."""

    @staticmethod
    def _get_remote_addr(request: HttpRequest) -> str | None:
        return client_address(request)

    @staticmethod
    def _get_remote_port(request: HttpRequest) -> int | None:
        return None


def actor_label(entry: LogEntry) -> str:
    """Who made it: a username, "CLI: alice@ops-1", or "system"."""
    if entry.actor is not None:
        return entry.actor.get_username()
    cli = (entry.additional_data or {}).get("cli")
    if cli:
        return gettext("CLI: %(who)s") % {"who": cli}
    return gettext("system")


def what_happened(entry: LogEntry) -> str:
    """One line: the event and its details, or each changed field as old → new."""
    data = entry.additional_data or {}
    event = data.get("event")
    if event:
        details = [f"{key}: {value}" for key, value in data.items() if key not in ("event", "cli")]
        return "; ".join([str(EVENTS.get(event, event)), *details])
    if entry.action == LogEntry.Action.DELETE:
        return gettext("deleted")
    changes = entry.changes_dict
    if entry.action == LogEntry.Action.CREATE:
        fields = [name for name in changes if name not in ("id", SECRET_FIELD)]
        parts = [f"{_field_label(entry, name)}: {changes[name][1]}" for name in fields]
        if SECRET_FIELD in changes:
            parts.append(gettext("secret key set"))
        return "; ".join([pgettext("audit", "created"), *parts])
    return "; ".join(_field_change(entry, name, change) for name, change in changes.items())


def _field_change(entry: LogEntry, name: str, change: Any) -> str:
    if name == SECRET_FIELD:
        return gettext("secret key replaced")
    label = _field_label(entry, name)
    if isinstance(change, dict) and change.get("type") == "m2m":
        objects = ", ".join(change.get("objects", []))
        if change.get("operation") == "add":
            return gettext("%(field)s: added %(objects)s") % {"field": label, "objects": objects}
        return gettext("%(field)s: removed %(objects)s") % {"field": label, "objects": objects}
    old, new = change
    return f"{label}: {old} → {new}"


def _field_label(entry: LogEntry, name: str) -> str:
    model = entry.content_type.model_class() if entry.content_type_id else None
    try:
        return str(model._meta.get_field(name).verbose_name) if model else name
    except FieldDoesNotExist:  # a field since removed from the model: its stored name
        return name
