"""The model page, its files page and the licence pages, through the test client."""

from __future__ import annotations

import re

import pytest

from hub.models import Namespace, OrgMembership
from licenses.models import LineageEdge
from tests.frontend.catalogue_data import PASSWORD, ModelSpecData, make_model

pytestmark = pytest.mark.django_db


def test_licence_panel_answers_first(client, catalogue):
    html = client.get("/meta-llama/Llama-3.1-8B-Instruct").content.decode()
    panel = html[html.index('id="licence"') : html.index('id="violations"')]
    assert "llama3.1" in panel and "Vendor community" in panel and "Commercial use with conditions" in panel
    assert "Built with Llama" in panel  # an obligation's value
    assert re.search(r"<cite>§\s*[\w.]+</cite>", panel)  # obligations cite their clause
    assert "file:LICENSE" in panel  # evidence
    assert html.index('id="licence"') < html.index('id="card"')


def test_violations_transparency_openness_files_revisions(client, catalogue):
    html = client.get("/acme/support-bot-8b").content.decode()
    assert html.count('class="violation sev-') == 3
    assert (
        "relicensed-derivative" in html
        and "§1.b.i" in html
        and "base_model: meta-llama/Llama-3.1-8B-Instruct" in html
    )
    assert 'class="chart met-missed-chart"' in html and "FMTI v1-" in html
    assert "End User Model Weights" in html and "Model Openness Framework" in html  # openness ratings
    assert "4.6\xa0GB" in html  # model-00001-of-00002.safetensors, human-readable size
    assert "HF_ENDPOINT=http://testserver hf download acme/support-bot-8b" in html
    assert "Initial commit" in html and "Update model card" in html and "tag: v1.0" in html


def test_unsafe_pickle_is_flagged_in_files(client, catalogue):
    html = client.get("/research-lab/nc-vision-model").content.decode()
    assert "unsafe: os.system" in html and 'class="unsafe"' in html


def test_lineage_graph_links_parents_and_children(client, catalogue):
    html = client.get("/meta-llama/Llama-3.1-8B-Instruct").content.decode()
    svg = html[html.index('<svg class="lineage-svg"') : html.index("</svg>", html.index("lineage-svg"))]
    assert 'href="/meta-llama/Llama-3.1-8B"' in svg
    assert 'href="/acme/support-bot-8b"' in svg
    assert "has-violations" in svg
    assert "#b8860b" in svg  # vendor-community colour on the llama nodes


def test_private_descendant_is_not_drawn_for_outsiders(client, catalogue):
    secret = make_model(ModelSpecData("acme", "llama-secret-ft", "llama3.1", private=True,
                                      parents=[("meta-llama/Llama-3.1-8B", "finetune")]), catalogue.repos["acme/support-bot-8b"].last_modified)  # fmt: skip
    LineageEdge.objects.create(child=secret, child_ref="acme/llama-secret-ft", parent_ref="meta-llama/llama-3.1-8b",
                               parent_display="meta-llama/Llama-3.1-8B", relation="finetune")  # fmt: skip
    assert "llama-secret-ft" not in client.get("/meta-llama/Llama-3.1-8B").content.decode()
    client.login(username="alice", password=PASSWORD)
    assert "llama-secret-ft" in client.get("/meta-llama/Llama-3.1-8B").content.decode()


