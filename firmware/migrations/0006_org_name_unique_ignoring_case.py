"""Org names become unique, ignoring case: two orgs of one name looked the same on every page.

A database may already hold such twins, and adding the constraint over them would fail the
upgrade. So first the oldest org of each name keeps it and every later one is renamed with
" (2)", " (3)", … (the first number whose name is free), which an admin can then change; the
comparison is the database's own LOWER(), the same the constraint uses.
"""

from django.db import migrations, models
from django.db.models import Count, Value
from django.db.models.functions import Lower

NAME_MAX_LENGTH = 200


def make_names_unique(apps, schema_editor):
    Org = apps.get_model("firmware", "Org")
    orgs = Org.objects.using(schema_editor.connection.alias).annotate(lower_name=Lower("name"))
    twins = (
        orgs.values("lower_name")
        .annotate(count=Count("pk"))
        .filter(count__gt=1)
        .values_list("lower_name", flat=True)
    )
    for lower_name in list(twins):
        later = list(orgs.filter(lower_name=lower_name).order_by("pk"))[1:]
        for org in later:
            number = 2
            while True:
                suffix = f" ({number})"
                candidate = org.name[: NAME_MAX_LENGTH - len(suffix)] + suffix
                if not orgs.filter(lower_name=Lower(Value(candidate))).exists():
                    break
                number += 1
            orgs.filter(pk=org.pk).update(name=candidate)


class Migration(migrations.Migration):
    dependencies = [("firmware", "0005_shared_cache_table")]

    operations = [
        # Going back keeps the new names: they are as good as the old ones.
        migrations.RunPython(make_names_unique, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="org",
            constraint=models.UniqueConstraint(
                Lower("name"),
                name="org_name_unique_ignoring_case",
                violation_error_message="An organization with this name already exists.",
            ),
        ),
    ]
