"""Resolving many parents' licences from the registry in a fixed number of queries.

``DatabaseResolver`` answers one parent with three queries, which is right for one
analysis and ruinous for fifty thousand. ``PrefetchedResolver`` loads, for every parent
a chunk of descendants names, the repository, its finished analyses and the files of
the revisions that will be chosen, and then answers ``resolve`` from memory with the
same revision-aware choice (newest analysed revision of the default branch committed on or
before the end of the child's day, else the newest), so a batch re-evaluation judges exactly as a single
analysis would.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime

from hub.models import RepoFile, Repository, RevisionAnalysis
from hub.services.repos import find_by_ids
from licenses.engine.lineage import ParentRecord
from licenses.services.resolver import MAX_PARENT_FILES, as_of_cutoff, on_default_branch, parent_record


@dataclass(frozen=True)
class _Analysed:
    commit_id: int
    created_at: datetime
    license_key: str
    license_class: str


class PrefetchedResolver:
    """``ParentResolver`` over registry repositories loaded up front for known (id, date) requests."""

    source = "registry"

    def __init__(self, requests: Iterable[tuple[str, date | None]]) -> None:
        requests = list(requests)
        self._repos: dict[str, Repository] = find_by_ids(
            Repository.objects.filter(private=False),
            {model_id.strip().strip("/") for model_id, _ in requests},
        )
        self._history: dict[int, list[_Analysed]] = {}
        rows = (
            RevisionAnalysis.objects.filter(
                commit_id__in=on_default_branch([r.pk for r in self._repos.values()]),
                status=RevisionAnalysis.Status.DONE,
            )
            .values_list(
                "commit__repository_id", "commit_id", "commit__created_at", "license_key", "license_class"
            )
            .order_by("-commit__created_at", "-commit_id")
        )
        for repo_id, commit_id, created_at, key, license_class in rows:
            self._history.setdefault(repo_id, []).append(_Analysed(commit_id, created_at, key, license_class))
        chosen = {c.commit_id for model_id, as_of in requests if (c := self._choose(model_id, as_of))}
        self._files: dict[int, list[str]] = {}
        for commit_id, path in (
            RepoFile.objects.filter(commit_id__in=chosen).order_by("pk").values_list("commit_id", "path")
        ):
            paths = self._files.setdefault(commit_id, [])
            if len(paths) < MAX_PARENT_FILES:
                paths.append(path)

    def _repo(self, model_id: str) -> Repository | None:
        owner, _, name = model_id.strip().strip("/").partition("/")
        if not owner or not name:
            return None
        return self._repos.get(f"{owner}/{name}".lower())

    def _choose(self, model_id: str, as_of: date | None) -> _Analysed | None:
        repo = self._repo(model_id)
        history = self._history.get(repo.pk, []) if repo is not None else []
        if not history:
            return None
        if as_of is not None:
            cutoff = as_of_cutoff(as_of)
            for row in history:  # newest first
                if row.created_at <= cutoff:
                    return row
        return history[0]

    def resolve(self, model_id: str, as_of: date | None) -> ParentRecord | None:
        """The parent's licence as of ``as_of``; None when it is not a public registry repository."""
        chosen = self._choose(model_id, as_of)
        if chosen is None:
            return None
        files = tuple(self._files.get(chosen.commit_id, ()))
        return parent_record(
            self._repo(model_id), chosen.license_key, chosen.license_class, chosen.created_at, files
        )
