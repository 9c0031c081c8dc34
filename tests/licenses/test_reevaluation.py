"""End to end on the server: commits are analysed, lineage and violations stored, and a parent's
licence change re-evaluates every descendant transitively."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model

from hub.auth import Caller
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.repos import create_repository
from licenses.models import LineageEdge, Violation

pytestmark = pytest.mark.django_db(transaction=True)


def card(license_key: str, base_model: str | None = None) -> str:
    lines = ["---", f"license: {license_key}"]
    if base_model:
        lines.append(f"base_model: {base_model}")
    return "\n".join([*lines, "---", "# A model", "", "Trained on data described in the paper."]) + "\n"


def push(repo, readme: str):
    stored = store_small(readme.encode(), 10**6)
    op = AddFile("README.md", stored.sha256, stored.size, False, stored.git_oid)
    return create_commit(repo, "main", CommitRequest(title="update card", operations=[op]))


@pytest.fixture
def caller():
    user = get_user_model().objects.create_user("owner", is_superuser=True)
    return Caller(user)


def make(caller, org: str, name: str, readme: str):
    from hub.models import Namespace

    Namespace.objects.get_or_create(name=org, defaults={"kind": Namespace.Kind.ORG})
    repo, _ = create_repository(caller, name=name, organization=org)
    push(repo, readme)
    repo.refresh_from_db()
    return repo


def open_rules(repo) -> set[str]:
    return set(Violation.objects.filter(repository=repo, status="open").values_list("rule", flat=True))


def test_parent_relicensing_reevaluates_descendants_transitively(caller):
    base = make(caller, "base", "research-model", card("cc-by-nc-4.0"))
    child = make(caller, "org", "chat-ft", card("apache-2.0", "base/research-model"))
    grandchild = make(caller, "org", "chat-ft-gguf", card("apache-2.0", "org/chat-ft"))

    edge = LineageEdge.objects.get(child=child)
    assert (edge.parent_ref, edge.parent_license_class) == ("base/research-model", "noncommercial")
    assert "relicensed-derivative" in open_rules(child)
    first = Violation.objects.get(repository=child, rule="relicensed-derivative")
    assert first.first_commit_id == child.head_id

    push(base, card("apache-2.0"))  # the parent is relicensed

    assert "relicensed-derivative" not in open_rules(child)
    resolved = Violation.objects.get(repository=child, rule="relicensed-derivative")
    assert resolved.status == "resolved"
    assert resolved.events.last().action == "resolved"
    assert LineageEdge.objects.get(child=child).parent_license_class == "osi-permissive"
    # the grandchild was re-analysed too: its edge still points at the child
    assert LineageEdge.objects.get(child=grandchild).parent_ref == "org/chat-ft"
