"""The lineage graph in the database: recording edges and transitive walks (recursive CTEs)."""

from __future__ import annotations

import pytest

from hub.models import Namespace, Repository
from licenses.models import LineageEdge
from licenses.services.lineage import (
    ancestors,
    descendants,
    descendants_of_license_classes,
    model_ref,
    record_lineage,
    repositories_for,
)

pytestmark = pytest.mark.django_db


def repo(repo_id: str) -> Repository:
    owner, name = repo_id.split("/")
    ns, _ = Namespace.objects.get_or_create(name=owner, defaults={"kind": Namespace.Kind.ORG})
    return Repository.objects.create(namespace=ns, name=name)


def link(child: Repository, *parents: tuple[str, str, str]) -> None:
    record_lineage(
        child,
        [
            {"id": pid, "relation": rel, "license_class": cls, "source": "registry"}
            for pid, rel, cls in parents
        ],
    )


@pytest.fixture
def tree():
    """base (NC) ← ft1 ← ft2 ← q3 ; other (permissive) ← ft1b ; merge of ft2 + ft1b."""
    ft1, ft2, q3, ft1b, merged = (repo(x) for x in ("org/ft1", "org/ft2", "org/q3", "org/ft1b", "org/merged"))
    link(ft1, ("Base/NC-Model", "finetune", "noncommercial"))
    link(ft2, ("org/ft1", "finetune", "noncommercial"))
    link(q3, ("org/ft2", "quantized", "noncommercial"))
    link(ft1b, ("other/permissive", "finetune", "osi-permissive"))
    link(merged, ("org/ft2", "merge", "noncommercial"), ("org/ft1b", "merge", "osi-permissive"))
    return {r.name: r for r in (ft1, ft2, q3, ft1b, merged)}


def test_model_ref_normalises():
    assert model_ref(" https://huggingface.co/Meta-Llama/Llama-2-7b-hf/ ") == "meta-llama/llama-2-7b-hf"


def test_ancestors_nearest_first_through_a_merge(tree):
    got = [(n.ref, n.depth) for n in ancestors("org/merged")]
    assert got == [
        ("org/ft1b", 1),
        ("org/ft2", 1),
        ("org/ft1", 2),
        ("other/permissive", 2),
        ("base/nc-model", 3),
    ]


def test_descendants_of_a_root(tree):
    got = [(n.ref, n.depth) for n in descendants("base/NC-Model")]
    assert got == [("org/ft1", 1), ("org/ft2", 2), ("org/merged", 3), ("org/q3", 3)]
    assert descendants("org/q3") == []


def test_which_models_descend_from_something_noncommercial(tree):
    refs = {n.ref for n in descendants_of_license_classes(["noncommercial"])}
    assert refs == {"org/ft1", "org/ft2", "org/q3", "org/merged"}
    assert "org/ft1b" not in refs
    assert descendants_of_license_classes([]) == []


def test_cycles_in_bad_metadata_terminate():
    a, b = repo("x/a"), repo("x/b")
    link(a, ("x/b", "finetune", ""))
    link(b, ("x/a", "finetune", ""))
    assert {n.ref for n in descendants("x/a")} == {"x/a", "x/b"}


def test_record_lineage_replaces_edges_and_dedupes(tree):
    ft2 = tree["ft2"]
    record_lineage(ft2, [{"id": "Other/Permissive", "relation": "adapter"}, {"id": "other/permissive"}])
    edges = list(LineageEdge.objects.filter(child=ft2))
    assert [(e.parent_ref, e.relation, e.parent_display) for e in edges] == [
        ("other/permissive", "adapter", "Other/Permissive")
    ]
    assert "org/ft2" not in {n.ref for n in descendants("base/nc-model")}


def test_repositories_for_maps_nodes_to_registry_rows(tree):
    found = repositories_for(descendants("base/nc-model"))
    assert set(found) == {"org/ft1", "org/ft2", "org/q3", "org/merged"}
    assert found["org/q3"].name == "q3"
