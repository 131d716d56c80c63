import pytest
from cryptography.fernet import Fernet
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.db import connection

from firmware import credentials
from firmware.credentials import UndecryptableSecret
from firmware.models import Org

SECRET = "s3cr3t-Ω-value-that-must-not-leak"


def make(slug="acme", gateway_url="https://gw.example.com/"):
    org = Org(slug=slug, name="Acme", org_id="o1", gateway_url=gateway_url, access_key="ak")
    org.set_secret_key(SECRET)
    org.full_clean()
    org.save()
    return org


@pytest.mark.django_db
def test_secret_key_round_trips_and_is_not_stored_in_plaintext():
    org = make()
    assert Org.objects.get(pk=org.pk).secret_key == SECRET
    assert SECRET not in org.secret_key_encrypted
    with connection.cursor() as cursor:
        cursor.execute("SELECT secret_key_encrypted FROM firmware_org")
        (stored,) = cursor.fetchone()
    assert SECRET not in stored
    assert stored.startswith("gAAAA")  # a Fernet token


@pytest.mark.django_db
def test_gateway_url_loses_its_trailing_slash():
    assert make().gateway_url == "https://gw.example.com"


@pytest.mark.django_db
@pytest.mark.parametrize("url", ["ftp://gw.example.com", "gw.example.com", "javascript:alert(1)"])
def test_gateway_url_must_be_http_or_https(url):
    with pytest.raises(ValidationError) as excinfo:
        make(gateway_url=url)
    assert "gateway_url" in excinfo.value.message_dict


def test_rotation_new_key_encrypts_old_keys_still_decrypt(settings):
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    token = credentials.encrypt(SECRET)
    settings.CREDENTIALS_KEYS = [new, old]
    assert credentials.decrypt(token) == SECRET
    rotated = credentials.reencrypt(token)
    settings.CREDENTIALS_KEYS = [new]
    assert credentials.decrypt(rotated) == SECRET
    with pytest.raises(UndecryptableSecret):
        credentials.decrypt(token)


def test_bad_credentials_keys_are_reported_as_configuration(settings):
    settings.CREDENTIALS_KEYS = ["not-a-fernet-key"]
    with pytest.raises(ImproperlyConfigured):
        credentials.encrypt(SECRET)
    settings.CREDENTIALS_KEYS = []
    with pytest.raises(ImproperlyConfigured):
        credentials.encrypt(SECRET)
