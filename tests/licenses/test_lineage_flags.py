"""Lineage answers say when they were cut at the walk's depth bound, and the paged descendant walks
answer nothing private to the viewer even when a repository turns private between their statements."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from hub.models import Namespace, Ref, Repository
from licenses.engine.policy import load_policy
from licenses.models import LineageEdge
from licenses.services import compliance
from licenses.services import lineage as L
from licenses.services.compliance import ModelSpec, check_models
from tests.licenses.factories import analysed_model

pytestmark = pytest.mark.django_db

DEEP = L.MAX_DEPTH
POLICY = {"name": "p", "use": {"commercial": True}, "licenses": {"unknown": "allow"}}


def ref(i: int) -> str:
    return f"c/m{i:04d}"


def edges(owner: str, parents: dict[int, list[int]], n: int, private: frozenset[int] = frozenset()) -> None:
    """``n`` registry models ``owner/m0000`` …; model i names ``parents[i]`` (edge rows written
    directly, as the analysis would)."""
    ns = Namespace.objects.create(name=owner, kind=Namespace.Kind.ORG)
    repos = Repository.objects.bulk_create(
        [Repository(namespace=ns, name=f"m{i:04d}", private=i in private) for i in range(n)]
    )
    now = timezone.now()
    LineageEdge.objects.bulk_create(
        [
            LineageEdge(
                child=repos[i], child_ref=f"{owner}/m{i:04d}", parent_ref=f"{owner}/m{j:04d}",
                parent_display=f"{owner}/m{j:04d}", relation="finetune", updated_at=now,
            )
            for i in range(n)
            for j in parents.get(i, [])
        ]
    )  # fmt: skip


@pytest.fixture
def deep_chain():
    """c/m0000 ← … ← c/m0065, and two analysed fine-tunes: ``c/cut`` of m0065 (66 ancestors: the
    walk is cut) and ``c/whole`` of m0063 (exactly MAX_DEPTH ancestors: not cut)."""
    edges("c", {i: [i - 1] for i in range(1, DEEP + 2)}, DEEP + 2)
    for name, parent in (("cut", ref(DEEP + 1)), ("whole", ref(DEEP - 1))):
        repo = analysed_model(f"c/{name}", "apache-2.0", "permissive", "yes", base_models=[{"id": parent}])
        L.record_lineage(repo, [{"id": parent}])
    Ref.objects.create(repository=Repository.objects.get(name="cut"), kind=Ref.Kind.TAG, name="v1",
                       commit=Repository.objects.get(name="cut").head)  # fmt: skip


@pytest.mark.parametrize("prepare", ["1", "0"])
def test_a_check_says_when_its_ancestor_walk_was_cut(deep_chain, monkeypatch, prepare):
    monkeypatch.setenv("MODELHUB_DB_PREPARE", prepare)  # the heads statement walks, or ancestors_many
    policy = load_policy(POLICY)
    cut, whole, tagged = check_models(
        [ModelSpec("c/cut"), ModelSpec("c/whole"), ModelSpec("c/cut", "v1")], policy, None
    )
    assert len(cut["lineage"]["ancestors"]) == DEEP and cut["lineage"]["ancestors_truncated"] is True
    assert cut["lineage"]["ancestors"][-1] == {"id": ref(2), "depth": DEEP}
    assert len(whole["lineage"]["ancestors"]) == DEEP and "ancestors_truncated" not in whole["lineage"]
    # a revision named by tag is answered by the other (full-analysis) path: the same marker
    assert tagged["lineage"]["ancestors"] == cut["lineage"]["ancestors"]
    assert tagged["lineage"]["ancestors_truncated"] is True


def test_the_check_api_carries_the_marker(deep_chain, client):
    body = {"models": ["c/cut", "c/whole"], "policy": POLICY}
    results = client.post("/api/v1/compliance/check", body, content_type="application/json").json()["results"]
    assert [r["lineage"].get("ancestors_truncated") for r in results] == [True, None]


def test_a_revisions_own_ancestry_is_cut_at_the_bound_and_says_so():
    edges("c", {i: [i - 1] for i in range(1, DEEP + 2)}, DEEP + 2)
    walked = compliance._ancestry({"cut": [ref(DEEP)], "whole": [ref(DEEP - 1)]})
    assert len(walked["cut"].nodes) == DEEP and walked["cut"].truncated
    assert max(n.depth for n in walked["cut"].nodes) == DEEP  # not MAX_DEPTH + 1 levels
    assert len(walked["whole"].nodes) == DEEP and not walked["whole"].truncated


def test_a_private_ancestor_hides_the_cut_beyond_it(deep_chain):
    """What lies beyond a private model is its card's: the marker must not tell it is there."""
    Repository.objects.filter(name=f"m{DEEP - 2:04d}").update(private=True)
    (result,) = check_models([ModelSpec("c/cut")], load_policy(POLICY), None)
    assert "ancestors_truncated" not in result["lineage"]
    assert result["lineage"]["ancestors"][-1] == {"id": ref(DEEP - 2), "depth": 4}


