"""The download surface through Django's test client: shapes, headers, errors, visibility."""

from __future__ import annotations

import hashlib

import pytest

from hub.models import AccessRequest, Ref, git_blob_sha1, lfs_pointer
from hub.services.refs import create_ref
from tests.hub.conftest import make_repo, token_for

pytestmark = pytest.mark.django_db

README = b"""---
license: llama3.1
base_model: meta-llama/Llama-3.1-8B
library_name: transformers
pipeline_tag: text-generation
datasets: [acme/data]
---
# Card
"""
WEIGHTS = bytes(range(256)) * 4096  # 1 MiB, stored through LFS


@pytest.fixture
def repo(alice, fs_store):
    return make_repo(
        alice, "llama-ft", {"README.md": README, "config.json": b'{"x": 1}', "w/model.safetensors": WEIGHTS},
        lfs=("w/model.safetensors",),
    )  # fmt: skip


def test_model_info_shape(client, repo):
    body = client.get("/api/models/alice/llama-ft").json()
    assert body["id"] == "alice/llama-ft" and body["author"] == "alice"
    assert len(body["sha"]) == 40 and body["sha"] == repo.head.sha
    assert body["private"] is False and body["gated"] is False
    assert body["cardData"]["license"] == "llama3.1"
    assert {"license:llama3.1", "base_model:meta-llama/Llama-3.1-8B", "base_model:finetune:meta-llama/Llama-3.1-8B",
            "dataset:acme/data", "transformers", "safetensors"} <= set(body["tags"])  # fmt: skip
    assert body["lastModified"].endswith("Z") and body["createdAt"].endswith("Z")
    assert {s["rfilename"] for s in body["siblings"]} == {
        ".gitattributes",
        "README.md",
        "config.json",
        "w/model.safetensors",
    }
    assert body["baseModels"] == {"relation": "finetune", "models": [{"id": "meta-llama/Llama-3.1-8B"}]}


def test_ids_are_opaque_and_stable(client, alice, fs_store):
    """``_id`` must not count repositories: sequential ids showed where the private ones were."""
    for name in ("one", "two", "three"):
        make_repo(alice, name, {"README.md": b"# x\n"})
    first = {m["id"]: m["_id"] for m in client.get("/api/models?author=alice").json()}
    assert len(set(first.values())) == 3 and all(len(v) == 24 and int(v, 16) >= 0 for v in first.values())
    pks = sorted(int(v, 16) for v in first.values())
    assert pks[-1] - pks[0] > 1000  # not consecutive counters
    assert client.get("/api/models/alice/two").json()["_id"] == first["alice/two"]  # the same in both views


def test_blobs_and_expand(client, repo):
    sib = {s["rfilename"]: s for s in client.get("/api/models/alice/llama-ft?blobs=true").json()["siblings"]}
    lfs = sib["w/model.safetensors"]
    assert lfs["size"] == len(WEIGHTS)
    digest = hashlib.sha256(WEIGHTS).hexdigest()
    assert lfs["lfs"] == {
        "sha256": digest,
        "size": len(WEIGHTS),
        "pointerSize": len(lfs_pointer(digest, len(WEIGHTS))),
    }
    assert lfs["blobId"] == git_blob_sha1(lfs_pointer(digest, len(WEIGHTS)))
    assert sib["config.json"]["blobId"] == git_blob_sha1(b'{"x": 1}') and "lfs" not in sib["config.json"]
    body = client.get("/api/models/alice/llama-ft?expand=cardData&expand[]=sha").json()
    assert set(body) == {"_id", "id", "cardData", "sha"}
    assert client.get("/api/models/alice/llama-ft?expand=sha&blobs=true").status_code == 400


def test_expand_refuses_properties_the_hub_does_not_know(client, repo):
    """A typo (``card_data``) answered 200 with only ``id``: the caller read it as "no card data"."""
    for url in ("/api/models/alice/llama-ft?expand=card_data", "/api/models?expand=card_data"):
        resp = client.get(url)
        assert resp.status_code == 400, url
        assert "card_data" in resp["X-Error-Message"] and "cardData" in resp["X-Error-Message"]
    # a dataset property is not a model property, and the other way round
    assert client.get("/api/models?expand=citation").status_code == 400
    assert client.get("/api/datasets?expand=safetensors").status_code == 400
    # Hub properties this hub does not compute are left out, as the Hub leaves out what a repo has none of
    body = client.get("/api/models/alice/llama-ft?expand=gguf&expand=transformersInfo&expand[]=sha").json()
    assert set(body) == {"_id", "id", "sha"}
    assert client.get("/api/datasets?expand=citation&expand=mainSize").status_code == 200
    # a private repository stays a 404 whatever the expand
    assert client.get("/api/models/alice/no-such?expand=bogus").status_code == 404