def test_private_ancestors_and_what_lies_beyond_them_are_not_drawn_for_outsiders(client, catalogue):
    """A public model derived from a private one, itself from an external base: outsiders see the
    private parent only as a name outside the registry (never its licence), and not the base
    reached only through it."""
    when = catalogue.repos["acme/support-bot-8b"].last_modified
    secret = make_model(ModelSpecData("acme", "secret-base", "cc-by-nc-4.0", private=True,
                                      parents=[("ext-lab/far-base", "finetune")]), when)  # fmt: skip
    public = make_model(
        ModelSpecData("acme", "public-child", "mit", parents=[("acme/secret-base", "finetune")]), when
    )
    LineageEdge.objects.create(child=secret, child_ref="acme/secret-base", parent_ref="ext-lab/far-base",
                               parent_display="ext-lab/far-base", relation="finetune")  # fmt: skip
    LineageEdge.objects.create(child=public, child_ref="acme/public-child", parent_ref="acme/secret-base",
                               parent_display="acme/secret-base", relation="finetune",
                               parent_license_key="cc-by-nc-4.0", parent_license_class="noncommercial")  # fmt: skip

    def drawn() -> str:
        html = client.get("/acme/public-child").content.decode()
        start = html.find('<svg class="lineage-svg"')
        return html[start : html.index("</svg>", start)] if start >= 0 else ""

    outsider = drawn()
    # drawn as a parent outside the registry is drawn (its name is in the public card): no link,
    # no licence, nothing beyond it
    assert "acme/secret-base — no licence data" in outsider and 'href="/acme/secret-base"' not in outsider
    assert "far-base" not in outsider and "cc-by-nc" not in outsider
    client.login(username="alice", password=PASSWORD)  # a member of acme
    assert 'href="/acme/secret-base"' in drawn() and "ext-lab/far-base" in drawn()


def test_private_model_page_is_404_for_non_members(client, catalogue):
    assert client.get("/acme/internal-secret-model").status_code == 404
    client.login(username="bob", password=PASSWORD)
    assert client.get("/acme/internal-secret-model").status_code == 404
    assert client.get("/acme/internal-secret-model/tree/main").status_code == 404
    acme = Namespace.objects.get(name="acme")
    OrgMembership.objects.create(org=acme, user=catalogue.bob)
    assert client.get("/acme/internal-secret-model").status_code == 200


def test_card_is_sanitised_on_the_page(client, catalogue):
    html = client.get("/community/xss-demo").content.decode()
    card = html[html.index('class="card-body"') :]
    assert "<script>window.__xss" not in card and "onerror" not in card and "onmouseover" not in card
    assert 'href="javascript' not in card.lower()
    assert 'rel="noopener nofollow"' in card


def test_tree_by_branch_tag_and_sha(client, catalogue):
    repo = catalogue.repos["meta-llama/Llama-3.1-8B"]
    for rev in ("main", "v1.0", repo.head.sha, repo.head.sha[:7]):
        response = client.get(f"/meta-llama/Llama-3.1-8B/tree/{rev}")
        assert response.status_code == 200, rev
        assert "model-00001-of-00002.safetensors" in response.content.decode()
    assert client.get("/meta-llama/Llama-3.1-8B/tree/no-such-branch").status_code == 404


def test_the_commit_url_of_the_hub_api_leads_to_that_commits_files(client, catalogue):
    """``hf upload`` prints the commit's ``commitUrl`` (``/{repo}/commit/{sha}``); it was a 404."""
    repo = catalogue.repos["acme/support-bot-8b"]
    resp = client.get(f"/acme/support-bot-8b/commit/{repo.head.sha}")
    assert resp.status_code == 200 and repo.head.sha[:12] in resp.content.decode()
    assert client.get(f"/acme/internal-secret-model/commit/{repo.head.sha}").status_code == 404


def test_the_file_folder_and_pull_request_links_the_hub_client_returns_open_pages(client, catalogue):
    """``upload_file`` returns ``/{repo}/blob/{rev}/{path}``, ``upload_folder(path_in_repo=…)``
    ``/{repo}/tree/{rev}/{folder}`` and the hub's ``pullRequestUrl`` is ``/{repo}/discussions/{N}``:
    all three were 404s."""
    from hub.models import Ref

    repo = catalogue.repos["acme/support-bot-8b"]
    blob = client.get("/acme/support-bot-8b/blob/main/README.md")
    assert blob.status_code == 200
    page = blob.content.decode()
    assert "README.md" in page and "model-00001-of-00002.safetensors" not in page
    assert client.get("/acme/support-bot-8b/tree/main/no-such-folder").status_code == 404
    assert client.get("/acme/internal-secret-model/blob/main/README.md").status_code == 404

    assert client.get("/acme/support-bot-8b/discussions/1").status_code == 404  # no such pull request
    Ref.objects.create(repository=repo, kind=Ref.Kind.PR, name="1", commit=repo.head)
    pull = client.get("/acme/support-bot-8b/discussions/1")
    assert pull.status_code == 200 and "refs/pr/1" in pull.content.decode()


