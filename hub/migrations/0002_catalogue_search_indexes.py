"""Catalogue indexes on PostgreSQL: the full-text GIN index and the likes sort index.

The GIN index is on the exact expression ``frontend.search`` queries with, so the planner
uses it; it is written out here (not imported) because a migration must not change when the
application code does. SQLite has no GIN indexes and searches by substring instead.
"""

from django.db import migrations

CREATE = [
    "CREATE INDEX IF NOT EXISTS hub_repo_search_v2_idx ON hub_repository USING gin ((to_tsvector('simple'::regconfig, translate(COALESCE(name, '') || ' ' || COALESCE(description, ''), '-_./:+@,', '        '))))",
    "CREATE INDEX IF NOT EXISTS hub_repo_likes_idx ON hub_repository (repo_type, likes DESC, id DESC)",
]
DROP = [
    "DROP INDEX IF EXISTS hub_repo_search_v2_idx",
    "DROP INDEX IF EXISTS hub_repo_likes_idx",
]


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in CREATE:
            schema_editor.execute(sql)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in DROP:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("hub", "0001_initial")]

    operations = [migrations.RunPython(create, drop)]