def test_resolve_headers_range_and_errors(client, repo):
    sha = repo.head.sha
    head = client.head("/alice/llama-ft/resolve/main/w/model.safetensors")
    assert head.status_code == 200
    assert head["X-Repo-Commit"] == sha
    assert head["X-Linked-Etag"] == f'"{hashlib.sha256(WEIGHTS).hexdigest()}"'
    assert head["X-Linked-Size"] == str(len(WEIGHTS)) and head["Content-Length"] == str(len(WEIGHTS))
    assert "X-Xet-Hash" not in head
    small = client.head("/alice/llama-ft/resolve/main/config.json")
    config_oid = git_blob_sha1(b'{"x": 1}')
    assert small["ETag"] == f'"{config_oid}"' and "X-Linked-Etag" not in small
    part = client.get("/alice/llama-ft/resolve/main/w/model.safetensors", HTTP_RANGE="bytes=1000-")
    assert part.status_code == 206
    assert part["Content-Range"] == f"bytes 1000-{len(WEIGHTS) - 1}/{len(WEIGHTS)}"
    assert b"".join(part.streaming_content) == WEIGHTS[1000:]
    tail = client.get("/alice/llama-ft/resolve/main/w/model.safetensors", HTTP_RANGE="bytes=-10")
    assert b"".join(tail.streaming_content) == WEIGHTS[-10:]
    bad = client.get("/alice/llama-ft/resolve/main/config.json", HTTP_RANGE="bytes=999-")
    assert bad.status_code == 416 and bad["Content-Range"] == "bytes */8"
    full = client.get(f"/alice/llama-ft/resolve/{sha}/config.json")
    assert full.status_code == 200 and b"".join(full.streaming_content) == b'{"x": 1}'
    missing = client.head("/alice/llama-ft/resolve/main/nope.bin")
    assert missing.status_code == 404 and missing["X-Error-Code"] == "EntryNotFound"
    assert missing["X-Repo-Commit"] == sha
    norev = client.head("/alice/llama-ft/resolve/nobranch/config.json")
    assert norev.status_code == 404 and norev["X-Error-Code"] == "RevisionNotFound"
    norepo = client.head("/alice/nothing/resolve/main/config.json")
    assert norepo.status_code == 404 and norepo["X-Error-Code"] == "RepoNotFound"


PAGE = b"<html><body><script>alert(document.cookie)</script></body></html>"


@pytest.mark.parametrize(
    ("path", "served"),
    [
        ("x.html", "text/plain; charset=utf-8"),
        ("x.htm", "text/plain; charset=utf-8"),
        ("x.shtml", "text/plain; charset=utf-8"),
        ("x.svg", "text/plain; charset=utf-8"),  # image/svg+xml runs script when opened
        ("x.xml", "text/plain; charset=utf-8"),
        ("x.xhtml", "text/plain; charset=utf-8"),
        ("notes.md", "text/plain; charset=utf-8"),
        ("config.json", "application/json; charset=utf-8"),
        ("x.png", "application/octet-stream"),
        ("x", "application/octet-stream"),
    ],
)
def test_uploaded_files_are_never_served_as_pages(client, alice, fs_store, path, served):
    """A file shares the catalogue's origin: served as a page, an uploaded .html would run its
    script in every signed-in reader's session. Text is served as text, in a sandbox."""
    make_repo(alice, "pages", {path: PAGE})
    for response in (
        client.head(f"/alice/pages/resolve/main/{path}"),
        client.get(f"/alice/pages/resolve/main/{path}"),
    ):
        assert response.status_code == 200
        assert response["Content-Type"] == served
        assert response["X-Content-Type-Options"] == "nosniff"
        csp = response["Content-Security-Policy"]
        assert "sandbox" in csp and "default-src 'none'" in csp


