"""Upgrading a running deployment: the schema a new release migrates to must still take the old
release's writes, and its migrations must not hold a table's lock for a time that grows with its rows.

A rolling deploy runs ``migrate`` while the previous release's web processes and Celery workers
still serve. Their INSERTs name only the columns they know; a column added ``NOT NULL`` with only a
Python-side default then refuses every row they write (session 12 saw uploads answer 500 and new
violations silently lost until the old processes were gone).
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.apps import apps
from django.db import connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.loader import MigrationLoader
from django.db.migrations.operations import AddField
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

OWN_APPS = ("hub", "licenses", "workers")


def _added_fields() -> list[tuple[str, str, str]]:
    """(app, model, field) of every column a migration after an app's first one added."""
    loader = MigrationLoader(None, ignore_no_migrations=True)
    added = []
    for (app, _name), migration in sorted(loader.disk_migrations.items()):
        if app not in OWN_APPS or migration.initial:
            continue
        added += [(app, op.model_name, op.name) for op in migration.operations if isinstance(op, AddField)]
    return added


def test_every_added_not_null_column_has_a_database_default():
    """Guards the next migration too: an old release's INSERT omits the column, so the database
    must fill it (``db_default``), not Django's Python default it never runs."""
    missing = []
    for app, model, name in _added_fields():
        field = apps.get_model(app, model)._meta.get_field(name)
        if field.concrete and not field.null and not field.has_db_default():
            missing.append(f"{app}.{model}.{name}")
    assert _added_fields(), "no added fields found: the walk is broken"
    assert missing == []


def test_database_defaults_keep_a_python_default():
    """Without one, a new model instance holds Django's ``DatabaseDefault`` placeholder, which code
    writing rows itself (the mirror's bulk writer) cannot send: its runs failed."""
    missing = []
    for model in apps.get_models():
        if model._meta.app_label in OWN_APPS:
            for field in model._meta.concrete_fields:
                if field.has_db_default() and not field.has_default():
                    missing.append(f"{model._meta.label}.{field.name}")
    assert missing == []


@pytest.mark.django_db
def test_previous_release_writes_are_accepted():
    """The INSERTs the release before 0010/0003 made (its column lists) still store rows."""
    from hub.models import Blob, Namespace, Repository
    from licenses.models import Violation

    ns = Namespace.objects.create(name="old-writer", kind=Namespace.Kind.ORG)
    repo = Repository.objects.create(namespace=ns, name="m")
    with connection.cursor() as cur, transaction.atomic():
        cur.execute(
            "INSERT INTO hub_blob (sha256, size, created_at) VALUES (%s, 3, CURRENT_TIMESTAMP)", ["a" * 64]
        )
        cur.execute(
            "INSERT INTO licenses_violation (rule, severity, parent_ref, message, clause, evidence, evidence_hash,"
            " status, status_reason, first_seen_at, last_seen_at, repository_id)"
            " VALUES ('missing-license', 'error', '', 'm', '', '[]', 'h', 'open', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s)",
            [repo.pk],
        )
    blob = Blob.objects.get(sha256="a" * 64)
    assert blob.stored_at is not None
    assert Violation.objects.get(repository=repo).resolved_from == ""


@pytest.mark.django_db
def test_previous_release_repository_and_run_inserts_are_accepted():
    """Repository rows written without the catalogue columns, mirror runs without the lease columns."""
    from hub.models import Namespace, Repository
    from workers.models import MirrorRun

    ns = Namespace.objects.create(name="old-writer2", kind=Namespace.Kind.ORG)
    added_since = {"license_key", "license_class", "commercial_use", "unsafe_files", "open_violations"}
    old_fields = [f for f in Repository._meta.concrete_fields if f.name != "id" and f.name not in added_since]
    cols = [f.column for f in old_fields]
    row = Repository(namespace=ns, name="old")
    values = [f.get_db_prep_save(getattr(row, f.attname), connection) for f in old_fields]
    run_cols = [f for f in MirrorRun._meta.concrete_fields if f.name not in {"id", "worker", "options"}]
    run = MirrorRun(upstream="http://127.0.0.1:9")
    with connection.cursor() as cur, transaction.atomic():
        cur.execute(
            f"INSERT INTO hub_repository ({', '.join(cols)}) VALUES ({', '.join(['%s'] * len(cols))})", values
        )
        cur.execute(
            f"INSERT INTO workers_mirrorrun ({', '.join(f.column for f in run_cols)})"
            f" VALUES ({', '.join(['%s'] * len(run_cols))})",
            [f.get_db_prep_save(getattr(run, f.attname), connection) for f in run_cols],
        )
    stored = Repository.objects.get(namespace=ns, name="old")
    assert (stored.license_key, stored.unsafe_files, stored.open_violations) == ("", 0, 0)
    assert MirrorRun.objects.get(upstream="http://127.0.0.1:9").options == {}


