"""Multi-row INSERTs straight from dictionaries, for the mirror's first-import hot path.

``QuerySet.bulk_create`` builds a model instance per row and compiles every value of
every row through the field machinery (``SQLInsertCompiler.field_as_sql`` and friends);
profiled on a 5,000-card first import that compilation was ~45 % of the mirror's
CPU time, more than fetching the cards (see docs/BENCHMARKS.md, "Mirroring"). Here the
statement is built once per chunk from the model's own metadata, each column gets one
adapter chosen once (dates and JSON through the backend's own ``adapt_*`` functions, the
rest as given), and missing columns take the field's default, so rows come out exactly
as ``bulk_create`` would write them — including columns other apps add later.

Used only where the rows are plain values the mirror built itself; everything else keeps
going through the ORM.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from django.db import connections, models
from django.db.models.fields import AutoFieldMixin
from django.utils import timezone

#: Rows per statement on top of the backend's bound-parameter limit: keeps statements small.
MAX_ROWS = 500
#: PostgreSQL's wire protocol counts bound parameters in 16 bits.
PG_MAX_PARAMS = 65535
#: SQLite page cache of a bulk writer (KiB): holds a batch's dirty pages until COMMIT. With the
#: default 2 MiB, a batch of 500 new repositories (its rows and ~40 index entries each, scattered
#: over B-trees of tens of MB) spills dirty pages to the WAL mid-transaction and writes some twice.
BULK_CACHE_KIB = 64 * 1024
#: WAL pages between checkpoints for a bulk writer (default 1,000): a checkpoint copies each page
#: once however many batches rewrote it since the last one, so fewer checkpoints copy less.
BULK_CHECKPOINT_PAGES = 16_000


def _columns(model: type[models.Model]) -> list[models.Field]:
    return [f for f in model._meta.concrete_fields if not isinstance(f, AutoFieldMixin)]


class JSONText(str):
    """Text that is already the JSON encoding of a JSONField value: written as it is, not encoded again.

    The writer vouches that it is valid JSON in ``json.dumps``'s default form (what the field
    would have written itself), e.g. ``hub.services.cards.card_data_json``'s text.
    """


def _json_adapter(field: models.Field, connection) -> Callable[[Any], Any]:
    if connection.vendor == "postgresql":
        from psycopg.types.json import Jsonb

        def as_is(text: str) -> str:
            return text

        def encoded(text: JSONText) -> Any:
            return Jsonb(text, dumps=as_is)
    elif connection.vendor == "sqlite":

        def encoded(text: JSONText) -> Any:
            return str(text)
    else:  # no shortcut known for this backend: decode and let the field encode it

        def encoded(text: JSONText) -> Any:
            return field.get_db_prep_save(json.loads(text), connection)

    def json_value(value: Any) -> Any:
        if type(value) is JSONText:
            return encoded(value)
        return field.get_db_prep_save(value, connection)

    return json_value


def _adapter(field: models.Field, connection) -> Callable[[Any], Any] | None:
    """How a value of ``field`` is handed to the driver; None when as it is (strings, numbers, ids)."""
    kind = field.get_internal_type()
    if kind == "JSONField":
        return _json_adapter(field, connection)
    if kind == "DateTimeField":
        adapt = connection.ops.adapt_datetimefield_value
        seen: dict[Any, Any] = {}  # a batch repeats the same few instants ("now"): adapt each once

        def datetime_value(value: Any) -> Any:
            if value not in seen:
                seen[value] = adapt(value)
            return seen[value]

        return datetime_value
    if kind in (
        "DateField",
        "TimeField",
        "DecimalField",
        "UUIDField",
        "BinaryField",
        "DurationField",
    ):
        return lambda value: field.get_db_prep_save(value, connection)
    return None


def _default(field: models.Field) -> Any:
    if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
        return timezone.now()
    return field.get_default()


def _max_params(connection) -> int:
    if connection.vendor == "sqlite":
        connection.ensure_connection()
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    if connection.vendor == "postgresql":
        return PG_MAX_PARAMS
    return connection.features.max_query_params or 999


@contextlib.contextmanager
def bulk_writes(using: str = "default") -> Iterator[None]:
    """Tune this thread's SQLite connection for writing thousands of rows, and restore it after.

    Measured on a first mirror of 25,109 cards (docs/BENCHMARKS.md, "Mirroring"): with the
    defaults SQLite wrote ~1.4 GB to its WAL and database file for a ~100 MB database — each
    batch's COMMIT rewrites every index page it touched, mid-transaction spills write some pages
    twice and frequent checkpoints copy them again. A multi-row INSERT inside a transaction also
    keeps a statement journal (to undo just that statement), by default in a temporary file: in
    memory here, which cut a further third of the bytes written. None of these changes durability (every
    COMMIT is still synced as before); the WAL file grows to ~``BULK_CHECKPOINT_PAGES`` pages
    between checkpoints. Other backends: nothing to do.
    """
    connection = connections[using]
    if connection.vendor != "sqlite":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    tuned = {"cache_size": -BULK_CACHE_KIB, "wal_autocheckpoint": BULK_CHECKPOINT_PAGES, "temp_store": 2}
    before = {name: int(raw.execute(f"PRAGMA {name}").fetchone()[0]) for name in tuned}
    for name, value in tuned.items():  # temp_store 2: MEMORY
        raw.execute(f"PRAGMA {name} = {value}")
    try:
        yield
    finally:
        if connection.connection is raw:  # still the same connection (not closed and reopened)
            for name, value in before.items():
                raw.execute(f"PRAGMA {name} = {value}")


def insert(
    model: type[models.Model],
    rows: Sequence[dict[str, Any]],
    *,
    returning: bool = False,
    ignore_conflicts: bool = False,
    using: str = "default",
) -> list[Any]:
    """INSERT ``rows`` (column attnames → values) into ``model``'s table; the new pks if ``returning``.

    The pks come back in row order (``RETURNING`` on a multi-row VALUES, what ``bulk_create``
    relies on too). Unknown keys are an error rather than silently dropped.
    """
    if not rows:
        return []
    connection = connections[using]
    if returning and not connection.features.can_return_rows_from_bulk_insert:
        objs = model.objects.using(using).bulk_create([model(**row) for row in rows])  # old SQLite
        return [o.pk for o in objs]
    fields = _columns(model)
    names = {f.attname for f in fields}
    for row in rows:
        unknown = set(row) - names
        if unknown:
            raise ValueError(f"{model.__name__} has no column(s) {sorted(unknown)}")
    adapters = [_adapter(f, connection) for f in fields]
    defaults: dict[str, Any] = {}
    for f, adapt in zip(fields, adapters, strict=True):
        if any(f.attname not in row for row in rows):
            value = _default(f)
            defaults[f.attname] = adapt(value) if adapt else value
    plan = [(f.attname, adapt, f.attname in defaults) for f, adapt in zip(fields, adapters, strict=True)]
    values = [
        tuple(
            (defaults[name] if name not in row else adapt(row[name]) if adapt else row[name])
            if may_miss
            else (adapt(row[name]) if adapt else row[name])
            for name, adapt, may_miss in plan
        )
        for row in rows
    ]
    if connection.vendor == "postgresql" and not ignore_conflicts:
        pks = _copy(connection, model, fields, values, returning=returning)
        if pks is not None:
            return pks
    qn = connection.ops.quote_name
    head = f"INSERT INTO {qn(model._meta.db_table)} ({', '.join(qn(f.column) for f in fields)}) VALUES "
    tail = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if returning:
        tail += f" RETURNING {qn(model._meta.pk.column)}"
    sqlite = connection.vendor == "sqlite"
    one = "(" + ", ".join(["?" if sqlite else "%s"] * len(fields)) + ")"
    pks: list[Any] = []
    with connection.cursor() as cursor:
        if not sqlite and not returning:  # one statement prepared once, stepped per row by the driver
            cursor.executemany(head + one + tail, values)
            return []
        execute = _sqlite_execute(connection, cursor) if sqlite else cursor.execute
        per = max(1, min(MAX_ROWS, _max_params(connection) // len(fields)))
        for start in range(0, len(values), per):
            chunk = values[start : start + per]
            execute(head + ", ".join([one] * len(chunk)) + tail, [v for row in chunk for v in row])
            if returning:
                pks.extend(r[0] for r in cursor.fetchall())
    return pks


def _sqlite_execute(connection, cursor) -> Callable[[str, list[Any]], Any]:
    """SQLite: run a ``?``-placeholder statement on the driver's cursor under Django's wrapper.

    Every chunk on SQLite is one multi-row statement, returning or not: ``executemany`` steps
    the statement once per row and the driver lets go of the GIL around every step; with the
    mirror's fetch threads waiting for it, each of those is a hand-over of the GIL and back (a
    futex wake-up and a context switch), which on a first import of 25,000 repositories (~8 rows
    each) cost more than the inserts. One statement per chunk is one step. Handing the driver
    its own ``?`` placeholders skips Django's per-call rewrite of ``%s``
    (``SQLiteCursorWrapper.convert_query``, a regex over the whole statement); errors still come
    out as Django's (``wrap_database_errors``), but Django's execute wrappers and debug query log
    do not see these statements. Rows come back through Django's cursor as usual.
    """
    raw = cursor.cursor  # the driver's cursor under Django's wrapper

    def execute(sql: str, params: list[Any]) -> Any:
        with connection.wrap_database_errors:
            return sqlite3.Cursor.execute(raw, sql, params)

    return execute


def _copy(
    connection, model: type[models.Model], fields: list[models.Field], values: list[tuple], *, returning: bool
) -> list[Any] | None:
    """PostgreSQL: the rows through ``COPY … FROM STDIN``; None when that cannot be done here.

    A multi-row ``INSERT … VALUES`` through Django's client-side binding cursor is parsed and
    quoted value by value in Python (psycopg does not cache statements that long): on the mirror's
    first import that was a third of its CPU. ``COPY`` streams the rows through the same adapters.
    With ``returning``, the pks are taken from the table's sequence first (``nextval`` for every
    row) and written explicitly, so they come back in row order as with ``RETURNING``.
    """
    qn = connection.ops.quote_name
    columns = [qn(f.column) for f in fields]
    with connection.cursor() as cursor:
        if not hasattr(cursor.cursor, "copy"):  # psycopg2: no COPY of Python rows
            return None
        pks: list[Any] = []
        if returning:
            pk = model._meta.pk
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [qn(model._meta.db_table), pk.column, len(values)],
            )
            pks = [r[0] for r in cursor.fetchall()]
            if any(p is None for p in pks):  # no sequence behind the pk
                return None
            columns.insert(0, qn(pk.column))
            values = [(p, *row) for p, row in zip(pks, values, strict=True)]
        statement = f"COPY {qn(model._meta.db_table)} ({', '.join(columns)}) FROM STDIN"
        with (
            connection.wrap_database_errors,
            cursor.copy(statement) as copy,
        ):  # IntegrityError & co, as INSERT
            for row in values:
                copy.write_row(row)
    return pks
