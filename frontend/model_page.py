"""Everything the model page shows, gathered in a handful of queries.

The page answers the licensing questions first (licence panel, obligations, violations),
then transparency, openness and lineage, then the card and files. Data comes from the
stored analysis (the contract's analyze JSON) and the licence knowledge base; nothing is
re-analysed on a page view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import yaml
from django.db.models import Q
from django.http import Http404

from frontend import charts, lineage_graph
from frontend.cards import read_card, render_card
from hub.models import Commit, FileScan, Ref, RepoFile, Repository, RevisionAnalysis
from hub.services import revisions
from hub.services.access import visible_repositories
from hub.services.errors import RevisionNotFound
from licenses.engine.kb import DATA_DIR, default_kb
from licenses.engine.obligations import TermsInForce, licences_in_force
from licenses.engine.types import LicenseInfo
from licenses.models import Violation
from licenses.services.lineage import hidden_from, inherited_licences, model_ref, parent_ids

MAX_FILES = 500
MAX_REVISIONS = 30


def get_model(user, owner: str, name: str) -> Repository:
    """The model if the viewer may see it; 404 otherwise (a private repo looks exactly like a missing one)."""
    return get_visible(user, Repository.Type.MODEL, owner, name)


def get_visible(user, kind: str, owner: str, name: str) -> Repository:
    """The repository of ``kind`` if the viewer may see it; 404 otherwise, exactly as for a missing one."""
    repo = (
        visible_repositories(user, kind)
        .filter(namespace__name__iexact=owner, name__iexact=name)
        .select_related("namespace", "latest_analysis", "head")
        .first()
    )
    if repo is None:
        raise Http404(f"{kind.capitalize()} not found")
    return repo


def resolve_revision(repo: Repository, revision: str) -> Commit:
    """A branch, tag, ``refs/pr/N`` or (7+ hex) commit sha, resolved as the Hub API does.

    One resolver for both surfaces: a bare number must not pick up a pull request's ref here
    when the API would refuse it.
    """
    try:
        return revisions.resolve_revision(repo, revision)
    except RevisionNotFound:
        raise Http404("Revision not found") from None


@cache
def _indicator_domains() -> dict[str, str]:
    data = yaml.safe_load((DATA_DIR / "transparency_indicators.yaml").read_text())
    return {i["id"]: i.get("domain", "other") for i in data.get("indicators", [])}


@dataclass
class FileRow:
    path: str
    size: int
    lfs: bool
    scan: FileScan | None = None


@dataclass
class ModelPage:
    repo: Repository
    analysis: RevisionAnalysis | None
    result: dict[str, Any]
    licence_info: LicenseInfo | None
    terms: list[TermsInForce]
    card_html: str | None
    files: list[FileRow]
    files_truncated: bool
    revisions: list[Commit]
    refs: list[Ref]
    violations: list[Violation]
    closed_violations: int
    graph: lineage_graph.LineageGraph
    graph_svg: str
    indicators: list[dict[str, Any]] = field(default_factory=list)
    transparency_chart: str = ""
    commit: Commit | None = None

    @property
    def license(self) -> dict[str, Any]:
        return self.result.get("license") or {}

    @property
    def engine_current(self) -> bool:
        """False when the shown analysis was made by an older engine or knowledge base."""
        from hub.services.reanalysis import is_current

        return self.analysis is None or is_current(self.analysis)

    @property
    def openness(self) -> Any:
        return self.result.get("openness")

    @property
    def datasets(self) -> list[str]:
        return list((self.result.get("data") or {}).get("datasets") or [])

    @property
    def total_size(self) -> int:
        return sum(f.size for f in self.files)

    @property
    def unsafe_files(self) -> list[FileRow]:
        return [f for f in self.files if f.scan is not None and f.scan.unsafe]


def files_of(commit: Commit | None, under: str = "") -> tuple[list[FileRow], bool]:
    """The commit's files (the first ``MAX_FILES``), or only the file ``under`` names or those in
    the folder it names."""
    if commit is None:
        return [], False
    selected = RepoFile.objects.filter(commit=commit)
    scanned = FileScan.objects.filter(commit=commit)
    if under:
        inside = Q(path=under) | Q(path__startswith=under + "/")
        selected, scanned = selected.filter(inside), scanned.filter(inside)
    rows = list(selected.order_by("path").values("path", "size", "lfs")[: MAX_FILES + 1])
    scans = {s.path: s for s in scanned}
    files = [FileRow(r["path"], r["size"], r["lfs"], scans.get(r["path"])) for r in rows[:MAX_FILES]]
    return files, len(rows) > MAX_FILES


def _terms(result: dict[str, Any], info: LicenseInfo | None, user) -> list[TermsInForce]:
    """Every licence whose obligations bind the model: the key alone missed the other half of an
    AND expression and the base model's licence a relabelled derivative still carries. A base
    model private to someone else reads as one outside the registry (as in the graph and the
    compliance API): the licence recorded from its private analysis is not listed."""
    terms = licences_in_force(_with_inherited(_without_hidden_parents(result, user), user)) if result else []
    if not terms and info is not None:
        terms = [TermsInForce(info, "declared licence")]
    return terms


def _without_hidden_parents(result: dict[str, Any], user) -> dict[str, Any]:
    """``result`` with the base models ``user`` may not see left out of ``lineage.base_models``."""
    lineage = result.get("lineage") or {}
    parents = lineage.get("base_models") or []
    hidden = hidden_from(user, (model_ref(str((p or {}).get("id") or "")) for p in parents))
    if not hidden:
        return result
    kept = [p for p in parents if model_ref(str((p or {}).get("id") or "")) not in hidden]
    return {**result, "lineage": {**lineage, "base_models": kept}}


def _with_inherited(result: dict[str, Any], user) -> dict[str, Any]:
    """``result`` with the ancestors beyond its parents (and their recorded licences) that ``user``
    may see, as the compliance check reads them: a Llama fine-tune's fine-tune owes Llama's terms."""
    lineage = result.get("lineage") or {}
    inherited = inherited_licences({0: parent_ids(lineage)}, user)[0]
    return {**result, "lineage": {**lineage, "ancestors": inherited}} if inherited else result


def build(repo: Repository, user, commit: Commit | None = None) -> ModelPage:
    commit = commit or repo.head
    analysis = repo.latest_analysis
    if commit is not None and (analysis is None or analysis.commit_id != commit.pk):
        analysis = RevisionAnalysis.objects.filter(commit=commit).first() or analysis
    result = dict(analysis.result or {}) if analysis else {}
    key = (
        (result.get("license") or {}).get("key")
        or (analysis.license_key if analysis else "")
        or repo.card_license
    )
    info = default_kb().get(key) if key else None
    card = read_card(commit)
    files, truncated = files_of(commit)
    violations = list(
        Violation.objects.filter(repository=repo, status=Violation.Status.OPEN).order_by("severity", "rule")
    )
    closed = Violation.objects.filter(repository=repo).exclude(status=Violation.Status.OPEN).count()
    graph = lineage_graph.build(repo, user)
    domains = _indicator_domains()
    indicators = [
        {**ind, "domain": domains.get(ind.get("id", ""), "other")}
        for ind in (result.get("transparency") or {}).get("indicators") or []
        if isinstance(ind, dict)
    ]
    per_domain: dict[str, Counter] = {}
    for ind in indicators:
        per_domain.setdefault(ind["domain"], Counter())["met" if ind.get("met") else "missed"] += 1
    order = ["upstream", "model", "downstream", "other"]
    groups = [
        (d, c["met"], c["missed"])
        for d, c in sorted(per_domain.items(), key=lambda kv: order.index(kv[0]) if kv[0] in order else 9)
    ]
    chart = (
        charts.met_missed_chart(groups, "Transparency indicators met and missed, by domain") if groups else ""
    )
    return ModelPage(
        repo=repo,
        analysis=analysis,
        result=result,
        licence_info=info,
        terms=_terms(result, info, user),
        card_html=render_card(card) if card is not None else None,
        files=files,
        files_truncated=truncated,
        revisions=list(Commit.objects.filter(repository=repo).order_by("-created_at", "-pk")[:MAX_REVISIONS]),
        refs=list(Ref.objects.filter(repository=repo).select_related("commit").order_by("kind", "name")),
        violations=violations,
        closed_violations=closed,
        graph=graph,
        graph_svg=lineage_graph.to_svg(graph) if not graph.empty else "",
        indicators=sorted(
            indicators, key=lambda i: (not i.get("met"), i.get("domain", ""), i.get("name", ""))
        ),
        transparency_chart=chart,
        commit=commit,
    )
