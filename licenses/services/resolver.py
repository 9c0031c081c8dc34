"""Resolving a parent model's licence from the registry's own database.

Revision-aware: licences change (a base relicensed to Apache-2.0 months after release),
so a child is judged against the licence its parent carried when the child was made.
The resolver picks the parent's newest analysed revision committed on or before the
child's date, and its newest analysis when the child's date is unknown or precedes all
of the parent's history; only revisions of the parent's default branch count (its other
branches and pull requests are not its licence).
"""

from __future__ import annotations

from datetime import date, datetime, time

from django.db.models.expressions import RawSQL
from django.utils import timezone

from hub.models import Commit, Repository, RevisionAnalysis
from licenses.engine.basemodels import BundledBaseModels
from licenses.engine.lineage import ChainResolver, ParentRecord

DONE = RevisionAnalysis.Status.DONE
MAX_PARENT_FILES = 200  # file names reported per parent (naming and notice rules read them)


def on_default_branch(repo_pks: list[int]) -> RawSQL:
    """The ids of the commits on each repository's default branch: its head and the head's first
    parents, back to the first commit (for ``commit_id__in=``).

    A parent's licence is what its default branch says. An analysed commit on another branch or a
    pull request is a proposal: anyone may open a pull request, and judging children by it let a
    stranger change their verdicts, in both directions.
    """
    commit, repo = Commit._meta.db_table, Repository._meta.db_table
    marks = ", ".join(["%s"] * len(repo_pks)) or "NULL"
    sql = f"""
        WITH RECURSIVE line(id) AS (
            SELECT head_id FROM {repo} WHERE id IN ({marks}) AND head_id IS NOT NULL
            UNION
            SELECT c.parent_id FROM {commit} c JOIN line ON c.id = line.id WHERE c.parent_id IS NOT NULL
        )
        SELECT id FROM line
    """
    return RawSQL(sql, list(repo_pks))


def as_of_cutoff(as_of: date) -> datetime:
    """The end of the child's day: a parent revision committed up to then counts as "before"."""
    return timezone.make_aware(datetime.combine(as_of, time.max), timezone.get_current_timezone())


def parent_record(
    repo: Repository, license_key: str, license_class: str, committed_at: datetime, files: tuple[str, ...]
) -> ParentRecord:
    """The record both registry resolvers answer with, from the chosen analysed revision."""
    return ParentRecord(
        id=repo.repo_id,
        license_key=license_key or "unknown",
        license_class=license_class or None,
        source="registry",
        as_of=committed_at.date(),
        name=repo.name,
        files=files,
    )


class DatabaseResolver:
    """``ParentResolver`` over repositories held in this registry (visible to everyone)."""

    source = "registry"

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        owner, _, name = model_id.strip().strip("/").partition("/")
        if not owner or not name:
            return None
        repo = (
            Repository.objects.filter(namespace__name__iexact=owner, name__iexact=name, private=False)
            .select_related("namespace")
            .first()
        )
        if repo is None:
            return None
        analyses = RevisionAnalysis.objects.filter(
            commit_id__in=on_default_branch([repo.pk]), status=DONE
        ).select_related("commit")
        chosen = None
        if as_of is not None:
            chosen = (
                analyses.filter(commit__created_at__lte=as_of_cutoff(as_of))
                .order_by("-commit__created_at", "-commit_id")
                .first()
            )
        if chosen is None:
            chosen = analyses.order_by("-commit__created_at", "-commit_id").first()
        if chosen is None:
            return None
        files = tuple(chosen.commit.files.values_list("path", flat=True)[:MAX_PARENT_FILES])
        return parent_record(repo, chosen.license_key, chosen.license_class, chosen.commit.created_at, files)


def server_resolver() -> ChainResolver:
    """How the server finds a parent's licence: its own registry first, then the bundled table."""
    return ChainResolver(DatabaseResolver(), BundledBaseModels.load())