def test_branch_names_with_slashes_resolve(client, repo):
    create_ref(repo, Ref.Kind.BRANCH, "feature/x", "main")
    resp = client.head("/alice/llama-ft/resolve/feature/x/w/model.safetensors")
    assert resp.status_code == 200 and resp["X-Repo-Commit"] == repo.head.sha
    tree = client.get("/api/models/alice/llama-ft/tree/feature%2Fx/w")
    assert [e["path"] for e in tree.json()] == ["w/model.safetensors"]


def test_tree_and_paths_info(client, repo):
    root = client.get("/api/models/alice/llama-ft/tree/main?recursive=false").json()
    assert [(e["type"], e["path"]) for e in root] == [
        ("directory", "w"), ("file", ".gitattributes"), ("file", "README.md"), ("file", "config.json")
    ]  # fmt: skip
    deep = client.get("/api/models/alice/llama-ft/tree/main?recursive=true&expand=true").json()
    weights = next(e for e in deep if e["path"] == "w/model.safetensors")
    assert weights["lfs"]["oid"] == hashlib.sha256(WEIGHTS).hexdigest() and "xetHash" not in weights
    assert weights["lastCommit"]["id"] == repo.head.sha
    assert client.get("/api/models/alice/llama-ft/tree/main/nope").json()["error"]
    info = client.post(
        "/api/models/alice/llama-ft/paths-info/main",
        data={"paths": ["config.json", "w", "missing"], "expand": "false"},
    ).json()
    assert [(e["type"], e["path"]) for e in info] == [("file", "config.json"), ("directory", "w")]


def test_private_repo_is_404_everywhere(client, alice, bob, fs_store):
    make_repo(alice, "secret", {"config.json": b"{}"}, private=True)
    bob_token = token_for(bob)
    for auth in ({}, {"HTTP_AUTHORIZATION": f"Bearer {bob_token}"}):
        for url in ("/api/models/alice/secret", "/api/models/alice/secret/tree/main",
                    "/api/models/alice/secret/revision/main", "/api/v1/repos/alice/secret",
                    "/api/v1/repos/alice/secret/files", "/api/v1/repos/alice/secret/analysis"):  # fmt: skip
            assert client.get(url, **auth).status_code == 404, url
        resp = client.head("/alice/secret/resolve/main/config.json", **auth)
        assert resp.status_code == 404 and resp["X-Error-Code"] == "RepoNotFound"
        assert (
            client.post(
                "/api/models/alice/secret/paths-info/main", {"paths": "config.json"}, **auth
            ).status_code
            == 404
        )
        assert "alice/secret" not in [m["id"] for m in client.get("/api/models?search=secret", **auth).json()]
        assert "alice/secret" not in [
            r["id"] for r in client.get("/api/v1/repos?search=secret", **auth).json()["results"]
        ]
    owner = {"HTTP_AUTHORIZATION": f"Bearer {token_for(alice)}"}
    assert client.get("/api/models/alice/secret", **owner).json()["private"] is True
    assert [m["id"] for m in client.get("/api/models?search=secret", **owner).json()] == ["alice/secret"]


def test_gated_repo(client, alice, bob, fs_store):
    repo = make_repo(alice, "gated", {"config.json": b"{}"}, gated="manual")
    info = client.get("/api/models/alice/gated").json()
    assert info["gated"] == "manual"  # metadata stays public
    anon = client.head("/alice/gated/resolve/main/config.json")
    assert anon.status_code == 401 and anon["X-Error-Code"] == "GatedRepo"
    bob_auth = {"HTTP_AUTHORIZATION": f"Bearer {token_for(bob)}"}
    denied = client.head("/alice/gated/resolve/main/config.json", **bob_auth)
    assert denied.status_code == 403 and denied["X-Error-Code"] == "GatedRepo"
    assert (
        client.post("/api/models/alice/gated/user-access-request", **bob_auth).json()["status"] == "pending"
    )
    assert client.head("/alice/gated/resolve/main/config.json", **bob_auth).status_code == 403
    AccessRequest.objects.filter(repository=repo, user=bob).update(status="accepted")
    assert client.head("/alice/gated/resolve/main/config.json", **bob_auth).status_code == 200
    assert client.get("/api/models/alice/gated/auth-check", **bob_auth).status_code == 200


