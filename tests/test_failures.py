"""One description of every failure, whichever surface shows it."""

import inspect

import pytest
from cryptography.fernet import Fernet
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation

from firmware.enos import errors
from firmware.failures import KINDS, describe

ERROR_CLASSES = [
    cls
    for _, cls in inspect.getmembers(errors, inspect.isclass)
    if issubclass(cls, errors.EnosError)
]


@pytest.mark.parametrize("error", ERROR_CLASSES, ids=lambda cls: cls.__name__)
def test_every_enos_error_has_its_own_kind_subclasses_included(error):
    assert error in KINDS, f"{error.__name__} falls back to another kind"
    subclass = type(f"Special{error.__name__}", (error,), {})
    fields = {"retry_after": 1} if issubclass(error, errors.RateLimited) else {}
    assert describe(subclass("x", **fields)).kind is KINDS[error]


@pytest.mark.parametrize(
    ("error", "kind", "status"),
    [
        (errors.NotFound, "not_found", 404),
        (errors.CredentialsRejected, "credentials", 502),
        (errors.CredentialsUnreadable, "undecryptable", 502),
        (errors.UpstreamError, "upstream", 502),
        (errors.BadResponse, "bad_response", 502),
        (errors.UpstreamTimeout, "timeout", 504),
        (errors.Unreachable, "unreachable", 503),
        (errors.Busy, "busy", 503),
    ],
)
def test_failure_kind_and_status(error, kind, status):
    failure = describe(error("x"))
    assert (failure.kind.name, failure.status) == (kind, status)


def test_failure_keeps_what_enos_support_asks_for():
    failure = describe(errors.UpstreamError("quota exceeded", code=31500, request_id="r-1"))
    assert (failure.code, failure.request_id, failure.message) == (31500, "r-1", "quota exceeded")
    assert failure.reason == "EnOS 31500: quota exceeded"
    assert describe(errors.Unreachable("no route")).reason == "no route"


def test_rate_limiting_says_when_to_try_again():
    failure = describe(errors.RateLimited("429", retry_after=7.2))
    assert (failure.kind.name, failure.status, failure.retry_after) == ("rate_limited", 503, 8)
    assert failure.advice_for("Acme") == (
        "EnOS asked fwportal to slow down its calls for Acme. Try again in 8 seconds."
    )


def test_an_unreadable_secret_is_explained_for_admins():
    failure = describe(errors.CredentialsUnreadable("the stored secret key cannot be decrypted"))
    assert failure.reason == "the stored secret key cannot be decrypted with CREDENTIALS_KEYS"
    assert "Acme" in describe(errors.CredentialsRejected("x")).advice_for("Acme")


def test_wording_follows_the_language():
    with translation.override("ja"):
        assert describe(errors.Unreachable("x")).kind.title == "EnOS に接続できません"


@pytest.fixture
def unreadable_org(org, granted, settings):
    """The demo org, its secret encrypted with a key CREDENTIALS_KEYS no longer holds."""
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    return org


@pytest.mark.django_db
def test_every_surface_says_an_unreadable_secret_cannot_be_read(
    unreadable_org, granted, client, admin_client, simulator, caplog
):
    client.force_login(granted)
    page = client.get(reverse("firmware:firmware_detail", args=["demo", "fw-turbine-ctrl-3.2.1"]))
    assert page.status_code == 502
    assert "This organization&#x27;s credentials cannot be read" in page.content.decode()
    found = client.get(reverse("firmware:find_firmware"), {"org": "", "firmware_id": "fw-x"})
    assert "its stored credentials cannot be read" in found.content.decode()
    changelist = reverse("admin:firmware_org_changelist")
    tested = admin_client.post(
        changelist,
        {"action": "test_connection", "_selected_action": [unreadable_org.pk]},
        follow=True,
    )
    assert "cannot be decrypted with CREDENTIALS_KEYS" in tested.content.decode()
    with pytest.raises(CommandError, match="demo: the stored secret key cannot be decrypted"):
        call_command("orgs", "test", "demo")
    assert simulator.counters["token_get"] == 0
    assert "org=demo secret key cannot be decrypted" in caplog.text


@pytest.mark.parametrize("language", ["zh-hans", "ja", "es"])
def test_every_failure_is_worded_in_every_language(language):
    for kind in set(KINDS.values()):
        for text in (kind.title, kind.advice, kind.summary):
            english = str(text)
            with translation.override(language):
                assert str(text) != english, f"{kind.name}: {english!r} is not translated"
