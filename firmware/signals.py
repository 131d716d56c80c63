"""Changes that can alter who may see an org drop the cached access answers."""

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.db.models.signals import m2m_changed, post_delete, post_save

from firmware.access import forget_access_answers
from firmware.models import Org


def _forget(**_: Any) -> None:
    forget_access_answers()


def _user_saved(update_fields: frozenset[str] | None = None, **_: Any) -> None:
    if update_fields != frozenset({"last_login"}):  # a login changes nobody's access
        forget_access_answers()


def connect() -> None:
    user_model = get_user_model()
    for model in (Org, Group, user_model):
        post_delete.connect(_forget, sender=model, dispatch_uid=f"access-{model.__name__}-delete")
    post_save.connect(_forget, sender=Org, dispatch_uid="access-org-save")
    post_save.connect(_user_saved, sender=user_model, dispatch_uid="access-user-save")
    for through in (
        Org.granted_users.through,
        Org.granted_groups.through,
        user_model.groups.through,
    ):
        m2m_changed.connect(_forget, sender=through, dispatch_uid=f"access-{through.__name__}")
