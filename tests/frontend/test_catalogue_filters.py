"""``/models``: every filter, sorting, keyset pagination, search and visibility, through the test client."""

from __future__ import annotations

import re

import pytest

from frontend import catalogue as catalogue_query
from tests.frontend.catalogue_data import PASSWORD

pytestmark = pytest.mark.django_db

ID = re.compile(r'class="model-id" href="/([^"]+)"')


def ids(client, query: str = "") -> list[str]:
    response = client.get("/models" + query)
    assert response.status_code == 200
    return ID.findall(response.content.decode())


def every_page(client, query: str, limit: int = 50) -> list[str]:
    """The model ids of ``/models?query`` and of every page its Next links lead to, in order."""
    seen: list[str] = []
    url = "/models?" + query
    for _ in range(limit):
        html = client.get(url).content.decode()
        seen += ID.findall(html)
        nxt = re.search(r'rel="next" href="\?([^"]+)"', html)
        if not nxt:
            break
        url = "/models?" + nxt.group(1).replace("&amp;", "&")
    return seen


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("?license=cc-by-nc-4.0", {"research-lab/nc-vision-model"}),
        ("?license=llama3.1", {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"}),
        ("?license_class=rail", {"artists/sd-style-finetune", "bigcode/starcoder-mini"}),
        ("?license_class=unknown", {"someone/no-license-model"}),
        ("?commercial=no", {"research-lab/nc-vision-model"}),
        ("?commercial=conditional", {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct"}),
        ("?task=image-classification", {"research-lab/nc-vision-model"}),
        ("?library=gguf", {"community/mistral-7b-gguf"}),
        (
            "?violations=open",
            {"acme/support-bot-8b", "research-lab/nc-vision-model", "someone/no-license-model"},
        ),
        (
            "?source=mirrored",
            {"meta-llama/Llama-3.1-8B", "meta-llama/Llama-3.1-8B-Instruct", "mistralai/Mistral-7B-v0.1"},
        ),
        ("?disclosure=3", {"research-lab/nc-vision-model"}),
        ("?search=mistral", {"mistralai/Mistral-7B-v0.1", "community/mistral-7b-gguf"}),
        ("?search=meta-llama%2FLlama-3.1-8B-Instruct", {"meta-llama/Llama-3.1-8B-Instruct"}),
        ("?search=mistral&license_class=osi-permissive&library=gguf", {"community/mistral-7b-gguf"}),
    ],
)
def test_filters(client, catalogue, query, expected):
    assert set(ids(client, query)) == expected


def test_native_excludes_mirrors_and_violation_none_excludes_flagged(client, catalogue):
    native = set(ids(client, "?source=native&sort=downloads"))
    assert "meta-llama/Llama-3.1-8B" not in native and "acme/support-bot-8b" in native
    clean = set(ids(client, "?violations=none&search=support"))
    assert clean == set()


def test_transparency_range(client, catalogue):
    low, high = 30, 50
    found = ids(client, f"?tmin={low}&tmax={high}&sort=transparency")
    assert found
    for repo_id in found:
        score = catalogue.repos[repo_id].latest_analysis.transparency_score
        assert low <= score <= high
    scores = [catalogue.repos[r].latest_analysis.transparency_score for r in found]
    assert scores == sorted(scores, reverse=True)


def test_policy_filter_keeps_only_models_passing_its_licence_rules(client, catalogue):
    found = set(ids(client, "?policy=commercial-saas&sort=downloads"))
    assert "mistralai/Mistral-7B-v0.1" in found and "meta-llama/Llama-3.1-8B" in found
    assert "research-lab/nc-vision-model" not in found  # noncommercial class is denied
    assert "artists/sd-style-finetune" not in found  # rail is not in allow_classes
    assert "someone/no-license-model" not in found  # unknown: deny


def test_unknown_policy_says_so(client, catalogue):
    response = client.get("/models?policy=nope")
    assert "No policy named" in response.content.decode()
    assert ID.findall(response.content.decode()) == []


@pytest.mark.parametrize("sort", ["downloads", "likes", "lastModified", "createdAt", "transparency"])
def test_keyset_pagination_visits_every_model_once(client, catalogue, sort):
    seen = every_page(client, f"sort={sort}", limit=5)
    assert len(seen) == len(set(seen)) == 44


def test_downloads_sort_order(client, catalogue):
    found = ids(client, "?sort=downloads")
    downloads = [catalogue.repos[r].downloads for r in found]
    assert downloads == sorted(downloads, reverse=True)
    assert found[0] == "meta-llama/Llama-3.1-8B"


def test_tampered_cursor_shows_the_first_page(client, catalogue):
    assert ids(client, "?cursor=not-a-cursor") == ids(client, "")


def test_counts_are_capped(client, catalogue, monkeypatch):
    monkeypatch.setattr("frontend.catalogue.COUNT_CAP", 10)
    html = client.get("/models?license_class=osi-permissive").content.decode()
    assert "<strong>10+</strong> models" in html
    assert (
        "<strong>44</strong> models" in client.get("/models").content.decode()
    )  # the unfiltered total is exact


def test_private_model_visible_only_to_members(client, catalogue):
    assert "acme/internal-secret-model" not in ids(client, "?search=internal")
    client.login(username="bob", password=PASSWORD)
    assert "acme/internal-secret-model" not in ids(client, "?search=internal")
    client.logout()
    client.login(username="alice", password=PASSWORD)
    assert ids(client, "?search=internal") == ["acme/internal-secret-model"]


def test_partial_results_for_live_filtering(client, catalogue):
    response = client.get("/models?search=llama", headers={"X-Partial": "results"})
    html = response.content.decode()
    assert html.lstrip().startswith('<div id="results"') and "<html" not in html
    # the same URL serves the whole page: caches must tell them apart (the Back button showed the fragment)
    assert "X-Partial" in response["Vary"] and "no-store" in response["Cache-Control"]
    assert "X-Partial" in client.get("/models?search=llama")["Vary"]


def test_every_search_result_is_reachable_through_the_pages(client, catalogue, monkeypatch):
    """On SQLite a search is ordered by downloads but paged by number; the pager offered the keyset
    links instead (no Next, and a "First page" pointing at itself), so results past the first page
    could not be reached."""
    monkeypatch.setattr("frontend.catalogue.PAGE_SIZE", 3)
    seen = every_page(client, "search=tiny")
    count = int(
        re.search(
            r"<strong>(\d+)</strong> models? matching", client.get("/models?search=tiny").content.decode()
        ).group(1)
    )
    assert len(seen) == len(set(seen)) == count > 3


def test_relevance_pages_are_bounded(client, catalogue):
    result = catalogue_run("tiny", page=99)
    assert result.page_number == 2 and not result.has_next_page_number


def test_the_result_line_claims_relevance_only_where_results_are_ranked_by_it(client, catalogue):
    """PostgreSQL ranks a search by relevance; SQLite orders it by downloads and must say so."""
    from frontend.search import is_postgres

    html = client.get("/models?search=llama").content.decode()
    assert ("most relevant first" in html) == is_postgres()


def catalogue_run(search: str, page: int = 1):
    from django.contrib.auth.models import AnonymousUser
    from django.http import QueryDict

    f = catalogue_query.CatalogueFilters.from_query(QueryDict(f"search={search}&p={page}"))
    return catalogue_query.run(AnonymousUser(), f)


@pytest.mark.parametrize("typed", ["Apache-2.0", "apache license 2.0", "Llama 3.1"])
def test_a_licence_name_in_search_offers_its_filter(client, catalogue, typed):
    """Search matches model ids and card text: a licence's name found nothing and said nothing."""
    from licenses.engine.kb import default_kb

    key = default_kb().lookup(typed).key
    html = client.get("/models", {"search": typed}).content.decode()
    assert f'href="/models?license={key}"' in html and "is a licence" in html
    assert "is a licence" not in client.get("/models", {"search": "tiny"}).content.decode()
