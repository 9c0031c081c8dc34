"""The repository's catalogue columns (hub.0005) follow the analysis and the violations they copy.

The catalogue filters on ``Repository.license_class``, ``open_violations`` etc. rather than joining
the analysis and violation tables, so each way those can change is checked here against what
``/models`` then returns: a new analysis of the head, a licence change in a new commit, a
triage decision, a resolved finding, and the migration's backfill of existing rows.
"""

from __future__ import annotations

import importlib

import pytest
from django.db import connection

from hub.models import Repository, RevisionAnalysis
from licenses.models import Violation
from licenses.services.violations import set_violation_status, sync_violations
from tests.frontend.test_catalogue_filters import ids
from tests.hub.conftest import alice, fs_store, make_repo  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

CARD = "---\nlicense: {}\n---\n# A model\n\nSome words.\n"


def _commit_card(user, repo: Repository, licence: str) -> None:
    """A new head whose card declares ``licence``, analysed through the real task (as on push)."""
    from django.test import TestCase

    from hub.services.blobs import store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit

    stored = store_small(CARD.format(licence).encode(), 1024 * 1024)
    op = AddFile("README.md", stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)
    with TestCase.captureOnCommitCallbacks(execute=True):
        create_commit(repo, "main", CommitRequest(title="licence", operations=[op]), author=user)


def test_columns_follow_a_new_analysis_and_a_licence_change(client, alice, fs_store):  # noqa: F811
    repo = make_repo(alice, "relicensed", {"README.md": CARD.format("apache-2.0").encode()})
    repo.refresh_from_db()
    first = RevisionAnalysis.objects.get(commit=repo.head)
    assert first.status == "done", first.error
    assert (
        (repo.license_key, repo.license_class, repo.commercial_use)
        == (
            first.license_key,
            first.license_class,
            first.commercial_use,
        )
        == ("apache-2.0", "osi-permissive", "yes")
    )
    assert repo.transparency_score == first.transparency_score is not None
    assert repo.disclosure_level == first.disclosure_level
    assert "alice/relicensed" in ids(client, "?license_class=osi-permissive")

    _commit_card(alice, repo, "cc-by-nc-4.0")
    repo.refresh_from_db()
    second = RevisionAnalysis.objects.get(commit=repo.head)
    assert second.pk != first.pk and repo.latest_analysis_id == second.pk
    assert (repo.license_key, repo.license_class, repo.commercial_use) == (
        "cc-by-nc-4.0",
        "noncommercial",
        "no",
    )
    assert "alice/relicensed" not in ids(client, "?license_class=osi-permissive")
    assert "alice/relicensed" in ids(client, "?license_class=noncommercial&commercial=no")
    assert "alice/relicensed" in ids(client, "?license=cc-by-nc-4.0")


def test_saving_latest_analysis_copies_its_columns(catalogue):
    repo = Repository.objects.get(namespace__name="community", name="xss-demo")
    other = Repository.objects.get(namespace__name="research-lab", name="nc-vision-model").latest_analysis
    # only the id set: the analysis is loaded to copy from
    repo.latest_analysis_id = other.pk
    repo.save(update_fields=["latest_analysis"])
    repo.refresh_from_db()
    for column in Repository.ANALYSIS_COLUMNS:
        assert getattr(repo, column) == getattr(other, column), column
    # cleared with the analysis (a full save)
    repo.latest_analysis = None
    repo.save()
    repo.refresh_from_db()
    assert (repo.license_key, repo.license_class, repo.transparency_score, repo.unsafe_files) == (
        "",
        "",
        None,
        0,
    )


def _open_count(repo_id: str) -> int:
    owner, name = repo_id.split("/")
    return Repository.objects.get(namespace__name=owner, name=name).open_violations


