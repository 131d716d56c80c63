import pytest
from django.contrib.auth.models import Group
from django.contrib.messages import get_messages
from django.urls import reverse

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID
from firmware.models import Org
from tests.conftest import PASSWORD, make_org, text_of


@pytest.fixture
def admin_client(client, django_user_model):
    admin = django_user_model.objects.create_superuser("admin", password=PASSWORD)
    client.force_login(admin)
    return client


def org_form(gateway_url, **overrides):
    return {
        "name": "Acme Wind",
        "slug": "acme",
        "org_id": DEMO_ORG_ID,
        "gateway_url": gateway_url,
        "access_key": DEMO_APP_KEY,
        "secret_key": DEMO_APP_SECRET,
        "enabled": "on",
        **overrides,
    }


@pytest.mark.django_db
def test_admin_creates_an_org_with_an_encrypted_secret(admin_client, simulator):
    response = admin_client.post(reverse("admin:firmware_org_add"), org_form(simulator.url + "/"))
    assert response.status_code == 302
    org = Org.objects.get(slug="acme")
    assert org.secret_key == DEMO_APP_SECRET
    assert org.gateway_url == simulator.url


@pytest.mark.django_db
def test_new_org_without_a_secret_is_refused(admin_client, simulator):
    response = admin_client.post(
        reverse("admin:firmware_org_add"), org_form(simulator.url, secret_key="")
    )
    assert response.status_code == 200
    assert "needs its EnOS secret key" in response.content.decode()
    assert not Org.objects.exists()


@pytest.mark.django_db
def test_admin_pages_never_render_the_secret_and_blank_keeps_it(admin_client, org):
    change_url = reverse("admin:firmware_org_change", args=[org.pk])
    for url in (reverse("admin:firmware_org_changelist"), change_url):
        page = admin_client.get(url).content.decode()
        assert DEMO_APP_SECRET not in page
        assert org.secret_key_encrypted not in page
    assert (
        "Leave blank to keep the current secret key"
        in admin_client.get(change_url).content.decode()
    )
    response = admin_client.post(
        change_url, org_form(org.gateway_url, secret_key="", name="Renamed")
    )
    assert response.status_code == 302
    org.refresh_from_db()
    assert (org.name, org.secret_key) == ("Renamed", DEMO_APP_SECRET)


@pytest.mark.django_db
def test_changelist_search_and_filter(admin_client, org):
    make_org("http://127.0.0.1:9", slug="elsewhere", name="Elsewhere", org_id="o999")
    changelist = reverse("admin:firmware_org_changelist")
    found = admin_client.get(changelist, {"q": "o999"}).content.decode()
    assert "Elsewhere" in found and ">Demo<" not in found
    disabled = admin_client.get(changelist, {"enabled__exact": "0"}).content.decode()
    assert "Elsewhere" not in disabled


@pytest.mark.django_db
def test_test_connection_action_reports_success_and_enos_reasons(admin_client, org, simulator):
    wrong = make_org(simulator.url, slug="wrong", name="Wrong Secret", secret="nope")
    unknown = make_org(simulator.url, slug="unknown", name="Unknown Key", access_key="no-such-key")
    response = admin_client.post(
        reverse("admin:firmware_org_changelist"),
        {"action": "test_connection", "_selected_action": [org.pk, wrong.pk, unknown.pk]},
    )
    assert response.status_code == 302
    texts = sorted(str(m) for m in get_messages(response.wsgi_request))
    assert texts == [
        "Demo: connection OK",
        "Unknown Key: connection failed: EnOS 1002: " + texts[1].split("EnOS 1002: ")[1],
        "Wrong Secret: connection failed: EnOS 1003: " + texts[2].split("EnOS 1003: ")[1],
    ]
    assert all("nope" not in text for text in texts)
    assert simulator.counters["token_get"] == 3
    assert simulator.counters["search"] == 1  # only the org whose token came


@pytest.mark.django_db
def test_the_change_page_tests_the_org_itself_not_only_its_keys(admin_client, org, simulator):
    unreadable = make_org(simulator.url, slug="other", name="Other OU", org_id="o99999999999999")
    change_url = reverse("admin:firmware_org_change", args=[unreadable.pk])
    page = admin_client.get(change_url).content.decode()
    test_url = reverse("admin:firmware_org_test_connection", args=[unreadable.pk])
    assert f'action="{test_url}"' in page and 'id="test-connection"' in page
    assert admin_client.get(test_url).status_code == 405
    response = admin_client.post(test_url, follow=True)
    assert response.redirect_chain == [(change_url, 302)]
    assert (
        "Other OU: connection failed: EnOS 403: no permission for this organization"
        in response.content.decode()
    )
    ok = admin_client.post(
        reverse("admin:firmware_org_test_connection", args=[org.pk]), follow=True
    )
    assert "Demo: connection OK" in ok.content.decode()


