"""``/datasets/{owner}/{name}``: the dataset's licence as models are judged with it, and who names it."""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.test import Client

from hub.auth import Caller
from hub.models import ApiToken, Namespace
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.repos import create_repository

pytestmark = pytest.mark.django_db(transaction=True)


def push(repo, readme: str) -> None:
    stored = store_small(readme.encode(), 10**6)
    op = AddFile("README.md", stored.sha256, stored.size, False, stored.git_oid)
    create_commit(repo, "main", CommitRequest(title="card", operations=[op]))
    repo.refresh_from_db()


@pytest.fixture
def owner() -> Caller:
    user = get_user_model().objects.create_user("owner", password="pw")
    Namespace.objects.get_or_create(name="lab", defaults={"kind": Namespace.Kind.ORG})
    from hub.models import OrgMembership

    OrgMembership.objects.create(
        org=Namespace.objects.get(name="lab"), user=user, role=OrgMembership.Role.ADMIN
    )
    return Caller(user, ApiToken(scope="write"))


def test_a_dataset_page_says_its_licence_and_the_models_naming_it(owner):
    dataset, _ = create_repository(owner, name="chats", organization="lab", repo_type="dataset")
    push(dataset, "---\nlicense: cc-by-nc-4.0\n---\n# Chats\nConversations <script>alert(1)</script>.\n")
    model, _ = create_repository(owner, name="assistant", organization="lab")
    push(model, "---\nlicense: apache-2.0\ndatasets:\n- lab/chats\n---\n# Assistant\n")

    html = Client().get("/datasets/lab/chats").content.decode()
    assert "<code>cc-by-nc-4.0</code>" in html and "<dt>Commercial use</dt><dd>no</dd>" in html
    assert 'href="/lab/assistant"' in html
    assert "<script>alert(1)</script>" not in html  # the card is sanitised as a model card is
    # the commitUrl the Hub client prints for a dataset upload, and its files
    sha = dataset.head.sha
    for path in (f"/datasets/lab/chats/commit/{sha}", "/datasets/lab/chats/tree/main"):
        page = Client().get(path)
        assert page.status_code == 200 and "--repo-type dataset" in page.content.decode()


def test_a_private_dataset_is_a_404_to_others_and_not_read_into_analyses(owner):
    dataset, _ = create_repository(
        owner, name="secret-data", organization="lab", repo_type="dataset", private=True
    )
    push(dataset, "---\nlicense: cc-by-nc-4.0\n---\n# Secret\n")
    assert Client().get("/datasets/lab/secret-data").status_code == 404
    assert Client().get("/datasets/lab/nothing-here").status_code == 404
    member = Client()
    member.login(username="owner", password="pw")
    html = member.get("/datasets/lab/secret-data").content.decode()
    assert "is not read into any model" in html