def test_unknown_model_is_404(client, catalogue):
    assert client.get("/nobody/nothing").status_code == 404


def test_licence_pages(client, catalogue):
    index = client.get("/licenses").content.decode()
    assert 'href="/licenses/apache-2.0"' in index and 'href="/licenses/llama3.1"' in index
    html = client.get("/licenses/llama3.1").content.decode()
    assert "Llama 3.1" in html and "<cite>" in html
    assert 'href="/meta-llama/Llama-3.1-8B"' in html and 'href="/meta-llama/Llama-3.1-8B-Instruct"' in html
    assert "acme/support-bot-8b" not in html
    assert client.get("/licenses/not-a-licence").status_code == 404


def test_licence_page_hides_private_models(client, catalogue):
    assert "internal-secret-model" not in client.get("/licenses/apache-2.0").content.decode()
    client.login(username="alice", password=PASSWORD)
    assert "internal-secret-model" in client.get("/licenses/apache-2.0").content.decode()


def test_files_page_resolves_revisions_as_the_hub_api_does(client, catalogue):
    """Branches, tags and sha prefixes open; a bare number never names a pull request's ref."""
    from hub.models import Ref, Repository

    repo = Repository.objects.get(namespace__name="acme", name="support-bot-8b")
    head = repo.head
    Ref.objects.create(repository=repo, kind=Ref.Kind.PR, name="1", commit=head)
    assert client.get("/acme/support-bot-8b/tree/main").status_code == 200
    assert client.get("/acme/support-bot-8b/tree/v1.0").status_code == 200
    assert client.get(f"/acme/support-bot-8b/tree/{head.sha[:8]}").status_code == 200
    assert client.get("/acme/support-bot-8b/tree/1").status_code == 404
    assert client.get("/acme/support-bot-8b/tree/no-such-branch").status_code == 404


def test_refs_link_to_pages_that_exist_whatever_their_names(client, catalogue):
    """A branch or tag named with a slash (``feat/x``, ``release/1``: the Hub API creates them) made
    the model page a 500 (the tree route takes no slash), and pull-request refs linked to
    ``/tree/1``, a 404. Slashed names link to their commit, pull requests to their page."""
    from hub.models import Ref

    repo = catalogue.repos["acme/support-bot-8b"]
    head = repo.head
    Ref.objects.create(repository=repo, kind="branch", name="feat/x", commit=head)
    Ref.objects.create(repository=repo, kind="tag", name="release/1", commit=head)
    Ref.objects.create(repository=repo, kind="pr", name="3", commit=head)
    resp = client.get("/acme/support-bot-8b")
    assert resp.status_code == 200
    html = resp.content.decode()
    links = dict(
        (label, href) for href, label in re.findall(r'<a class="ref" href="([^"]+)">([^<]+)</a>', html)
    )
    assert links["branch: feat/x"] == links["tag: release/1"] == f"/acme/support-bot-8b/tree/{head.sha}"
    assert links["pr: 3"] == "/acme/support-bot-8b/discussions/3"
    assert links["tag: v1.0"] == "/acme/support-bot-8b/tree/v1.0"
    for href in {links["branch: feat/x"], links["tag: v1.0"]}:
        assert client.get(href).status_code == 200, href


def _licence_panel(client, model_id: str) -> str:
    html = client.get(f"/{model_id}").content.decode()
    return html[html.index('id="licence"') : html.index('id="violations"')]


