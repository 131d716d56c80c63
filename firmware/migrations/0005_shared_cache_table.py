"""The table of the default shared cache (DatabaseCache), made by migrate: a site without
CACHE_URL needs no extra `createcachetable` step, and switching CACHE_URL off later still works."""

from django.conf import settings
from django.core.management.commands.createcachetable import Command as CreateCacheTable
from django.db import migrations


def create_cache_table(apps, schema_editor):
    command = CreateCacheTable()
    command.verbosity = 0
    command.create_table(
        schema_editor.connection.alias, settings.SHARED_CACHE_TABLE, dry_run=False
    )


def drop_cache_table(apps, schema_editor):
    schema_editor.execute(f"DROP TABLE IF EXISTS {settings.SHARED_CACHE_TABLE}")


class Migration(migrations.Migration):
    dependencies = [("firmware", "0004_firmware_history")]

    operations = [migrations.RunPython(create_cache_table, drop_cache_table)]
