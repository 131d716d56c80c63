"""Visitors who have not logged in yet may choose the language, starting on the login page."""

import pytest
from django.urls import reverse

from tests.conftest import text_of

LOGIN_WITH_NEXT = "/accounts/login/?next=/orgs/demo/"


@pytest.mark.django_db
def test_anonymous_visitor_switches_the_login_page_to_japanese_and_keeps_next(client):
    assert "Log in" in text_of(client.get(LOGIN_WITH_NEXT))
    response = client.post(reverse("set_language"), {"language": "ja", "next": LOGIN_WITH_NEXT})
    assert response.status_code == 302
    assert response["Location"] == LOGIN_WITH_NEXT
    assert response.cookies["django_language"].value == "ja"
    page = text_of(client.get(response["Location"]))
    assert '<html lang="ja">' in page
    assert "ログイン" in page
    assert 'name="next" value="/orgs/demo/"' in page


@pytest.mark.django_db
@pytest.mark.parametrize("next_url", ["https://evil.example.com/", "//evil.example.com/x"])
def test_the_language_switch_never_sends_a_visitor_to_another_site(client, next_url):
    response = client.post(reverse("set_language"), {"language": "es", "next": next_url})
    assert response.status_code == 302
    assert "evil" not in response["Location"]
    assert response.cookies["django_language"].value == "es"
