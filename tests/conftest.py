import html

import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import caches

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID, Simulator
from firmware.enos import auth
from firmware.models import Org

PASSWORD = "correct horse battery staple"


def text_of(response) -> str:
    """A response's page as the reader sees it: decoded, entities unescaped."""
    return html.unescape(response.content.decode())


@pytest.fixture(autouse=True)
def _isolated(settings):
    """Each test starts with empty caches and serves static files without a manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture
def simulator():
    with Simulator(host="127.0.0.1", port=0) as sim:
        yield sim


def make_org(
    gateway_url: str, *, slug: str = "demo", secret: str = DEMO_APP_SECRET, **fields
) -> Org:
    org = Org(
        slug=slug,
        name=fields.pop("name", slug.title()),
        org_id=fields.pop("org_id", DEMO_ORG_ID),
        gateway_url=gateway_url,
        access_key=fields.pop("access_key", DEMO_APP_KEY),
        **fields,
    )
    org.set_secret_key(secret)
    org.full_clean()
    org.save()
    return org


@pytest.fixture
def org(db, simulator):
    return make_org(simulator.url)


@pytest.fixture
def operator(db):
    return User.objects.create_user("operator", password=PASSWORD)


@pytest.fixture
def outsider(db):
    return User.objects.create_user("outsider", password=PASSWORD)


@pytest.fixture
def granted(org, operator):
    org.granted_users.add(operator)
    return operator


@pytest.fixture
def operator_client(client, granted):
    client.force_login(granted)
    return client


@pytest.fixture
def group(db):
    return Group.objects.create(name="field-ops")


@pytest.fixture
def signatures(monkeypatch):
    """Every (access token, signature) pair the client computes, recorded on the way through."""
    seen = []
    real = auth.request_signature

    def recording(access_token, query, body, timestamp, secret_key):
        signature = real(access_token, query, body, timestamp, secret_key)
        seen.append((access_token, signature))
        return signature

    monkeypatch.setattr(auth, "request_signature", recording)
    return seen