def made_private_between_statements(monkeypatch, name: str) -> None:
    """Turn ``name`` private right after the walk's private descendants were looked up (a commit
    by another request between the page's statements, as PostgreSQL's READ COMMITTED sees it)."""
    original = L._hidden_below

    def racing(*args, **kwargs):
        found = original(*args, **kwargs)
        Repository.objects.filter(namespace__name="r", name=name).update(private=True)
        return found

    monkeypatch.setattr(L, "_hidden_below", racing)


@pytest.fixture
def family():
    """r/m0000 ← m0001, m0002, m0003; m0002 ← m0004 (only through m0002); edges to m0000 are
    recorded with a noncommercial parent class."""
    edges("r", {1: [0], 2: [0], 3: [0], 4: [2]}, 5)
    LineageEdge.objects.filter(parent_ref="r/m0000").update(parent_license_class="noncommercial")


@pytest.mark.parametrize(
    "walk",
    [
        lambda user: L.descendants_page("r/m0000", user, limit=10),
        lambda user: L.derived_from_page(["noncommercial"], user, limit=10),
    ],
    ids=["descendants_page", "derived_from_page"],
)
def test_a_repository_made_private_between_the_statements_is_not_answered(family, monkeypatch, walk):
    made_private_between_statements(monkeypatch, "m0002")
    page = walk(AnonymousUser())
    assert [n.ref for n in page.nodes] == ["r/m0001", "r/m0003"]  # nor m0004, reached only through it
    assert page.total == 2


def test_the_model_page_sample_does_not_draw_one_made_private_in_between(family, monkeypatch):
    made_private_between_statements(monkeypatch, "m0002")
    sample = L.descendant_sample("r/m0000", AnonymousUser(), 2, 12)
    assert [n.ref for n in sample.nodes] == ["r/m0001", "r/m0003"] and sample.totals == {1: 2}


def test_a_reader_of_the_private_repository_still_sees_it(family, monkeypatch, django_user_model):
    owner = django_user_model.objects.create_user("owner", password="x", is_superuser=True)
    made_private_between_statements(monkeypatch, "m0002")
    page = L.descendants_page("r/m0000", owner, limit=10)
    assert [n.ref for n in page.nodes] == ["r/m0001", "r/m0002", "r/m0003", "r/m0004"]


def test_the_sample_says_when_descendants_lie_deeper():
    edges("s", {i: [i - 1] for i in range(1, 5)}, 5)  # s/m0000 ← … ← s/m0004
    assert L.descendant_sample("s/m0000", AnonymousUser(), 2, 12).truncated
    assert not L.descendant_sample("s/m0002", AnonymousUser(), 2, 12).truncated


def test_the_lineage_headers_are_in_the_openapi_schema(client):
    paths = client.get("/api/v1/schema?format=json").json()["paths"]
    for path in ("/api/v1/lineage/{owner}/{name}/descendants", "/api/v1/lineage/derived-from"):
        headers = paths[path]["get"]["responses"]["200"]["headers"]
        assert {"X-Lineage-Truncated", "X-Total-Count"} <= set(headers), path
    assert (
        "X-Lineage-Truncated"
        in paths["/api/v1/lineage/{owner}/{name}/ancestors"]["get"]["responses"]["200"]["headers"]
    )