@pytest.mark.django_db
def test_only_staff_may_test_a_connection(client, operator, org):
    client.force_login(operator)
    response = client.post(reverse("admin:firmware_org_test_connection", args=[org.pk]))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_admin_requires_staff(client, operator):
    client.force_login(operator)
    response = client.get(reverse("admin:firmware_org_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.django_db
def test_a_name_another_org_has_in_any_case_is_a_clear_error_on_the_name(admin_client, org):
    response = admin_client.post(
        reverse("admin:firmware_org_add"), org_form(org.gateway_url, name="DEMO", slug="demo-2")
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert errors == {"name": ["An organization named “Demo” already exists."]}
    assert "An organization named “Demo” already exists." in text_of(response)
    assert list(Org.objects.values_list("slug", flat=True)) == ["demo"]
    change_url = reverse("admin:firmware_org_change", args=[org.pk])
    itself = admin_client.post(change_url, org_form(org.gateway_url, name="DEMO", slug="demo"))
    assert itself.status_code == 302  # an org may change the case of its own name


@pytest.mark.django_db
def test_the_admin_is_fwportals_and_leads_back_to_the_dashboard(admin_client):
    page = text_of(admin_client.get(reverse("admin:index")))
    assert "Django administration" not in page
    assert "fwportal administration" in page
    assert "<title>Organizations, users and logins | fwportal admin</title>" in page
    assert f'<a href="{reverse("firmware:home")}">View site</a>' in page
    japanese = text_of(admin_client.get(reverse("admin:index"), HTTP_ACCEPT_LANGUAGE="ja"))
    assert "fwportal 管理" in japanese


@pytest.mark.django_db
def test_the_org_list_shows_the_gateway_host_and_no_access_key(admin_client, org):
    page = text_of(admin_client.get(reverse("admin:firmware_org_changelist")))
    host = org.gateway_url.split("//")[1]
    assert f'<td class="field-gateway_host">{host}</td>' in page
    assert DEMO_APP_KEY not in page


@pytest.mark.django_db
def test_a_users_page_shows_which_orgs_they_can_see_and_why(
    admin_client, simulator, django_user_model, group
):
    direct = make_org(simulator.url, slug="direct", name="Direct Farm")
    both = make_org(simulator.url, slug="both", name="Both Farm")
    via_group = make_org(simulator.url, slug="grouped", name="Grouped Farm")
    other_group = Group.objects.create(name="night-shift")
    disabled = make_org(simulator.url, slug="off", name="Disabled Farm", enabled=False)
    hidden = make_org(simulator.url, slug="hidden", name="Hidden Farm")
    ana = django_user_model.objects.create_user("ana", password=PASSWORD)
    ana.groups.add(group, other_group)
    for org in (direct, both, disabled):
        org.granted_users.add(ana)
    for org in (both, via_group):
        org.granted_groups.add(group, other_group)

    def orgs_shown(user):
        page = admin_client.get(reverse("admin:auth_user_change", args=[user.pk]))
        shown = page.context["adminform"].form.instance
        assert shown == user
        return text_of(page).split('class="orgs-they-can-see"')[-1].split("</div>")[0]

    shown = orgs_shown(ana)
    assert "Both Farm</a> (both) — granted to them; through groups field-ops, night-shift" in shown
    assert "Direct Farm</a> (direct) — granted to them</li>" in shown
    assert "Grouped Farm</a> (grouped) — through groups field-ops, night-shift" in shown
    assert "Disabled Farm" not in shown and "Hidden Farm" not in shown
    assert reverse("admin:firmware_org_change", args=[hidden.pk]) not in shown
    assert shown.index("Both") < shown.index("Direct") < shown.index("Grouped")

    boss = django_user_model.objects.create_superuser("boss", password=PASSWORD)
    shown = orgs_shown(boss)
    assert "Hidden Farm</a> (hidden) — superuser: every enabled organization" in shown
    assert "Disabled Farm" not in shown

    nobody = django_user_model.objects.create_user("nobody", password=PASSWORD)
    assert "None: no organization is granted to them." in text_of(
        admin_client.get(reverse("admin:auth_user_change", args=[nobody.pk]))
    )
    ana.is_active = False
    ana.save()
    assert "None: the account is inactive." in text_of(
        admin_client.get(reverse("admin:auth_user_change", args=[ana.pk]))
    )
