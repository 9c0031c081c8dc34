"""The schema's indexes, read back from the database the suite runs on (SQLite or PostgreSQL).

Two properties, checked for every table of the project's apps:

* every foreign-key column leads some index (a unique constraint counts), so deleting a
  parent or joining from it never scans the child table;
* no plain index is made redundant by another that starts with the same columns: a
  redundant index serves no lookup the other does not, and costs every insert (the
  mirror writes millions of repository, commit, file and tag rows).
"""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection, models

pytestmark = pytest.mark.django_db

APPS = ("hub", "licenses", "workers")


def _tables() -> list[type[models.Model]]:
    return [
        model
        for app in APPS
        for model in apps.get_app_config(app).get_models()
        if model._meta.managed and not model._meta.proxy
    ]


def _indexes(model: type[models.Model]) -> dict[str, dict]:
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, model._meta.db_table)
    # expression indexes report no (or None) columns; they can neither lead nor make another redundant
    return {
        name: info
        for name, info in found.items()
        if (info["index"] or info["unique"] or info["primary_key"])
        and info["columns"]
        and None not in info["columns"]
    }


def test_every_foreign_key_column_leads_an_index():
    missing = []
    for model in _tables():
        leading = {info["columns"][0] for info in _indexes(model).values()}
        for field in model._meta.concrete_fields:
            if isinstance(field, models.ForeignKey) and field.column not in leading:
                missing.append(f"{model._meta.db_table}.{field.column}")
    assert missing == []


def _redundant(table: str, indexes: dict[str, dict], exempt: set[str]) -> list[str]:
    """Plain indexes whose columns are a prefix of another index's (``exempt``: names to skip)."""
    found = []
    for name, info in indexes.items():
        # only plain, full-table, ascending indexes can be dropped for a longer one
        if info["unique"] or info["primary_key"] or name in exempt:
            continue
        cols = info["columns"]
        for other, more in indexes.items():
            longer = more["columns"]
            if (
                other != name
                and other not in exempt
                and len(longer) > len(cols)
                and longer[: len(cols)] == cols
            ):
                found.append(f"{table}: {name} {cols} is a prefix of {other}")
    return found


def test_no_plain_index_is_a_prefix_of_another():
    redundant = []
    for model in _tables():
        redundant += _redundant(model._meta.db_table, _indexes(model), _partial_or_ordered(model))
    assert redundant == []


def _partial_or_ordered(model: type[models.Model]) -> set[str]:
    """Names of the model's declared indexes that a longer index cannot stand in for (a
    condition restricts their rows; a descending column changes what they sort)."""
    out = set()
    for index in model._meta.indexes:
        if index.condition is not None or any(f.startswith("-") for f in index.fields):
            out.add(index.name)
    return out


def test_the_prefix_check_reports_a_redundant_index():
    """Against real introspection: an index on ``a`` beside one on ``(a, b)`` is reported, the
    unique one on ``b`` is not (guards the test above against checking nothing)."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TABLE modelhub_idx_probe (id integer PRIMARY KEY, a integer, b integer)")
        try:
            cursor.execute("CREATE INDEX modelhub_idx_probe_a ON modelhub_idx_probe (a)")
            cursor.execute("CREATE INDEX modelhub_idx_probe_ab ON modelhub_idx_probe (a, b)")
            cursor.execute("CREATE UNIQUE INDEX modelhub_idx_probe_b ON modelhub_idx_probe (b)")
            cursor.execute("CREATE INDEX modelhub_idx_probe_ba ON modelhub_idx_probe (b, a)")
            found = connection.introspection.get_constraints(cursor, "modelhub_idx_probe")
        finally:
            cursor.execute("DROP TABLE modelhub_idx_probe")
    found = {n: i for n, i in found.items() if i["columns"]}
    assert _redundant("probe", found, set()) == [
        "probe: modelhub_idx_probe_a ['a'] is a prefix of modelhub_idx_probe_ab"
    ]
