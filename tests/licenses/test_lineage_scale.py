"""Lineage at the Hub's real scale and shape, on the server.

Popular base models have thousands of derivatives; cards name hundreds of parents, the same one
many times, kilobyte-long "ids". Reads must stay bounded (a fixed number of queries, a page of
rows) however big the family, and odd declarations must lose nothing else the analysis stores.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from hub.auth import Caller
from hub.models import Namespace, Repository, RevisionAnalysis
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.repos import create_repository
from licenses.models import LineageEdge, Violation


def card(license_key: str, *parents: str) -> str:
    listed = "".join(f"\n- {p}" for p in parents)
    return f"---\nlicense: {license_key}\nbase_model:{listed}\n---\n# A model\n"


@pytest.fixture
def caller(db) -> Caller:
    return Caller(get_user_model().objects.create_user("owner", is_superuser=True))


def make(caller: Caller, repo_id: str, readme: str) -> Repository:
    org, name = repo_id.split("/")
    Namespace.objects.get_or_create(name=org, defaults={"kind": Namespace.Kind.ORG})
    repo, _ = create_repository(caller, name=name, organization=org)
    stored = store_small(readme.encode(), 10**6)
    op = AddFile("README.md", stored.sha256, stored.size, False, stored.git_oid)
    create_commit(repo, "main", CommitRequest(title="card", operations=[op]))
    repo.refresh_from_db()
    return repo


@pytest.mark.django_db(transaction=True)
def test_a_kilobyte_parent_id_loses_neither_the_edges_nor_the_findings(caller):
    """Before: the 10 kB id overflowed the edge column, the receiver's transaction rolled back, and
    the relabelled Llama 3 fine-tune had no edge (a relicensing of Llama 3 never re-judged it) and
    no violation rows (absent from the triage queue), while its analysis listed the error."""
    make(caller, "meta-llama/Meta-Llama-3-8B", card("llama3"))
    child = make(
        caller, "org/relabelled", card("apache-2.0", "meta-llama/Meta-Llama-3-8B", "a/" + "b" * 10_000)
    )
    analysis = RevisionAnalysis.objects.get(commit_id=child.head_id)
    assert analysis.status == RevisionAnalysis.Status.DONE
    assert list(LineageEdge.objects.filter(child=child).values_list("parent_ref", flat=True)) == [
        "meta-llama/meta-llama-3-8b"
    ]
    rules = set(Violation.objects.filter(repository=child).values_list("rule", flat=True))
    assert "relicensed-derivative" in rules
    assert len(analysis.result["lineage"]["invalid_parents"]) == 1


@pytest.mark.django_db(transaction=True)
def test_a_card_naming_a_thousand_parents_is_judged_on_the_bound_and_says_so(caller):
    from licenses.engine.lineage import MAX_PARENTS

    parents = [f"p{i}/m{i}" for i in range(1000)]
    merge = make(caller, "org/merge", card("apache-2.0", *parents, "org/merge", "p1/m1"))
    lineage = RevisionAnalysis.objects.get(commit_id=merge.head_id).result["lineage"]
    assert len(lineage["base_models"]) == MAX_PARENTS
    assert (lineage["parents_named"], lineage["parents_ignored"]) == (1000, 1000 - MAX_PARENTS)
    assert LineageEdge.objects.filter(child=merge).count() == MAX_PARENTS