def test_open_violation_count_follows_triage(client, catalogue):
    bot = "acme/support-bot-8b"
    rows = [v for key, v in catalogue.violations.items() if key.startswith(bot + ":")]
    assert _open_count(bot) == len(rows) == 3
    client.force_login(catalogue.alice)  # a member of acme: the repository is visible either way
    assert bot in ids(client, "?violations=open")
    assert bot not in ids(client, "?violations=none")

    set_violation_status(rows[:2], Violation.Status.FALSE_POSITIVE, catalogue.alice, "reviewed")
    assert _open_count(bot) == 1
    assert bot in ids(client, "?violations=open")

    set_violation_status(rows[2:], Violation.Status.ACKNOWLEDGED, catalogue.alice, "accepted risk")
    assert _open_count(bot) == 0
    assert bot not in ids(client, "?violations=open")
    assert bot in ids(client, "?violations=none")

    set_violation_status(rows[:1], Violation.Status.OPEN, catalogue.alice, "")
    assert _open_count(bot) == 1
    assert bot in ids(client, "?violations=open")


def test_open_violation_count_follows_sync(catalogue):
    lab = "research-lab/nc-vision-model"
    repo = catalogue.repos[lab]
    assert _open_count(lab) == 1
    sync_violations(repo, repo.head, [])  # the finding disappeared: resolved
    assert _open_count(lab) == 0
    finding = {"rule": "missing-license", "severity": "error", "message": "no licence", "evidence": []}
    sync_violations(repo, repo.head, [finding, {**finding, "rule": "unsafe-serialization"}])
    assert _open_count(lab) == 2


def test_migration_backfills_existing_rows(catalogue):
    migration = importlib.import_module("hub.migrations.0005_catalogue_columns")
    before = {
        r.pk: (r.license_class, r.transparency_score, r.open_violations) for r in Repository.objects.all()
    }
    assert any(v[2] for v in before.values()) and any(v[0] for v in before.values())
    Repository.objects.update(license_class="", transparency_score=None, open_violations=0, license_key="")

    class Editor:  # the statements need nothing from a schema editor but ``execute`` and the vendor
        connection = connection  # the module-level one

        @staticmethod
        def execute(sql: str) -> None:
            with connection.cursor() as cursor:
                cursor.execute(sql)

    migration.backfill(None, Editor())
    after = {
        r.pk: (r.license_class, r.transparency_score, r.open_violations) for r in Repository.objects.all()
    }
    assert after == before


def test_no_filter_or_sort_reads_another_table(catalogue):
    """Every analysis/violation filter and every sort is on ``hub_repository`` itself: no join, no subquery."""
    from django.http import QueryDict

    from frontend import catalogue as cat

    query = QueryDict(
        "license=mit&license_class=osi-permissive&commercial=yes&tmin=10&tmax=90&disclosure=1"
        "&task=fill-mask&library=transformers&violations=none&source=native"
    )
    filters = cat.CatalogueFilters.from_query(query)
    filtered, error = cat.apply_filters(cat.base_queryset(catalogue.bob), filters)
    assert error == ""
    for sort in ("downloads", "likes", "lastModified", "createdAt", "transparency"):
        key = cat._SORT_KEYS[sort]
        sql = str(filtered.order_by(f"-{key}", "-pk").query)
        assert "hub_revisionanalysis" not in sql and "licenses_violation" not in sql, sql
    # the same conditions evaluated in Python on the analysis and violation rows themselves
    expected = set()
    for repo_id, repo in catalogue.repos.items():
        a = repo.latest_analysis
        has_open = Violation.objects.filter(repository=repo, status=Violation.Status.OPEN).exists()
        if (
            not repo.private
            and a.license_key == "mit"
            and a.license_class == "osi-permissive"
            and a.commercial_use == "yes"
            and 10 <= a.transparency_score <= 90
            and (a.disclosure_level or 0) >= 1
            and (repo.pipeline_tag, repo.library_name) == ("fill-mask", "transformers")
            and not has_open
            and not repo.mirrored_from
        ):
            expected.add(repo_id)
    assert expected and {r.repo_id for r in filtered.select_related("namespace")} == expected
