"""``workers.mirror.rows.insert`` writes the same rows ``bulk_create`` would, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from django.db import IntegrityError

from hub.models import Blob, Commit, Namespace, Repository, RepoTag
from workers.mirror.rows import JSONText, insert

pytestmark = pytest.mark.django_db(transaction=True)

WHEN = datetime(2023, 5, 17, 12, 30, 1, tzinfo=UTC)


def _columns(obj) -> dict:
    skip = {"id", "name", "created_at", "updated_at"}  # the pk, the name that differs, the "now" defaults
    return {
        f.attname: getattr(obj, f.attname) for f in type(obj)._meta.concrete_fields if f.attname not in skip
    }


def test_rows_match_bulk_create_including_defaults_json_and_dates():
    ns = Namespace.objects.create(name="acme", kind=Namespace.Kind.ORG)
    given = dict(
        namespace_id=ns.pk, repo_type=Repository.Type.MODEL, last_modified=WHEN, mirrored_at=WHEN,
        card_data={"license": "mit", "tags": ["a", "b"], "nested": {"x": 1.5, "y": None}}, downloads=7,
        upstream_id="acme/one", mirror_status=Repository.MirrorStatus.OK,
    )  # fmt: skip
    [pk] = insert(Repository, [{**given, "name": "one"}], returning=True)
    ref = Repository.objects.bulk_create([Repository(**given, name="two")])[0]
    ours, theirs = Repository.objects.get(pk=pk), Repository.objects.get(pk=ref.pk)
    assert ours.name == "one" and ours.card_data == given["card_data"] and ours.last_modified == WHEN
    assert _columns(ours) == _columns(theirs)
    assert ours.gating_config == {} and ours.default_branch == "main" and ours.created_at is not None


def test_returned_pks_follow_row_order_across_statements():
    ns = Namespace.objects.create(name="many", kind=Namespace.Kind.ORG)
    names = [f"m{i:04d}" for i in range(1200)]  # more rows than one statement holds
    pks = insert(Repository, [{"namespace_id": ns.pk, "name": n} for n in names], returning=True)
    assert len(pks) == len(set(pks)) == len(names)
    assert dict(Repository.objects.filter(pk__in=pks).values_list("pk", "name")) == dict(
        zip(pks, names, strict=True)
    )
    commits = insert(
        Commit, [{"repository_id": pk, "sha": f"{i:040x}", "created_at": WHEN} for i, pk in enumerate(pks)]
    )
    assert commits == [] and Commit.objects.filter(repository_id__in=pks, created_at=WHEN).count() == 1200


def test_conflicts_are_skipped_only_when_asked_and_unknown_columns_refused():
    insert(Blob, [{"sha256": "a" * 64, "size": 1}])
    insert(Blob, [{"sha256": "a" * 64, "size": 1}, {"sha256": "b" * 64, "size": 2}], ignore_conflicts=True)
    assert dict(Blob.objects.values_list("sha256", "size")) == {"a" * 64: 1, "b" * 64: 2}
    with pytest.raises(IntegrityError):
        insert(Blob, [{"sha256": "a" * 64, "size": 1}])
    with pytest.raises(ValueError, match="no column"):
        insert(RepoTag, [{"repository_id": 1, "tga": "typo"}])
    assert insert(RepoTag, []) == []


def test_json_text_is_written_as_the_value_it_encodes():
    """``JSONText`` (a card already encoded once) stores exactly what the dict would have stored."""
    ns = Namespace.objects.create(name="texts", kind=Namespace.Kind.ORG)
    card = {"license": "apache-2.0", "tags": ["x", "ÿ"], "n": {"a": [1, 2.5, None, True]}}
    [as_text, as_dict] = insert(
        Repository,
        [
            {"namespace_id": ns.pk, "name": "text", "card_data": JSONText(json.dumps(card))},
            {"namespace_id": ns.pk, "name": "dict", "card_data": card},
        ],
        returning=True,
    )
    assert (
        Repository.objects.get(pk=as_text).card_data == card == Repository.objects.get(pk=as_dict).card_data
    )
    assert (
        Repository.objects.filter(card_data__license="apache-2.0").count() == 2
    )  # a real JSON value, not a string


def _statements(connection) -> list[str]:
    """Start counting what the SQLite driver steps (the trace callback sees every step's SQL)."""
    seen: list[str] = []
    connection.ensure_connection()
    connection.connection.set_trace_callback(seen.append)
    return seen


def test_sqlite_writes_a_chunk_of_rows_with_one_statement():
    """One step per chunk, not per row: ``executemany`` let go of the GIL around every row's step,
    and each time the mirror's fetch threads took it (the hand-overs cost more than the inserts)."""
    from django.db import connection

    if connection.vendor != "sqlite":
        pytest.skip("the SQLite path; PostgreSQL writes these rows with COPY")
    ns = Namespace.objects.create(name="chunks", kind=Namespace.Kind.ORG)
    [rid] = insert(Repository, [{"namespace_id": ns.pk, "name": "r"}], returning=True)
    seen = _statements(connection)
    try:
        insert(Commit, [{"repository_id": rid, "sha": f"{i:040x}", "created_at": WHEN} for i in range(1200)])
        insert(Blob, [{"sha256": f"{i:064x}", "size": i} for i in range(3)], ignore_conflicts=True)
    finally:
        connection.connection.set_trace_callback(None)
    inserts = [s for s in seen if s.startswith("INSERT")]
    assert len(inserts) == 4  # 1,200 commits in chunks of 500 at most, the three blobs in one
    assert Commit.objects.filter(repository_id=rid).count() == 1200
    assert Blob.objects.filter(size__lt=3).count() == 3


def test_bulk_writes_tunes_sqlite_for_the_run_and_restores_it():
    from django.db import connection

    from workers.mirror.rows import BULK_CACHE_KIB, BULK_CHECKPOINT_PAGES, bulk_writes

    def pragmas() -> tuple[int, int, int] | None:
        if connection.vendor != "sqlite":
            return None
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA cache_size")
            cache = cursor.fetchone()[0]
            cursor.execute("PRAGMA wal_autocheckpoint")
            checkpoint = cursor.fetchone()[0]
            cursor.execute("PRAGMA temp_store")
            return cache, checkpoint, cursor.fetchone()[0]

    before = pragmas()
    with bulk_writes():
        during = pragmas()
    assert pragmas() == before
    if connection.vendor == "sqlite":
        assert during == (-BULK_CACHE_KIB, BULK_CHECKPOINT_PAGES, 2) != before  # 2: MEMORY
    else:
        assert during is None  # nothing to tune, and the context still runs its body
