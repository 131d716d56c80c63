import pytest
from django.urls import reverse

from firmware.access import visible_orgs
from tests.conftest import PASSWORD, make_org


@pytest.mark.django_db
def test_granted_user_sees_org_on_home_page(operator_client, org):
    response = operator_client.get(reverse("firmware:home"))
    assert response.status_code == 200
    assert org.name in response.content.decode()
    assert operator_client.get(org.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_group_grant_lets_members_see_the_org(client, org, outsider, group):
    outsider.groups.add(group)
    org.granted_groups.add(group)
    client.force_login(outsider)
    assert list(visible_orgs(outsider)) == [org]
    assert client.get(org.get_absolute_url()).status_code == 200


@pytest.mark.django_db
def test_outsider_gets_404_for_an_org_not_granted(client, org, outsider):
    client.force_login(outsider)
    assert client.get(org.get_absolute_url()).status_code == 404
    assert org.name not in client.get(reverse("firmware:home")).content.decode()


@pytest.mark.django_db
def test_unknown_org_and_hidden_org_answer_the_same_404(client, org, outsider):
    client.force_login(outsider)
    assert client.get("/orgs/no-such-org/").status_code == 404
    assert client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_superuser_sees_every_enabled_org(client, org, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    other = make_org("http://127.0.0.1:9", slug="other")
    assert set(visible_orgs(admin)) == {org, other}


@pytest.mark.django_db
def test_disabled_org_is_hidden_even_when_granted(operator_client, org):
    org.enabled = False
    org.save()
    assert operator_client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_anonymous_is_sent_to_login(client, org):
    for url in (reverse("firmware:home"), org.get_absolute_url(), "/orgs/demo/firmware/fw-1/"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login") + "?next=")


@pytest.mark.django_db
def test_login_page_and_health_check_need_no_login(client):
    assert client.get(reverse("login")).status_code == 200
    assert client.get(reverse("firmware:healthz")).status_code == 200


@pytest.mark.django_db
def test_user_logs_in_with_username_and_password(client, granted, org):
    response = client.post(
        reverse("login"), {"username": "operator", "password": PASSWORD}, follow=True
    )
    assert response.status_code == 200
    assert response.wsgi_request.user.is_authenticated
    assert org.name in response.content.decode()


@pytest.mark.django_db
def test_revoking_a_grant_takes_effect_at_once(operator_client, org, operator):
    assert operator_client.get(org.get_absolute_url()).status_code == 200
    org.granted_users.remove(operator)
    assert operator_client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_leaving_a_group_takes_effect_at_once(client, org, outsider, group):
    outsider.groups.add(group)
    org.granted_groups.add(group)
    client.force_login(outsider)
    assert client.get(org.get_absolute_url()).status_code == 200
    outsider.groups.remove(group)
    assert client.get(org.get_absolute_url()).status_code == 404
    outsider.groups.add(group)
    group.delete()
    assert client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_superuser_demoted_loses_access_at_once(client, org, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password=PASSWORD)
    client.force_login(admin)
    assert client.get(org.get_absolute_url()).status_code == 200
    admin.is_superuser = False
    admin.save()
    assert client.get(org.get_absolute_url()).status_code == 404


@pytest.mark.django_db
def test_edited_org_credentials_are_used_at_once(operator_client, org):
    url = "/orgs/demo/firmware/fw-turbine-ctrl-3.2.1/"
    assert "version <bdi>3.2.1</bdi>" in operator_client.get(url).content.decode()
    org.org_id = "o16000000000002"
    org.save()
    assert "version <bdi>3.3.0</bdi>" in operator_client.get(url).content.decode()