def test_licence_panel_lists_the_obligations_of_every_licence_in_force(client, db):
    """The key alone named one licence: a relabelled fine-tune showed Apache's obligations and not
    the Llama terms it still carries, an AND model only its most restrictive licence's."""
    from licenses.engine.kb import default_kb
    from tests.licenses.factories import analysed_model

    base = [{"id": "meta-llama/Llama-3.1-8B", "relation": "finetune", "license_key": "llama3.1"}]
    analysed_model("acme/relabelled-ft", "apache-2.0", "osi-permissive", "yes", base_models=base)
    panel = _licence_panel(client, "acme/relabelled-ft")
    assert "Obligations of" in panel and "base model meta-llama/Llama-3.1-8B" in panel
    assert "Built with Llama" in panel and "§1.b.iv" in panel and "§4(d)" in panel

    repo = analysed_model("acme/both", "cc-by-nc-4.0", "noncommercial", "no")
    analysis = repo.latest_analysis
    analysis.result["license"]["spdx"] = "LicenseRef-scancode-llama-3.1-license-2024 AND CC-BY-NC-4.0"
    analysis.save(update_fields=["result"])
    panel = _licence_panel(client, "acme/both")
    for key in ("llama3.1", "cc-by-nc-4.0"):
        for ob in default_kb().get(key).obligations:
            assert f"<cite>{ob.clause}</cite>" in panel, (key, ob.kind)
    assert "Built with Llama" in panel


def test_obligations_never_show_a_private_parents_licence_to_outsiders(client, db, django_user_model):
    """The obligations in force include each base model's licence; a base model private to others
    reads like one outside the registry (as in the lineage graph and the compliance API): its
    licence, recorded when the child was analysed, is not listed to someone who cannot see it."""
    from tests.licenses.factories import analysed_model

    secret = analysed_model("acme/secret-base", "cc-by-nc-4.0", "noncommercial", "no", private=True)
    base = [{"id": "acme/secret-base", "relation": "finetune", "license_key": "cc-by-nc-4.0",
             "license_class": "noncommercial", "source": "registry"}]  # fmt: skip
    analysed_model("acme/public-child", "mit", "osi-permissive", "yes", base_models=base)

    outsider = _licence_panel(client, "acme/public-child")
    assert "cc-by-nc-4.0" not in outsider and "acme/secret-base" not in outsider
    assert "Obligations" in outsider  # MIT's own are still listed

    member = django_user_model.objects.create_user("carol", password="a long enough pass 1")
    OrgMembership.objects.create(org=secret.namespace, user=member)
    client.force_login(member)
    assert "base model acme/secret-base" in _licence_panel(client, "acme/public-child")


def test_the_graph_says_when_lineage_lies_beyond_the_generations_it_draws(client, catalogue):
    """deep/m0 ← m1 ← … ← m5: four generations up and two down are drawn; a note (and a link to the
    full walk) says when more lie beyond, and not what lies beyond a private model."""
    when = catalogue.repos["acme/support-bot-8b"].last_modified
    chain = []
    for i in range(6):
        parents = [(f"deep/m{i - 1}", "finetune")] if i else []
        chain.append(make_model(ModelSpecData("deep", f"m{i}", "mit", parents=parents), when))
        if i:
            LineageEdge.objects.create(child=chain[i], child_ref=f"deep/m{i}", parent_ref=f"deep/m{i - 1}",
                                       parent_display=f"deep/m{i - 1}", relation="finetune")  # fmt: skip

    def cuts(name: str) -> list[str]:
        return re.findall(r'data-lineage-cut="(\w+)"', client.get(f"/deep/{name}").content.decode())

    assert cuts("m5") == ["ancestors"] and cuts("m4") == []  # m0 is the fifth generation up from m5
    assert cuts("m0") == ["descendants"] and cuts("m3") == []
    assert cuts("m2") == ["descendants"]
    assert 'href="/api/v1/lineage/deep/m5/ancestors"' in client.get("/deep/m5").content.decode()
    chain[1].private = True
    chain[1].save(update_fields=["private"])
    assert cuts("m5") == []  # beyond the private m1: its card's, not even that something is there
