"""The API tokens page: a user makes a token (shown once), lists and revokes their own; an admin
sees and revokes anyone's and can change nothing else."""

import re

import pytest
from django.contrib.auth.models import User

from firmware import tokens
from firmware.models import ApiToken
from tests.conftest import PASSWORD, text_of

TOKEN = re.compile(r'id="new-token-value"[^>]* value="(fwp_[A-Za-z0-9_-]{43})"')


@pytest.mark.django_db
def test_a_new_token_is_shown_once_and_then_works(operator_client, granted):
    made = operator_client.post("/tokens/", {"name": "nightly CI", "expires": "30"})
    assert (made.status_code, made["Location"]) == (302, "/tokens/")
    response = operator_client.get("/tokens/")
    assert response["Cache-Control"].startswith("max-age=0")
    raw = TOKEN.search(response.content.decode()).group(1)
    token = ApiToken.objects.get(user=granted)
    assert token.name == "nightly CI"
    assert token.expires_at is not None
    assert 29 <= (token.expires_at - token.created_at).days <= 30
    listing = operator_client.get("/tokens/")
    assert raw not in listing.content.decode()  # never again
    assert token.hint in text_of(listing)
    api = operator_client.get("/api/v1/orgs/", HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert api.status_code == 200


@pytest.mark.django_db
def test_a_token_without_a_name_is_refused(operator_client):
    response = operator_client.post("/tokens/", {"name": " ", "expires": "never"})
    assert response.status_code == 400
    assert not ApiToken.objects.exists()


@pytest.mark.django_db
def test_a_user_revokes_their_own_token_but_not_anothers(operator_client, granted, outsider):
    mine = tokens.create(granted, "mine")
    theirs = tokens.create(outsider, "theirs")
    assert operator_client.post(f"/tokens/{theirs.token.pk}/revoke/").status_code == 404
    assert ApiToken.objects.get(pk=theirs.token.pk).revoked_at is None
    response = operator_client.post(f"/tokens/{mine.token.pk}/revoke/", follow=True)
    assert "“mine” is revoked" in text_of(response)
    assert ApiToken.objects.get(pk=mine.token.pk).revoked_at is not None
    denied = operator_client.get("/api/v1/orgs/", HTTP_AUTHORIZATION=f"Bearer {mine.raw}")
    assert denied.status_code == 401
    assert "theirs" not in text_of(operator_client.get("/tokens/"))


@pytest.mark.django_db
def test_the_tokens_page_needs_a_login(client):
    response = client.get("/tokens/")
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


@pytest.mark.django_db
def test_the_tokens_page_is_translated(operator_client):
    page = text_of(operator_client.get("/tokens/", HTTP_ACCEPT_LANGUAGE="ja"))
    assert "API トークン" in page
    assert "トークンを作成" in page


@pytest.mark.django_db
def test_an_admin_revokes_anyones_token_and_changes_nothing_else(client, outsider):
    token = tokens.create(outsider, "theirs")
    client.force_login(User.objects.create_superuser("boss", password=PASSWORD))
    listing = client.get("/admin/firmware/apitoken/")
    assert listing.status_code == 200
    assert "theirs" in text_of(listing)
    assert client.get("/admin/firmware/apitoken/add/").status_code == 403
    response = client.post(
        "/admin/firmware/apitoken/",
        {"action": "revoke", "_selected_action": [token.token.pk]},
        follow=True,
    )
    assert "1 token revoked." in text_of(response)
    assert ApiToken.objects.get(pk=token.token.pk).revoked_at is not None
    change = client.post(f"/admin/firmware/apitoken/{token.token.pk}/change/", {"name": "renamed"})
    assert change.status_code == 403
    assert ApiToken.objects.get(pk=token.token.pk).name == "theirs"
