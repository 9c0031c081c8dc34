"""Lineage at the Hub's real scale and shape, on the server.

Popular base models have thousands of derivatives; cards name hundreds of parents, the same one
many times, kilobyte-long "ids". Reads must stay bounded (a fixed number of queries, a page of
rows) however big the family, and odd declarations must lose nothing else the analysis stores.
"""

from __future__ import annotations

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext

from hub.auth import Caller
from hub.models import Namespace, Repository, RevisionAnalysis
from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, create_commit
from hub.services.repos import create_repository
from licenses.models import LineageEdge, Violation
from licenses.services.lineage import descendants
from tests.licenses.factories import bulk_family


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


def _statements(client, url: str) -> tuple[int, int, object]:
    """(queries, longest SQL statement, response) of one GET."""
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    return len(queries), max(len(q["sql"]) for q in queries.captured_queries), response


@pytest.mark.django_db
def test_the_model_page_of_a_big_family_sends_no_statement_that_grows_with_it(client):
    """Before: every descendant two generations down was fetched and looked up with an OR of one
    (owner, name) term each: a 1.3 MB statement and 30 s for a base with 11,000 derivatives, to draw 24."""
    bulk_family("small/base", 30, 3, owner="s")
    bulk_family("big/base", 300, 30, owner="b")
    small = _statements(client, "/small/base")
    big = _statements(client, "/big/base")
    assert small[2].status_code == big[2].status_code == 200
    assert big[0] == small[0]  # as many queries
    assert big[1] < 10_000 and big[1] <= small[1] + 100  # no statement grows with the family
    page = big[2].content.decode()
    assert "…and 306 more derivatives" in page  # 330 visible, 12 per generation drawn
    assert page.count('data-ref="b/ft-') == 12 and page.count('data-ref="b/q-') == 12


@pytest.mark.django_db
def test_descendants_are_paged_with_the_total_and_links(client):
    base = bulk_family("meta/base", 30, 5, owner="f")
    walk = [(n.ref, n.depth) for n in descendants(base.repo_id)]
    assert len(walk) == 35
    got, url = [], "/api/v1/lineage/meta/base/descendants?limit=10"
    while url:
        response = client.get(url)
        assert response.status_code == 200 and response["X-Total-Count"] == "35"
        got += [(n["id"].lower(), n["depth"]) for n in response.json()]
        nxt = [part for part in response.get("Link", "").split(", ") if part.endswith('rel="next"')]
        url = nxt[0][1 : nxt[0].index(">")] if nxt else None
    assert got == walk
    last = client.get("/api/v1/lineage/meta/base/descendants?limit=10&offset=30")
    assert len(last.json()) == 5 and 'rel="prev"' in last["Link"] and 'rel="next"' not in last["Link"]
    past = client.get("/api/v1/lineage/meta/base/descendants?offset=500")
    assert past.json() == [] and past["X-Total-Count"] == "35"
    default = client.get("/api/v1/lineage/derived-from?class=vendor-community")
    assert default["X-Total-Count"] == "35" and "Link" not in default  # one page of up to 1,000


@pytest.mark.django_db
def test_a_private_descendant_is_neither_listed_nor_counted_nor_walked_through(client):
    bulk_family("meta/base", 4, 2, owner="f")  # f/q-00000 ← f/ft-00000, f/q-00001 ← f/ft-00001
    Repository.objects.filter(namespace__name="f", name="ft-00000").update(private=True)
    response = client.get("/api/v1/lineage/meta/base/descendants")
    ids = [n["id"] for n in response.json()]
    assert "f/ft-00000" not in ids and "f/q-00000" not in ids and "f/q-00001" in ids
    assert response["X-Total-Count"] == str(len(ids)) == "4"
