"""PostgreSQL full-text search: the query uses the GIN index, and results are ranked by relevance."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.http import QueryDict
from django.utils import timezone

from frontend import catalogue as catalogue_query
from frontend import search
from hub.models import Repository
from tests.frontend.catalogue_data import ModelSpecData, make_model
from tests.services import unavailable

pytestmark = [pytest.mark.services, pytest.mark.django_db]


@pytest.fixture
def postgres():
    if connection.vendor != "postgresql":
        unavailable("PostgreSQL", f"DATABASE_URL points at {connection.vendor}, not PostgreSQL")


def run(query: str):
    return catalogue_query.run(AnonymousUser(), catalogue_query.CatalogueFilters.from_query(QueryDict(query)))


def test_search_uses_the_gin_index(postgres, catalogue):
    with connection.cursor() as cursor:
        cursor.execute(
            "SET CONSTRAINTS ALL IMMEDIATE"
        )  # the fixture's deferred FK checks block DDL otherwise
    assert search.ensure_indexes()
    # Only the search condition, so no other index competes: the plan proves the expression matches the index.
    qs = search.matching(Repository.objects.all(), "llama instruct").values("pk")
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        sql, params = qs.query.sql_with_params()
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert search.INDEX_NAME in plan, plan


def test_relevance_beats_popularity(postgres, catalogue):
    now = timezone.now()
    make_model(ModelSpecData("lab", "popular-thing", "mit", downloads=10_000_000,
                             description="A general model that can also do some speech tasks."), now)  # fmt: skip
    make_model(ModelSpecData("lab", "speech-recognizer", "mit", downloads=10,
                             description="Speech recognition: speech to text for speech corpora."), now)  # fmt: skip
    result = run("search=speech")
    assert [r.repo_id for r in result.page.items][:2] == ["lab/speech-recognizer", "lab/popular-thing"]
    assert run("search=speech&sort=downloads").page.items[0].repo_id == "lab/popular-thing"


def test_prefix_and_punctuation_matching(postgres, catalogue):
    found = {r.repo_id for r in run("search=Llama-3.1-8B-Instr").page.items}
    assert found == {"meta-llama/Llama-3.1-8B-Instruct"}
    found = {r.repo_id for r in run("search=mistr").page.items}
    assert found == {"mistralai/Mistral-7B-v0.1", "community/mistral-7b-gguf"}


def test_dense_lookup_finds_the_most_downloaded_matches(postgres, catalogue, monkeypatch):
    base = catalogue_query.base_queryset(None)
    expected = sorted(
        (r for r in catalogue.repos.values() if r.name.startswith("tiny-model")), key=lambda r: -r.downloads
    )
    monkeypatch.setattr(search, "RANK_CANDIDATES", 3)
    assert search.dense_candidates(base, "tiny model") == [r.pk for r in expected[:3]]
    monkeypatch.setattr(search, "WINDOW", 5)  # the five most downloaded models hold no "tiny" model
    assert search.dense_candidates(base, "tiny model") is None


def test_every_route_of_a_search_gives_the_same_first_page(postgres, catalogue, monkeypatch):
    reference = [r.repo_id for r in run("search=tiny").page.items]
    assert len(reference) == 30
    monkeypatch.setattr(search, "RANK_CANDIDATES", 30)
    monkeypatch.setattr(search, "likely_dense", lambda text: True)  # dense route
    assert {r.repo_id for r in run("search=tiny").page.items} == set(reference)
    monkeypatch.setattr(search, "likely_dense", lambda text: False)
    monkeypatch.setattr(search, "PROBE_FIRST", 5)  # probe overflows, then the dense route
    assert {r.repo_id for r in run("search=tiny").page.items} == set(reference)
