"""Updating many rows with per-row values in one statement that scales linearly.

Django's ``bulk_update`` writes ``SET col = CASE WHEN id = 1 THEN … WHEN id = 2 THEN … END``
for every column: each row walks the whole CASE, so a 500-row batch does 250,000
comparisons per column, and building the expression costs more Python than the rules
that produced the values (measured: it was most of a re-evaluation chunk's time). On
PostgreSQL this writes ``UPDATE … FROM (VALUES …) WHERE id = v.id`` instead, a hash join;
elsewhere (the embedded SQLite deployment, small) it falls back to ``bulk_update``.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router

BATCH = 500


def update_rows(model: type[models.Model], objs: Sequence[models.Model], field_names: Sequence[str]) -> int:
    """Write ``field_names`` of ``objs`` (saved instances of ``model``) back; returns rows updated."""
    return update_json_keys(model, objs, None, (), field_names)


def update_json_keys(
    model: type[models.Model],
    objs: Sequence[models.Model],
    json_field: str | None,
    keys: Sequence[str],
    field_names: Sequence[str] = (),
) -> int:
    """Like ``update_rows``, and replace only ``keys`` of the JSON column ``json_field``.

    On PostgreSQL the stored document is merged (``result || jsonb_build_object(…)``), so
    a few changed keys of a large analysis result are sent and parsed, not the whole
    document; elsewhere the whole column is written (the in-memory object is complete).
    """
    if not objs:
        return 0
    db = router.db_for_write(model)
    connection = connections[db]
    if connection.vendor != "postgresql":
        names = [*field_names, *([json_field] if json_field else [])]
        return model.objects.using(db).bulk_update(objs, names, batch_size=BATCH)
    meta, qn = model._meta, connection.ops.quote_name
    fields = [meta.get_field(name) for name in field_names]
    sets = [f"{qn(f.column)} = CAST(v.c{i} AS {f.db_type(connection)})" for i, f in enumerate(fields)]
    cols = ["pk", *(f"c{i}" for i in range(len(fields))), *(f"j{i}" for i in range(len(keys)))]
    if json_field:
        column = qn(meta.get_field(json_field).column)
        merged = ", ".join(f"CAST(%s AS text), CAST(v.j{i} AS jsonb)" for i in range(len(keys)))
        sets.append(f"{column} = COALESCE(t.{column}, '{{}}'::jsonb) || jsonb_build_object({merged})")
    json = meta.get_field(json_field) if json_field else None
    table, pk = qn(meta.db_table), meta.pk
    updated = 0
    with connection.cursor() as cursor:
        for start in range(0, len(objs), BATCH):
            batch = objs[start : start + BATCH]
            row = "(" + ", ".join(["%s"] * len(cols)) + ")"
            params: list[object] = list(keys)  # the key names in jsonb_build_object come first
            for obj in batch:
                params.append(obj.pk)
                params.extend(f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields)
                if json is not None:
                    document = getattr(obj, json.attname) or {}
                    params.extend(json.get_db_prep_save(document.get(k), connection) for k in keys)
            sql = (
                f"UPDATE {table} AS t SET {', '.join(sets)} FROM (VALUES {', '.join([row] * len(batch))}) "
                f"AS v({', '.join(cols)}) WHERE t.{qn(pk.column)} = CAST(v.pk AS {pk.db_type(connection)})"
            )  # identifiers are the model's own; every value is a parameter
            cursor.execute(sql, params)
            updated += cursor.rowcount
    return updated