def test_list_filters_sort_and_link_pagination(client, alice, bob, fs_store, settings):
    settings.MODELHUB_API_PAGE_SIZE = 2
    for i in range(5):
        make_repo(
            alice if i % 2 else bob,
            f"m{i}",
            {"README.md": b"---\nlicense: mit\n---\n" if i < 3 else b"# x\n"},
        )
    ids, url = [], "/api/models?sort=createdAt&direction=-1&full=true"
    while url:
        resp = client.get(url)
        page = resp.json()
        assert len(page) <= 2
        ids += [m["id"] for m in page]
        link = resp.headers.get("Link")
        url = link[1 : link.index(">")].replace("http://testserver", "") if link else None
    assert ids == ["bob/m4", "alice/m3", "bob/m2", "alice/m1", "bob/m0"]
    assert [m["id"] for m in client.get("/api/models?filter=license:mit&author=bob").json()] == [
        "bob/m0",
        "bob/m2",
    ]
    assert {m["id"] for m in client.get("/api/models?search=m3").json()} == {"alice/m3"}
    full = client.get("/api/models?author=alice&full=true&limit=1").json()[0]
    assert "sha" in full and {"rfilename": "README.md"} in full["siblings"]


def test_xet_endpoints_explain_themselves(client, repo):
    resp = client.get("/api/models/alice/llama-ft/xet-read-token/main")
    assert resp.status_code == 400 and "HF_HUB_DISABLE_XET=1" in resp["X-Error-Message"]


def test_nul_bytes_in_urls_are_refused_cleanly(client, repo):
    assert client.head("/alice/llama-ft/resolve/main/con%00fig.json").status_code == 400
    assert client.get("/api/models?search=a%00b").status_code == 400
    assert client.get("/api/models/alice/llama-ft/tree/ma%00in").status_code == 400


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/api/models/gpt2"),  # legacy single-segment ids: repo_exists("gpt2"), model_info("gpt2")
        ("get", "/api/models/gpt2/revision/main"),
        ("get", "/api/models/gpt2/tree/main"),
        ("post", "/api/models/gpt2/paths-info/main"),
        ("get", "/api/datasets/squad"),
        ("head", "/gpt2/resolve/main/config.json"),  # hf_hub_download("gpt2", …), file_exists
        ("get", "/gpt2/resolve/main/config.json"),
        ("get", "/api/spaces/alice/demo"),  # repo_exists(…, repo_type="space"), space_info
        ("head", "/spaces/alice/demo/resolve/main/app.py"),
    ],
)
def test_repository_shapes_no_route_takes_are_repo_not_found(client, settings, debug, method, path):
    """Django's HTML 404 carried no X-Error-Code: the client raised a bare HfHubHTTPError (repo_exists
    raised instead of answering False) and hf_hub_download said to check the connection."""
    settings.DEBUG = debug
    resp = getattr(client, method)(path)
    assert resp.status_code == 404
    assert resp["X-Error-Code"] == "RepoNotFound" and resp["X-Error-Message"]
    assert resp["Content-Type"] == "application/json"


@pytest.mark.parametrize("debug", [False, True])
@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("post", "/api/repos/move"),  # move_repo
        ("post", "/api/models/alice/x/duplicate"),  # duplicate_repo
        ("post", "/api/models/alice/x/super-squash/main"),  # super_squash_history
        ("get", "/api/settings/repositories"),  # hf repos ls
        ("get", "/api/models-tags-by-type"),  # get_model_tags
    ],
)
def test_unimplemented_hub_endpoints_say_so_in_json(client, settings, debug, method, path):
    settings.DEBUG = debug
    resp = getattr(client, method)(path, HTTP_AUTHORIZATION="Bearer whatever")
    assert resp.status_code == 404 and resp["Content-Type"] == "application/json"
    assert "X-Error-Code" not in resp  # the endpoint is missing, not the repository
    assert "not implemented by this hub" in resp["X-Error-Message"] == resp.json()["error"]


def test_catalogue_pages_keep_their_html_404(client, fs_store):
    # a catalogue page of a missing repository named "resolve" is the catalogue's own 404, not the Hub API's
    assert client.get("/nobody/resolve").get("Content-Type", "").startswith("text/html")
    assert client.get("/nobody/resolve/tree/main").get("Content-Type", "").startswith("text/html")
    assert client.get("/no-such-page/at/all").get("Content-Type", "").startswith("text/html")
