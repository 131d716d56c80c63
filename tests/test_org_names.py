"""Org names are unique, ignoring case: in the database, and across an upgrade over twins."""

import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from firmware.models import Org
from tests.conftest import make_org

BEFORE = ("firmware", "0005_shared_cache_table")
UNIQUE_NAMES = ("firmware", "0006_org_name_unique_ignoring_case")


@pytest.mark.django_db
def test_a_second_org_of_the_same_name_in_any_case_is_refused(simulator):
    make_org(simulator.url, slug="demo", name="Demo Wind Farm")
    with pytest.raises(ValidationError) as excinfo:
        make_org(simulator.url, slug="demo-2", name="demo WIND farm")
    assert excinfo.value.message_dict == {
        "name": ["An organization named “Demo Wind Farm” already exists."]
    }
    twin = Org(slug="demo-3", name="DEMO WIND FARM", org_id="o1", gateway_url=simulator.url)
    twin.set_secret_key("s")
    with pytest.raises(IntegrityError), transaction.atomic():
        twin.save()  # the database refuses it too, whatever skips validation
    assert Org.objects.count() == 1


@pytest.mark.django_db
def test_an_org_keeps_or_recases_its_own_name(simulator):
    org = make_org(simulator.url, slug="demo", name="Demo Wind Farm")
    org.full_clean()
    org.name = "DEMO Wind Farm"
    org.full_clean()
    org.save()


def _migrate(target):
    executor = MigrationExecutor(connection)
    executor.migrate([target])
    return executor.loader.project_state([target]).apps


@pytest.mark.django_db(transaction=True)
def test_upgrading_a_database_with_twins_renames_the_later_ones():
    latest = MigrationExecutor(connection).loader.graph.leaf_nodes("firmware")[0]
    try:
        old_org = _migrate(BEFORE).get_model("firmware", "Org")
        long_name = "W" * 200
        names = [
            "Demo Wind Farm",
            "Solar Park",
            "demo wind farm",
            "Demo Wind Farm (2)",
            "DEMO WIND FARM",
            long_name,
            long_name.lower(),
        ]
        for number, name in enumerate(names):
            old_org.objects.create(
                name=name,
                slug=f"org-{number}",
                org_id="o1",
                gateway_url="https://gw.example.com",
                access_key="k",
                secret_key_encrypted="x",
            )
        new_org = _migrate(UNIQUE_NAMES).get_model("firmware", "Org")
        renamed = list(new_org.objects.order_by("pk").values_list("slug", "name"))
        assert renamed == [
            ("org-0", "Demo Wind Farm"),
            ("org-1", "Solar Park"),
            ("org-2", "demo wind farm (3)"),  # "(2)" was taken, in another case
            ("org-3", "Demo Wind Farm (2)"),
            ("org-4", "DEMO WIND FARM (4)"),
            ("org-5", long_name),
            ("org-6", "w" * 196 + " (2)"),  # still within the 200 characters a name may have
        ]
        with pytest.raises(IntegrityError):
            new_org.objects.create(name="solar PARK", slug="again", secret_key_encrypted="x")
    finally:
        _migrate(latest)


@pytest.mark.django_db
def test_the_demo_can_be_set_up_twice_and_keeps_a_renamed_org(simulator):
    for _ in range(2):
        call_command("demo", "--gateway-url", simulator.url, stdout=io.StringIO())
    assert list(Org.objects.order_by("slug").values_list("slug", "name")) == [
        ("demo", "Demo Wind Farm"),
        ("demo-solar", "Demo Solar Park"),
    ]
    Org.objects.filter(slug="demo").update(name="Demo Wind Farm (old)")
    call_command("demo", "--gateway-url", simulator.url, stdout=io.StringIO())
    assert Org.objects.get(slug="demo").name == "Demo Wind Farm (old)"


@pytest.mark.django_db
def test_the_demo_names_the_problem_when_another_org_has_a_demo_name(simulator):
    make_org(simulator.url, slug="mine", name="demo solar park")
    with pytest.raises(CommandError, match="demo org demo-solar: An organization named"):
        call_command("demo", "--gateway-url", simulator.url, stdout=io.StringIO())
    assert list(Org.objects.values_list("slug", flat=True)) == ["mine"]  # nothing half-made
