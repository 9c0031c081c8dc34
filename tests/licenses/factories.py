"""Small builders of registry rows for the licences tests (repositories with analysed revisions)."""

from __future__ import annotations

import hashlib
from typing import Any

from django.utils import timezone

from hub.models import Commit, Namespace, Ref, Repository, RevisionAnalysis


def analysed_model(
    repo_id: str,
    license_key: str,
    license_class: str,
    commercial_use: str,
    *,
    private: bool = False,
    base_models: list[dict[str, Any]] | None = None,
    score: int = 50,
    violations: list[dict[str, Any]] | None = None,
) -> Repository:
    """A model repository whose ``main`` points at a commit with a finished analysis."""
    owner, name = repo_id.split("/")
    ns, _ = Namespace.objects.get_or_create(name=owner, defaults={"kind": Namespace.Kind.ORG})
    repo = Repository.objects.create(namespace=ns, name=name, private=private, card_license=license_key)
    sha = hashlib.sha1(repo_id.encode()).hexdigest()
    commit = Commit.objects.create(repository=repo, sha=sha, title="initial")
    Ref.objects.create(repository=repo, name="main", commit=commit)
    result = {
        "id": repo_id,
        "license": {
            "key": license_key,
            "class": license_class,
            "spdx": None,
            "commercial_use": commercial_use,
            "confidence": 0.9,
            "evidence": [{"source": "metadata", "detail": f"license: {license_key}"}],
            "conflicts": [],
        },
        "lineage": {"base_models": base_models or []},
        "data": {"datasets": [], "disclosure_level": 1},
        "transparency": {"score": score, "indicators": []},
        "violations": violations or [],
    }
    analysis = RevisionAnalysis.objects.create(
        commit=commit,
        status=RevisionAnalysis.Status.DONE,
        result=result,
        license_key=license_key,
        license_class=license_class,
        commercial_use=commercial_use,
        transparency_score=score,
        disclosure_level=1,
        analysed_at=timezone.now(),
    )
    repo.head = commit
    repo.latest_analysis = analysis
    repo.save(update_fields=["head", "latest_analysis"])
    return repo


def analysed_commit(repo, key: str, cls: str, when, parent=None) -> Commit:
    commit = Commit.objects.create(
        repository=repo, sha=f"{key:0<40}"[:40].replace("-", "0"), created_at=when, parent=parent
    )
    RevisionAnalysis.objects.create(
        commit=commit, status="done", result={}, license_key=key, license_class=cls, analysed_at=when
    )
    return commit


def relicense(repo, key: str, cls: str, when) -> None:
    """A new commit on ``main`` (the head's child) with licence ``key``."""
    repo.refresh_from_db()
    commit = analysed_commit(repo, key, cls, when, parent=repo.head)
    Ref.objects.filter(repository=repo, name="main").update(commit=commit)
    repo.head = commit
    repo.save(update_fields=["head"])


def relabel_error(model_id: str = "acme/relabel"):
    """An analysed apache-2.0 model with one open error-severity violation (what notifications send)."""
    from licenses.models import Violation

    repo = analysed_model(model_id, "apache-2.0", "osi-permissive", "yes")
    return Violation.objects.create(
        repository=repo,
        rule="relicensed-derivative",
        severity="error",
        parent_ref="meta-llama/x",
        message="m",
        evidence_hash="x",
    )


def bulk_family(root_id: str, children: int, grandchildren: int = 0, owner: str = "fam") -> Repository:
    """An analysed root with ``children`` analysed fine-tunes and ``grandchildren`` quantized copies of
    the first children, written in a handful of bulk inserts (a popular base model's family)."""
    from licenses.models import LineageEdge

    root = analysed_model(root_id, "llama3", "vendor-community", "conditional")
    ns, _ = Namespace.objects.get_or_create(name=owner, defaults={"kind": Namespace.Kind.ORG})
    names = [f"ft-{i:05d}" for i in range(children)] + [f"q-{i:05d}" for i in range(grandchildren)]
    repos = Repository.objects.bulk_create(
        [Repository(namespace=ns, name=n, card_license="llama3") for n in names], batch_size=2000
    )
    commits = Commit.objects.bulk_create(
        [Commit(repository=r, sha=hashlib.sha1(r.name.encode()).hexdigest(), title="c") for r in repos],
        batch_size=2000,
    )
    parent_of = {
        r.pk: (root_id if i < children else f"{owner}/{names[i - children]}") for i, r in enumerate(repos)
    }
    now = timezone.now()
    analyses = RevisionAnalysis.objects.bulk_create(
        [
            RevisionAnalysis(
                commit=c,
                status=RevisionAnalysis.Status.DONE,
                result={
                    "id": f"{owner}/{r.name}",
                    "license": {
                        "key": "llama3",
                        "class": "vendor-community",
                        "commercial_use": "conditional",
                    },
                    "lineage": {"base_models": [{"id": parent_of[r.pk], "relation": "finetune"}]},
                    "violations": [],
                },
                license_key="llama3",
                license_class="vendor-community",
                commercial_use="conditional",
                analysed_at=now,
            )
            for r, c in zip(repos, commits, strict=True)
        ],
        batch_size=2000,
    )
    for r, c, a in zip(repos, commits, analyses, strict=True):
        r.head, r.latest_analysis = c, a
    Repository.objects.bulk_update(repos, ["head", "latest_analysis"], batch_size=2000)
    Ref.objects.bulk_create([Ref(repository=r, name="main", commit=r.head) for r in repos], batch_size=2000)
    LineageEdge.objects.bulk_create(
        [
            LineageEdge(
                child=r,
                child_ref=f"{owner}/{r.name}".lower(),
                parent_ref=parent_of[r.pk].lower(),
                parent_display=parent_of[r.pk],
                relation="finetune" if r.name.startswith("ft-") else "quantized",
                parent_license_key="llama3",
                parent_license_class="vendor-community",
                source="registry",
            )
            for r in repos
        ],
        batch_size=2000,
    )
    return root
