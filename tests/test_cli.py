import io
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from enos_simulator import DEMO_APP_KEY, DEMO_APP_SECRET, DEMO_ORG_ID
from firmware.models import Org

ROOT = Path(__file__).resolve().parent.parent


def orgs(*args, stdin="", monkeypatch=None):
    monkeypatch.setattr(sys, "stdin", io.StringIO(stdin))
    out, err = io.StringIO(), io.StringIO()
    call_command("orgs", *args, stdout=out, stderr=err)
    return out.getvalue()


def add_args(slug="acme", url="https://gw.example.com", **overrides):
    options = {
        "--name": "Acme Wind",
        "--org-id": DEMO_ORG_ID,
        "--gateway-url": url,
        "--access-key": DEMO_APP_KEY,
        **overrides,
    }
    return ["add", slug, *[part for item in options.items() for part in item]]


@pytest.mark.django_db
def test_add_reads_the_secret_from_stdin_and_creates_the_org(monkeypatch):
    output = orgs(*add_args(), stdin="the-secret\nignored\n", monkeypatch=monkeypatch)
    org = Org.objects.get(slug="acme")
    assert output.strip() == "Created org acme"
    assert org.secret_key == "the-secret"
    assert org.gateway_url == "https://gw.example.com"


@pytest.mark.django_db
def test_add_again_updates_the_org(monkeypatch):
    orgs(*add_args(), stdin="first\n", monkeypatch=monkeypatch)
    output = orgs("add", "acme", "--name", "Acme Renamed", "--keep-secret", monkeypatch=monkeypatch)
    org = Org.objects.get(slug="acme")
    assert output.strip() == "Updated org acme"
    assert (org.name, org.secret_key) == ("Acme Renamed", "first")
    orgs("add", "acme", "--disable", stdin="second\n", monkeypatch=monkeypatch)
    org.refresh_from_db()
    assert (org.enabled, org.secret_key) == (False, "second")


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("args", "stdin", "message"),
    [
        (add_args(), "\n", "secret key (first line of standard input) is empty"),
        (add_args(), "", "secret key (first line of standard input) is empty"),
        (add_args(url="not a url"), "s\n", "gateway_url"),
        (add_args(url="ftp://gw.example.com"), "s\n", "gateway_url"),
        (add_args(slug="Bad Slug!"), "s\n", "slug"),
        (add_args(**{"--org-id": "o1;drop"}), "s\n", "org_id"),
        (["add", "acme", "--name", "Only a name"], "s\n", "a new org needs --org-id"),
        (["add", "acme", "--keep-secret", *add_args()[2:]], "", "--keep-secret is for existing"),
        (["grant", "nope", "--user", "operator"], "", "unknown org: nope"),
        (["grant", "acme", "--user", "nobody"], "", "unknown user: nobody"),
        (["grant", "acme", "--group", "nogroup"], "", "unknown group: nogroup"),
        (["test", "nope"], "", "unknown org: nope"),
    ],
)
def test_bad_input_is_one_clear_error_and_changes_nothing(
    args, stdin, message, monkeypatch, operator
):
    if args[1] == "acme" and args[0] == "grant":
        orgs(*add_args(), stdin="s\n", monkeypatch=monkeypatch)
    before = list(Org.objects.values_list("slug", "name", "gateway_url", "secret_key_encrypted"))
    with pytest.raises(CommandError) as excinfo:
        orgs(*args, stdin=stdin, monkeypatch=monkeypatch)
    assert message in str(excinfo.value)
    assert "\n" not in str(excinfo.value)
    after = list(Org.objects.values_list("slug", "name", "gateway_url", "secret_key_encrypted"))
    assert after == before


@pytest.mark.django_db
def test_grant_revoke_and_list_never_show_the_secret(monkeypatch, operator, group):
    orgs(*add_args(), stdin="top-secret-value\n", monkeypatch=monkeypatch)
    assert "Granted user operator" in orgs(
        "grant", "acme", "--user", "operator", monkeypatch=monkeypatch
    )
    assert "Granted group field-ops" in orgs(
        "grant", "acme", "--group", "field-ops", monkeypatch=monkeypatch
    )
    listing = orgs("list", monkeypatch=monkeypatch)
    header, row = listing.splitlines()
    assert header.split() == ["SLUG", "NAME", "ORGID", "GATEWAY", "ENABLED", "GRANTS"]
    assert row.split()[0] == "acme"
    assert "user:operator,group:field-ops" in row
    assert "top-secret-value" not in listing
    orgs("revoke", "acme", "--user", "operator", monkeypatch=monkeypatch)
    assert "user:operator" not in orgs("list", monkeypatch=monkeypatch)


