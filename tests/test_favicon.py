"""The site's icon: named by every page, and /favicon.ico (asked for unprompted) answers."""

import re

import pytest
from django.core.management import call_command


@pytest.fixture
def collected(settings, tmp_path):
    """Static files collected as in production: hashed names, served by WhiteNoise."""
    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    return tmp_path


@pytest.mark.django_db
def test_every_page_names_the_icon_under_its_hashed_name(client, collected):
    page = client.get("/accounts/login/").content.decode()
    icon = re.search(r'<link rel="icon" href="(/static/favicon\.[0-9a-f]{12}\.svg)"', page)
    assert icon, "no icon link with a hashed name"
    response = client.get(icon.group(1))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/svg+xml"
    assert b"<svg" in b"".join(response.streaming_content)


@pytest.mark.django_db
def test_favicon_ico_leads_to_the_icon_without_signing_in(client, collected):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert re.fullmatch(r"/static/favicon\.[0-9a-f]{12}\.svg", response["Location"])
    assert client.get(response["Location"]).status_code == 200


@pytest.mark.django_db
def test_favicon_ico_answers_only_get(client, collected):
    assert client.post("/favicon.ico").status_code == 405
