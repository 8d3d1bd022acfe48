"""SQLite only: the FTS5 index of passages (PostgreSQL searches with to_tsvector instead)."""
from django.db import migrations

from forum_helper.library.search import CREATE_FTS_SQL, DROP_FTS_SQL


def create_fts(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(CREATE_FTS_SQL)


def drop_fts(apps, schema_editor) -> None:
    if schema_editor.connection.vendor == "sqlite":
        schema_editor.execute(DROP_FTS_SQL)


class Migration(migrations.Migration):
    dependencies = [("library", "0001_initial")]

    operations = [migrations.RunPython(create_fts, drop_fts)]
