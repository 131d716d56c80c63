"""Every URL pattern, as anonymous, as an outsider and as a granted user: a new view cannot
forget its access check, because a pattern missing from EXPECTED fails this test."""

import re

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

TURBINE = "fw-turbine-ctrl-3.2.1"
TURBINE_JOB = "job-turbine-321-verify"
LOGIN = "login"  # a redirect to /accounts/login/?next=...
ADMIN_LOGIN = "admin-login"  # a redirect to /admin/login/?next=...

# Route name -> expected answer to GET for (anonymous, outsider, granted).
EXPECTED = {
    "firmware:home": (LOGIN, 200, 200),
    "firmware:find_firmware": (LOGIN, 400, 302),  # the outsider may not pick that org
    "firmware:org_detail": (LOGIN, 404, 301),  # the org page is its firmware list now
    "firmware:firmware_list": (LOGIN, 404, 200),
    "firmware:firmware_detail": (LOGIN, 404, 200),
    "firmware:firmware_devices": (LOGIN, 404, 200),
    "firmware:firmware_download": (LOGIN, 404, 200),
    "firmware:job_list": (LOGIN, 404, 200),
    "firmware:job_detail": (LOGIN, 404, 200),
    "firmware:time_zone": (200, 200, 200),  # the login page links to it too
    "firmware:healthz": (200, 200, 200),
    "favicon": (302, 302, 302),  # to the icon under static/, for anyone
    "metrics": (404, 404, 404),  # off until METRICS_TOKEN or METRICS_ALLOWED_IPS is set
    "login": (200, 200, 200),
    "logout": (LOGIN, 405, 405),  # logging out is a POST
    "password_change": (LOGIN, 200, 200),
    "password_change_done": (LOGIN, 200, 200),
    "set_language": (302, 302, 302),  # anyone may choose a language (a POST; GET only redirects)
    "admin:login": (200, 200, 200),
    "admin:logout": (ADMIN_LOGIN, 302, 302),  # non-staff are sent to the admin index
    "firmware:api_tokens": (LOGIN, 200, 200),
    "firmware:revoke_api_token": (LOGIN, 405, 405),  # a POST
    # The API: 401 problem details, never the login redirect; 404 for orgs one may not see.
    "api-v1:openapi-json": (200, 200, 200),
    "api-v1:openapi-view": (200, 200, 200),
    "api-v1:api-root": (404, 404, 404),
    "api-v1:orgs": (401, 200, 200),
    "api-v1:firmware_list": (401, 404, 200),
    "api-v1:firmware_detail": (401, 404, 200),
    "api-v1:firmware_file": (401, 404, 200),
    "api-v1:devices_on_version": (401, 404, 200),
    "api-v1:find_firmware": (401, 200, 200),  # the outsider's orgs hold none
    "api-v1:jobs": (401, 404, 200),
    "api-v1:job_detail": (401, 404, 200),
    "api-v1:job_tasks": (401, 404, 200),
    "None": (404, 404, 404),  # any other path under /api/: a 404 problem, not a page
}
QUERY = {
    "firmware:find_firmware": f"?org=demo&firmware_id={TURBINE}",
    "api-v1:find_firmware": f"?firmware_id={TURBINE}",
}


def patterns(resolvers, prefix="", namespace=""):
    for entry in resolvers:
        if isinstance(entry, URLResolver):
            ns = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from patterns(entry.url_patterns, prefix + str(entry.pattern), ns)
        else:
            assert isinstance(entry, URLPattern)
            yield f"{namespace}{entry.name}", prefix + str(entry.pattern)


def concrete(route, org_pk, user_pk):
    samples = {
        r"<slug:slug>": "demo",
        r"<str:firmware_id>": TURBINE,
        r"<str:job_id>": TURBINE_JOB,
        r"<slug>": "demo",  # the API's (django-ninja's) patterns
        r"<firmware_id>": TURBINE,
        r"<job_id>": TURBINE_JOB,
        r"<int:token_id>": "1",
        r"(?P<rest>.*)": "no-such-endpoint/",
        r"<path:object_id>": str(org_pk),
        r"<int:pk>": str(org_pk),
        r"<id>": str(user_pk),
        r"<path:content_type_id>": "1",
        r"(?P<app_label>auth|axes|auditlog|firmware)": "firmware",
        r"(?P<url>.*)": "no-such-page/",
    }
    for placeholder, value in samples.items():
        route = route.replace(placeholder, value)
    route = route.replace("^", "").replace("$", "")
    assert not re.search(r"[<(]", route), f"no sample value for {route}"
    return "/" + route


def outcome(response):
    if response.status_code == 302 and response["Location"].startswith("/accounts/login/?next="):
        return LOGIN
    if response.status_code == 302 and response["Location"].startswith("/admin/login/?next="):
        return ADMIN_LOGIN
    return response.status_code


@pytest.mark.django_db
def test_every_url_pattern_answers_each_kind_of_user_as_expected(
    client, org, granted, outsider, simulator
):
    users = {"anonymous": None, "outsider": outsider, "granted": granted}
    seen = {}
    for name, route in patterns(get_resolver().url_patterns):
        url = concrete(route, org.pk, granted.pk) + QUERY.get(name, "")
        answers = []
        for user in users.values():
            client.logout()
            if user is not None:
                client.force_login(user)
            answers.append(outcome(client.get(url)))
        seen[(name, url)] = tuple(answers)

    unexpected = {}
    for (name, url), answers in seen.items():
        if name in EXPECTED:
            wanted = EXPECTED[name]
        elif name.startswith("admin:"):
            # Staff only. Model pages send anonymous users to the site's login first.
            anonymous = ADMIN_LOGIN if answers[0] == ADMIN_LOGIN else LOGIN
            wanted = (anonymous, ADMIN_LOGIN, ADMIN_LOGIN)
        else:
            wanted = "a row in EXPECTED"
        if answers != wanted:
            unexpected[f"{name} {url}"] = (answers, wanted)
    assert not unexpected, "\n".join(f"{k}: got {a}, want {w}" for k, (a, w) in unexpected.items())
    assert 500 not in {a for answers in seen.values() for a in answers}
    assert len(seen) > 40  # the admin's patterns were swept too
    stale = set(EXPECTED) - {name for name, _ in seen}
    assert not stale, f"EXPECTED names routes that no longer exist: {sorted(stale)}"
