"""Error reports with DEBUG on: Django's technical 500 page for a page that broke inside the EnOS
client shows where it broke, but no access token, request signature or secret key."""

import json
import sys
import uuid

import pytest
import urllib3.connection
from django.conf import settings as django_settings
from django.test import RequestFactory
from django.urls import reverse
from django.views.debug import ExceptionReporter

from enos_simulator import DEMO_ORG_ID
from firmware import error_reports
from firmware.enos import bulkhead, transport
from tests.conftest import make_org, text_of

TURBINE = "fw-turbine-ctrl-3.2.1"
STARS = error_reports.SecretsFilter.cleansed_substitute
ACCESS_KEY = "reports-access-key"


class Broken(RuntimeError):
    """A failure no EnOS error handler expects: it reaches Django as a 500."""


@pytest.fixture
def secret(simulator):
    """The org's secret key: random, so finding it in a page cannot be a coincidence."""
    value = f"secret-{uuid.uuid4().hex}"
    simulator.add_app(ACCESS_KEY, value, [DEMO_ORG_ID])
    return value


@pytest.fixture
def debug_client(client, simulator, secret, operator, settings):
    """An operator's client of the org, with DEBUG on, that gets 500 pages instead of raising."""
    settings.DEBUG = True
    make_org(simulator.url, secret=secret, access_key=ACCESS_KEY).granted_users.add(operator)
    client.force_login(operator)
    client.raise_request_exception = False
    return client


def break_parsing_the_answer(monkeypatch):
    """The JSON of the firmware answer cannot be read, after the token was fetched."""
    real = transport._checked

    def checked(status, headers, content):
        if b"accessToken" in content:
            return real(status, headers, content)
        raise Broken("the firmware answer cannot be parsed")

    monkeypatch.setattr(transport, "_checked", checked)


def break_sending_the_request(monkeypatch):
    """urllib3 fails while it sends the signed firmware request (its headers are in locals)."""
    real = urllib3.connection.HTTPConnection.putrequest

    def putrequest(self, method, url, *args, **kwargs):
        if "/connect-service/" in url:
            raise Broken("the firmware request cannot be sent")
        return real(self, method, url, *args, **kwargs)

    monkeypatch.setattr(urllib3.connection.HTTPConnection, "putrequest", putrequest)


def break_building_the_client(monkeypatch):
    """The client cannot be built, while client_for holds the decrypted secret key."""

    def slots_for(key, size):
        raise Broken("no slots")

    monkeypatch.setattr(bulkhead, "slots_for", slots_for)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("breaks", "frames"),
    [
        (break_parsing_the_answer, ["get_firmware", "_call", "_business", "exchange"]),
        (break_sending_the_request, ["_business", "exchange", "urlopen", "_make_request"]),
        (break_building_the_client, ["get_firmware", "client_for", "__init__"]),
    ],
    ids=["parse", "send", "client"],
)
def test_the_debug_page_shows_no_token_signature_or_secret_key(
    debug_client, monkeypatch, signatures, secret, breaks, frames
):
    breaks(monkeypatch)
    url = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": TURBINE})
    response = debug_client.get(url)
    assert response.status_code == 500
    page = text_of(response)
    assert "Broken at /orgs/demo/firmware/" in page, "not Django's technical 500 page"
    for frame in frames:
        assert f", in {frame}\n" in page, frame
    assert STARS in page
    if breaks is not break_building_the_client:
        assert signatures, "the firmware request was not signed"
    for token, signature in signatures:
        assert token not in page
        assert signature not in page
    assert secret not in page
    for key in django_settings.CREDENTIALS_KEYS:
        assert key not in page
    assert django_settings.SECRET_KEY not in page


def test_a_token_answer_too_deep_to_parse_is_not_shown(settings):
    settings.DEBUG = True
    access_token = uuid.uuid4().hex
    try:
        json.loads(f'{{"data": {{"accessToken": "{access_token}"}}, "x": {"[" * 100_000}}}')
    except RecursionError:
        exc_info = sys.exc_info()
    page = ExceptionReporter(None, *exc_info).get_traceback_html()
    assert ", in raw_decode\n" in page
    assert access_token not in page


def fail_holding(api_token, org_secret, apim_signature, note):
    raise Broken("with secrets in a frame of no EnOS module")


def test_locals_named_like_secrets_are_hidden_in_any_frame(settings):
    settings.DEBUG = True
    token, secret, signature, note = (uuid.uuid4().hex for _ in range(4))
    try:
        fail_holding(token, secret, signature, note)
    except Broken:
        exc_info = sys.exc_info()
    page = ExceptionReporter(None, *exc_info).get_traceback_html()
    assert ", in fail_holding\n" in page
    assert token not in page and secret not in page and signature not in page
    assert note in page


def test_settings_and_post_parameters_named_like_secrets_are_hidden(settings):
    settings.DEBUG = True
    secret, token, name = (uuid.uuid4().hex for _ in range(3))
    request = RequestFactory().post(
        "/admin/", {"secret_key": secret, "csrfmiddlewaretoken": token, "name": name}
    )
    try:
        raise Broken("while saving an org")
    except Broken:
        exc_info = sys.exc_info()
    reporter = ExceptionReporter(request, *exc_info)
    assert isinstance(reporter.filter, error_reports.SecretsFilter)
    page = reporter.get_traceback_html()
    assert secret not in page and token not in page and name in page
    safe_settings = reporter.filter.get_safe_settings()
    assert safe_settings["CREDENTIALS_KEYS"] == STARS
    assert safe_settings["SECRET_KEY"] == STARS


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "heading", "quote"),
    [
        ("en", "Something went wrong", "When you report it, quote this reference:"),
        ("ja", "問題が発生しました", "報告の際は、次の参照番号をお伝えください:"),
    ],
)
def test_the_500_page_names_the_request_its_log_lines_carry(
    debug_client, monkeypatch, settings, secret, caplog, language, heading, quote
):
    settings.DEBUG = False
    break_parsing_the_answer(monkeypatch)
    url = reverse("firmware:firmware_detail", kwargs={"slug": "demo", "firmware_id": TURBINE})
    response = debug_client.get(url, HTTP_ACCEPT_LANGUAGE=language)
    assert response.status_code == 500
    page = text_of(response)
    request_id = response["X-Request-ID"]
    assert f'<code id="request-id">{request_id}</code>' in page
    assert f"<h1>{heading}</h1>" in page and quote in page
    assert f'<html lang="{language}">' in page
    assert "Broken" not in page and "Traceback" not in page and secret not in page
    logged = [record for record in caplog.records if record.levelname == "ERROR"]
    assert logged and all(record.request_id == request_id for record in logged)