@pytest.mark.django_db
def test_test_prints_ok_with_good_credentials(monkeypatch, simulator):
    orgs(*add_args(url=simulator.url), stdin=DEMO_APP_SECRET + "\n", monkeypatch=monkeypatch)
    output = orgs("test", "acme", monkeypatch=monkeypatch)
    assert output.startswith("OK: acme got an EnOS access token")
    assert f"answered a firmware search of orgId {DEMO_ORG_ID} (" in output
    assert simulator.counters["token_get"] == 1
    assert simulator.counters["search"] == 1


@pytest.mark.django_db
def test_test_fails_for_an_org_the_keys_cannot_read(monkeypatch, simulator):
    args = add_args(url=simulator.url, **{"--org-id": "o99999999999999"})
    orgs(*args, stdin=DEMO_APP_SECRET + "\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="EnOS 403: no permission for this organization"):
        orgs("test", "acme", monkeypatch=monkeypatch)
    assert simulator.counters["token_get"] == 1


@pytest.mark.django_db
def test_test_reports_the_enos_reason_and_fails(monkeypatch, simulator):
    orgs(*add_args(url=simulator.url), stdin="wrong-secret\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError) as excinfo:
        orgs("test", "acme", monkeypatch=monkeypatch)
    assert "EnOS 1003" in str(excinfo.value)
    assert "wrong-secret" not in str(excinfo.value)
    orgs("add", "acme", "--access-key", "nobody-knows-me", "--keep-secret", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="EnOS 1002"):
        orgs("test", "acme", monkeypatch=monkeypatch)


@pytest.mark.django_db
def test_test_reports_an_unreachable_gateway(monkeypatch):
    orgs(*add_args(url="http://127.0.0.1:9"), stdin="s\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="could not be reached"):
        orgs("test", "acme", monkeypatch=monkeypatch)


@pytest.mark.django_db
def test_rotate_keys_reencrypts_every_org_with_the_newest_key(monkeypatch, settings):
    from cryptography.fernet import Fernet

    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    settings.CREDENTIALS_KEYS = [old]
    orgs(*add_args(), stdin="rotate-me\n", monkeypatch=monkeypatch)
    settings.CREDENTIALS_KEYS = [new, old]
    assert "of 1 orgs" in orgs("rotate-keys", monkeypatch=monkeypatch)
    settings.CREDENTIALS_KEYS = [new]
    assert Org.objects.get(slug="acme").secret_key == "rotate-me"


@pytest.mark.django_db
def test_rotate_keys_changes_nothing_when_a_secret_cannot_be_decrypted(monkeypatch, settings):
    from cryptography.fernet import Fernet

    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    orgs(*add_args(), stdin="lost\n", monkeypatch=monkeypatch)
    before = Org.objects.get(slug="acme").secret_key_encrypted
    settings.CREDENTIALS_KEYS = [Fernet.generate_key().decode()]
    with pytest.raises(CommandError, match="cannot be decrypted"):
        orgs("rotate-keys", monkeypatch=monkeypatch)
    assert Org.objects.get(slug="acme").secret_key_encrypted == before


def test_end_to_end_add_grant_login_and_the_database_file_holds_no_plaintext(tmp_path):
    """The foundation's definition of done, in real processes on a real SQLite file."""
    database = tmp_path / "fwportal.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "DEBUG": "1"}
    secret = "plaintext-secret-9f8e7d"

    def manage(*args, stdin=""):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert manage("migrate", "--noinput").returncode == 0
    created = manage(
        "shell",
        "-c",
        "from django.contrib.auth.models import User; "
        "User.objects.create_user('ana', password='pw-for-ana-123')",
    )
    assert created.returncode == 0, created.stderr
    added = manage("orgs", *add_args(url="https://gw.example.com"), stdin=secret + "\n")
    assert added.returncode == 0, added.stderr
    assert manage("orgs", "grant", "acme", "--user", "ana").returncode == 0
    bad = manage("orgs", "grant", "acme", "--user", "nobody")
    assert bad.returncode != 0
    assert bad.stderr.strip().splitlines()[-1] == "CommandError: unknown user: nobody"
    listing = manage("orgs", "list")
    assert "user:ana" in listing.stdout
    assert secret not in listing.stdout + listing.stderr + added.stdout + added.stderr
    home = manage(
        "shell",
        "-c",
        "from django.test import Client; c = Client(HTTP_HOST='localhost'); "
        "r = c.post('/accounts/login/', {'username': 'ana', 'password': 'pw-for-ana-123'}); "
        "assert r.status_code == 302, r.status_code; "
        "print(c.get('/').content.decode())",
    )
    assert home.returncode == 0, home.stderr
    assert "Acme Wind" in home.stdout
    assert secret.encode() not in database.read_bytes()


@pytest.mark.django_db
def test_test_asks_enos_every_time_even_with_a_cached_token(monkeypatch, simulator):
    orgs(*add_args(url=simulator.url), stdin=DEMO_APP_SECRET + "\n", monkeypatch=monkeypatch)
    orgs("test", "acme", monkeypatch=monkeypatch)
    simulator.stop()
    with pytest.raises(CommandError, match="could not be reached"):
        orgs("test", "acme", monkeypatch=monkeypatch)


@pytest.mark.django_db
def test_revoking_a_grant_that_does_not_exist_says_so_and_fails(monkeypatch, operator, group):
    orgs(*add_args(), stdin="s\n", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="user operator has no grant to acme"):
        orgs("revoke", "acme", "--user", "operator", monkeypatch=monkeypatch)
    with pytest.raises(CommandError, match="group field-ops has no grant to acme"):
        orgs("revoke", "acme", "--group", "field-ops", monkeypatch=monkeypatch)


def test_commands_print_no_library_start_up_chatter():
    checked = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert checked.returncode == 0, checked.stderr
    assert checked.stdout.strip() == "System check identified no issues (0 silenced)."
    assert "AXES" not in checked.stderr
    assert checked.stderr == ""


@pytest.mark.django_db
@pytest.mark.parametrize("name", ["Acme Wind", "ACME wind"])
def test_add_refuses_a_name_another_org_has_in_any_case(name, monkeypatch):
    orgs(*add_args(), stdin="s\n", monkeypatch=monkeypatch)
    orgs(*add_args(slug="other", **{"--name": "Other"}), stdin="s\n", monkeypatch=monkeypatch)
    before = list(Org.objects.values_list("slug", "name", "secret_key_encrypted"))
    for args in (add_args(slug="twin", **{"--name": name}), ["add", "other", "--name", name]):
        with pytest.raises(CommandError) as excinfo:
            orgs(*args, stdin="s\n", monkeypatch=monkeypatch)
        assert str(excinfo.value) == (
            f"the name “{name}” is already used by org acme (names are unique, ignoring case)"
        )
    assert list(Org.objects.values_list("slug", "name", "secret_key_encrypted")) == before
    # The org itself may keep its name, or change its case.
    orgs("add", "acme", "--name", name, "--keep-secret", monkeypatch=monkeypatch)
    assert Org.objects.get(slug="acme").name == name


def test_a_taken_name_is_one_command_error_line_and_exit_1(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}

    def manage(*args):
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            input="s\n",
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    assert manage("migrate", "--noinput").returncode == 0
    assert manage("orgs", *add_args(slug="demo", **{"--name": "Demo Wind Farm"})).returncode == 0
    twin = manage("orgs", *add_args(slug="demo-2", **{"--name": "demo wind farm"}))
    assert twin.returncode == 1
    assert twin.stderr.strip() == (
        "CommandError: the name “demo wind farm” is already used by org demo "
        "(names are unique, ignoring case)"
    )
    assert "demo-2" not in manage("orgs", "list").stdout


def test_the_readme_names_the_demos_port_variables_and_how_to_run_manage_py():
    readme = (ROOT / "README.md").read_text()
    demo = (ROOT / "scripts" / "demo.sh").read_text()
    variables = dict(re.findall(r'"\$\{([A-Z_]+):-(\d+)\}"', demo))
    assert variables == {"SIMULATOR_PORT": "8090", "PORT": "8000"}
    for name, default in variables.items():
        assert f"`{name}`" in readme
        assert default in readme
    quick_start = readme.split("## Quick start")[1].split("## ")[0]
    commands = quick_start.split("```sh\n")[1].split("```")[0].splitlines()
    assert [line.split()[0] for line in commands] == ["scripts/demo.sh", "scripts/test.sh"]
    assert "`.venv/bin/python manage.py …`" in quick_start
    assert "source .venv/bin/activate" in readme.split("## Managing organizations")[1]