@pytest.mark.django_db(transaction=True)
def test_stored_at_migration_rewrites_no_blob_row():
    """0010 adds ``Blob.stored_at`` without an UPDATE of every row in the same transaction: that
    held ``hub_blob``'s exclusive lock for as long as the table is large (8.5 s at 500,000 rows,
    every download and commit waiting). Existing content counts as stored at the upgrade."""
    executor = MigrationExecutor(connection)
    leaf = executor.loader.graph.leaf_nodes("hub")
    before = [("hub", "0009_upload_grants_per_user_and_address_claims")]
    executor.migrate(before)
    try:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO hub_blob (sha256, size, created_at) VALUES (%s, 1, %s)",
                ["b" * 64, timezone.now() - timedelta(days=30)],
            )
        executor = MigrationExecutor(connection)
        with CaptureQueriesContext(connection) as queries:
            executor.migrate([("hub", "0010_blob_stored_at")])
        rewrites = [q["sql"] for q in queries if q["sql"].lstrip().upper().startswith("UPDATE")]
        assert rewrites == []
        with connection.cursor() as cur:
            cur.execute("SELECT stored_at > created_at FROM hub_blob WHERE sha256 = %s", ["b" * 64])
            assert cur.fetchone() == (True,)
    finally:
        MigrationExecutor(connection).migrate(leaf)


@pytest.mark.django_db(transaction=True)
def test_catalogue_columns_migration_runs_on_an_analysed_repository_with_open_violations():
    """Upgrading from a release before hub 0005 failed at 0005 on PostgreSQL ("cannot CREATE INDEX
    … pending trigger events") as soon as one repository had an analysis and an open violation:
    the two back-fill UPDATEs touch its row twice, which queues its deferred foreign-key checks."""
    executor = MigrationExecutor(connection)
    leaves = [n for n in executor.loader.graph.leaf_nodes() if n[0] in OWN_APPS]
    executor.migrate([("hub", "0004_mirror_status_gone"), ("licenses", "0001_initial")])
    try:
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO hub_namespace (name, kind, display_name, created_at) VALUES ('acme', 'org', '', CURRENT_TIMESTAMP)"
            )
            cur.execute(
                "INSERT INTO hub_repository (name, repo_type, private, gated, gating_config, disabled, description,"
                " created_at, updated_at, default_branch, last_modified, card_data, library_name, pipeline_tag,"
                " card_license, downloads, likes, mirrored_from, upstream_id, upstream_sha, mirror_status,"
                " mirror_error, namespace_id) SELECT 'm', 'model', false, '', '{}', false, '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'main',"
                " CURRENT_TIMESTAMP, '{}', '', '', '', 0, 0, '', '', '', '', '', id FROM hub_namespace WHERE name = 'acme'"
                " RETURNING id"
            )
            (repo_id,) = cur.fetchone()
            cur.execute(
                "INSERT INTO hub_commit (sha, title, message, author_name, created_at, repository_id)"
                " VALUES (%s, 't', '', 'x', CURRENT_TIMESTAMP, %s) RETURNING id",
                ["a" * 40, repo_id],
            )
            (commit_id,) = cur.fetchone()
            cur.execute(
                "INSERT INTO hub_revisionanalysis (status, result, license_key, license_class, commercial_use,"
                " n_errors, n_warnings, unsafe_files, engine_version, error, commit_id)"
                " VALUES ('done', '{}', 'mit', 'osi-permissive', 'yes', 1, 0, 0, '', '', %s) RETURNING id",
                [commit_id],
            )
            (analysis_id,) = cur.fetchone()
            cur.execute(
                "UPDATE hub_repository SET latest_analysis_id = %s, head_id = %s WHERE id = %s",
                [analysis_id, commit_id, repo_id],
            )
            cur.execute(
                "INSERT INTO licenses_violation (rule, severity, parent_ref, message, clause, evidence,"
                " evidence_hash, status, status_reason, first_seen_at, last_seen_at, repository_id)"
                " VALUES ('missing-license', 'error', '', 'm', '', '[]', 'h', 'open', '', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, %s)",
                [repo_id],
            )
        MigrationExecutor(connection).migrate([("hub", "0005_catalogue_columns")])
        with connection.cursor() as cur:
            cur.execute("SELECT license_key, open_violations FROM hub_repository WHERE id = %s", [repo_id])
            assert cur.fetchone() == ("mit", 1)
    finally:
        with connection.cursor() as cur:  # the rows would outlive the test's flush of the new tables
            cur.execute("DELETE FROM licenses_violation")
            cur.execute("UPDATE hub_repository SET latest_analysis_id = NULL, head_id = NULL")
            cur.execute("DELETE FROM hub_revisionanalysis")
            cur.execute("DELETE FROM hub_commit")
            cur.execute("DELETE FROM hub_repository")
            cur.execute("DELETE FROM hub_namespace")
        MigrationExecutor(connection).migrate(leaves)
