"""Mirroring through the real ``huggingface_hub`` client from a local upstream seeded with real cards."""

from __future__ import annotations

import hashlib
import io
import json
import re
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.core.management import call_command
from django.test import Client

from hub.blobstore import get_blob_store
from hub.models import Blob, Commit, RepoFile, Repository, RevisionAnalysis
from hub.services.snapshot import snapshot_for_commit
from tests.fixtures.upstream.server import git_blob_sha1, tiny_safetensors
from tests.services import free_port
from workers.mirror.files import CopyOptions, UpstreamFile, choose
from workers.mirror.run import execute
from workers.mirror.upstream import strip_xet
from workers.models import MirroredRepo, MirrorRun, MirrorSpec

pytestmark = pytest.mark.django_db(transaction=True)


def mirror(upstream, *args: str) -> MirrorRun:
    out, err = io.StringIO(), io.StringIO()
    call_command("mirror", "--upstream", upstream.url, "--no-progress", *args, stdout=out, stderr=err)
    assert " done: " in out.getvalue(), out.getvalue() + err.getvalue()
    return MirrorRun.objects.order_by("-pk").first()


def run_spec(spec: MirrorSpec) -> MirrorRun:
    run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream)
    result = execute(run.pk)
    assert result is not None and result.status == MirrorRun.Status.DONE, result and result.error
    return result


def repo(repo_id: str) -> Repository:
    owner, name = repo_id.split("/")
    return Repository.objects.get(namespace__name=owner, name=name)


def test_full_mirror_of_real_cards_matches_upstream_and_rerun_is_a_noop(upstream):
    state = upstream.state
    run = mirror(upstream, "--files", "all", "--concurrency", "4")
    assert run.listed == len(state.repos) >= 150
    assert run.failed == 0 and run.changed == len(state.repos)
    weights = [r for r in state.repos.values() if "model.safetensors" in r.head.files]
    assert len(weights) >= 15
    # identical files across repos (the same LICENSE text) are stored once and may be fetched once
    contents = [c for r in state.repos.values() for c in r.head.files.values()]
    distinct = {hashlib.sha256(c).hexdigest(): len(c) for c in contents}
    assert len(distinct) <= run.fetched <= len(contents)
    assert sum(distinct.values()) <= run.bytes <= sum(len(c) for c in contents)

    store = get_blob_store()
    for repo_id, up in state.repos.items():
        local = repo(repo_id)
        assert local.mirror_status == "ok" and local.head.sha == up.head.sha == local.upstream_sha
        files = {f.path: f for f in RepoFile.objects.filter(commit=local.head)}
        assert set(files) == set(up.head.files)
        for path, content in up.head.files.items():
            row = files[path]
            assert row.sha256 == hashlib.sha256(content).hexdigest() and row.size == len(content)
            assert row.lfs == (path in up.head.lfs)
            if not row.lfs:
                assert row.oid == git_blob_sha1(content)
            with store.open(row.sha256) as fh:
                assert fh.read() == content
    # every mirrored revision was analysed
    assert RevisionAnalysis.objects.filter(status="done").count() == len(state.repos)

    # a client pinned to the upstream revision sees the same sha on our hub
    sample = weights[0]
    answer = Client().get(f"/api/models/{sample.id}/revision/{sample.head.sha}")
    assert answer.status_code == 200 and answer.json()["sha"] == sample.head.sha

    before = (
        Commit.objects.count(),
        RepoFile.objects.count(),
        Blob.objects.count(),
        Repository.objects.count(),
    )
    n_requests = len(state.log)
    again = mirror(upstream, "--files", "all")
    assert (again.listed, again.changed, again.fetched, again.bytes, again.failed) == (
        len(state.repos),
        0,
        0,
        0,
        0,
    )
    assert (
        Commit.objects.count(),
        RepoFile.objects.count(),
        Blob.objects.count(),
        Repository.objects.count(),
    ) == before
    new_requests = [path for _, path, _ in state.log[n_requests:]]
    assert new_requests and all(p.startswith("/api/models?") for p in new_requests), new_requests[:5]


def test_a_changed_card_upstream_becomes_a_new_commit(upstream, model_cards):
    versions = upstream.state.card_versions(model_cards)
    assert versions
    mirror(upstream, "--files", "small")
    old = {rid: repo(rid).head for rid in versions}
    for rid, files in versions.items():
        upstream.state.put(rid, files)
    run = mirror(upstream, "--files", "small")
    assert run.changed == len(versions) and run.failed == 0
    for rid, files in versions.items():
        local = repo(rid)
        assert local.head.sha == upstream.state.repos[rid].head.sha != old[rid].sha
        # both revisions carry upstream's commit dates (first import in bulk, the update one by one),
        # which is what revision-aware licence resolution reads
        first, second = upstream.state.repos[rid].revisions[-2:]
        assert old[rid].created_at == first.date and local.head.created_at == second.date
        assert local.last_modified == second.date != first.date
        assert snapshot_for_commit(local.head).last_modified == second.date
        assert local.head.parent_id == old[rid].pk
        readme = RepoFile.objects.get(commit=local.head, path="README.md")
        assert readme.sha256 == hashlib.sha256(files["README.md"]).hexdigest()
        assert RevisionAnalysis.objects.get(commit=local.head).status == "done"
        assert local.latest_analysis.commit_id == local.head_id


def test_xet_hints_are_not_kept(upstream):
    mirror(upstream, "--files", "all", "--limit", "30")
    assert upstream.state.expose_xet
    for state in MirroredRepo.objects.all():
        assert "xet" not in json.dumps(state.metadata).lower()
        assert "xet" not in json.dumps(state.siblings).lower()
    # and what we serve again carries none either
    rid = MirroredRepo.objects.first().upstream_id
    answer = Client().get(f"/api/models/{rid}?blobs=true")
    assert answer.status_code == 200 and "xet" not in answer.content.decode().lower()


def test_selection_authors_search_tags_top_and_limit(upstream):
    ids = sorted(upstream.state.repos)
    author = max({i.split("/")[0] for i in ids}, key=lambda a: sum(i.startswith(a + "/") for i in ids))
    run = mirror(upstream, "--author", author, "--files", "none")
    expected = {i for i in ids if i.startswith(author + "/")}
    assert run.listed == len(expected) > 1
    assert {m.upstream_id for m in MirroredRepo.objects.all()} == expected

    MirroredRepo.objects.all().delete()
    Repository.objects.all().delete()
    run = mirror(upstream, "--tag", "license:apache-2.0", "--search", "gguf", "--files", "none")
    expected = {
        i
        for i, r in upstream.state.repos.items()
        if "license:apache-2.0" in r.head.tags and "gguf" in i.lower()
    }
    assert expected and {m.upstream_id for m in MirroredRepo.objects.all()} == expected

    MirroredRepo.objects.all().delete()
    Repository.objects.all().delete()
    run = mirror(upstream, "--top", "7", "--files", "none")
    top = sorted(upstream.state.repos.values(), key=lambda r: (-r.downloads, r.id))[:7]
    assert run.listed == 7 and {m.upstream_id for m in MirroredRepo.objects.all()} == {r.id for r in top}

    run = mirror(upstream, "--limit", "12", "--files", "none")
    assert run.listed == 12


def test_descendants_of_follows_the_model_tree(upstream):
    state = upstream.state
    base = "acme-test/base-model"
    state.put(base, {"README.md": b"---\nlicense: apache-2.0\n---\n# base\n"})
    state.put(
        "acme-test/child", {"README.md": f"---\nlicense: apache-2.0\nbase_model: {base}\n---\n".encode()}
    )
    state.put("acme-test/grandchild", {"README.md": b"---\nlicense: mit\nbase_model: acme-test/child\n---\n"})
    spec = MirrorSpec.objects.create(name="tree", upstream=upstream.url, descendants_of=base, files="none")
    run = run_spec(spec)
    assert {m.upstream_id for m in MirroredRepo.objects.all()} == {"acme-test/child", "acme-test/grandchild"}
    assert run.listed == 2


def test_files_modes_and_limits(upstream):
    with_weights = next(r for r in upstream.state.repos.values() if "model.safetensors" in r.head.files)
    rid = with_weights.id

    mirror(upstream, "--repo", rid, "--files", "none")
    assert set(RepoFile.objects.filter(commit=repo(rid).head).values_list("path", flat=True)) == {"README.md"}

    Repository.objects.all().delete()
    MirroredRepo.objects.all().delete()
    mirror(upstream, "--repo", rid, "--files", "small")
    small = set(RepoFile.objects.filter(commit=repo(rid).head).values_list("path", flat=True))
    assert small == set(with_weights.head.files) - {"model.safetensors"}

    Repository.objects.all().delete()
    MirroredRepo.objects.all().delete()
    mirror(upstream, "--repo", rid, "--files", "all", "--max-file-size", "100")
    assert "model.safetensors" not in set(
        RepoFile.objects.filter(commit=repo(rid).head).values_list("path", flat=True)
    )
    state = MirroredRepo.objects.get(upstream_id=rid)
    assert any(s["path"] == "model.safetensors" and s["sha256"] for s in state.siblings)  # listed, not copied

    # widening the options re-syncs the same sha: copying what was skipped, without a second commit row
    run = mirror(upstream, "--repo", rid, "--files", "all", "--pattern", "*.safetensors")
    assert run.fetched >= 1
    assert "model.safetensors" in set(
        RepoFile.objects.filter(commit=repo(rid).head).values_list("path", flat=True)
    )


def test_a_weight_whose_bytes_do_not_match_the_lfs_oid_is_rejected_and_never_visible(upstream):
    state = upstream.state
    weights = tiny_safetensors(uuid.uuid4().hex)  # content no other test stored
    state.put(
        "acme-test/lying",
        {"README.md": b"---\nlicense: mit\n---\n", "model.safetensors": weights},
        lfs=["model.safetensors"],
    )
    victim = state.repos["acme-test/lying"]
    announced = hashlib.sha256(victim.head.files["model.safetensors"]).hexdigest()
    real_info = state.info

    def lying_info(repo_obj, rev, *, blobs):  # upstream announces one oid and serves other bytes
        data = real_info(repo_obj, rev, blobs=blobs)
        if repo_obj.id == victim.id:
            victim.head.files["model.safetensors"] = b"tampered" + b"\0" * 100
        return data

    state.info = lying_info
    run = mirror(upstream, "--repo", victim.id, "--files", "all")
    error = run.errors[0]["error"].lower()
    assert run.failed == 1 and ("sha256" in error or "checksum" in error), error
    assert not Blob.objects.filter(sha256=announced).exists()
    assert get_blob_store().stat(announced) is None
    tampered = hashlib.sha256(victim.head.files["model.safetensors"]).hexdigest()
    assert get_blob_store().stat(tampered) is None
    assert not Commit.objects.filter(sha=victim.head.sha).exists()


def test_429_and_503_are_waited_out(upstream, fast_retries):
    state = upstream.state
    limit = {"RateLimit": '"api";r=0;t=1', "RateLimit-Policy": '"fixed window";"api";q=500;w=300'}
    state.fail(r"^/api/models$", 429, times=1, headers={"Retry-After": "1"})
    state.fail(r"^/api/models$", 503, times=2)
    state.fail(r"/resolve/", 429, times=2, headers=limit)
    state.fail(r"/resolve/", 503, times=3)
    run = mirror(upstream, "--files", "small", "--limit", "40")
    assert run.failed == 0 and run.changed == 40
    statuses = [s for _, _, s in state.log]
    assert statuses.count(429) == 3 and statuses.count(503) == 5
    # after each 429 the same URL is not asked again before the window the server named has passed
    timeline = list(state.timeline)
    for i, (at, path, status) in enumerate(timeline):
        if status == 429:
            retry = next(t for t, p, _ in timeline[i + 1 :] if p == path)
            assert retry - at >= 0.95, f"{path} retried {retry - at:.2f}s after a 429 asking for 1s"


def test_strip_xet_removes_hints_wherever_they_are():
    entry = {
        "type": "file", "oid": "a" * 40, "size": 5, "path": "model.safetensors", "xetHash": "x",
        "lfs": {"oid": "b" * 64, "size": 5, "pointerSize": 134, "xet_hash": "y"},
        "siblings": [{"rfilename": "a", "xetHash": "z"}], "xetEnabled": True,
    }  # fmt: skip
    clean = strip_xet(entry)
    assert "xet" not in json.dumps(clean).lower()
    assert clean["lfs"] == {"oid": "b" * 64, "size": 5, "pointerSize": 134} and clean["siblings"] == [
        {"rfilename": "a"}
    ]


def test_an_upstream_that_keeps_failing_fails_that_repo_only(upstream, fast_retries):
    victim = upstream.state.order[3]
    upstream.state.fail(re.escape(f"/{victim}/resolve/"), 503, times=10**6)
    run = mirror(upstream, "--files", "none", "--limit", "10")
    assert run.status == "done" and run.failed == 1 and run.changed == 9
    assert run.errors[0]["repo"] == victim and "gave up" in run.errors[0]["error"]
    assert not Repository.objects.filter(name=victim.split("/")[1]).exists()  # never half-created
    upstream.state.faults.clear()
    run = mirror(upstream, "--files", "none", "--limit", "10")
    assert (run.changed, run.failed) == (1, 0) and repo(victim).mirror_status == "ok"


def test_an_upstream_asking_for_an_hour_fails_the_repo_instead_of_parking_the_worker(upstream, fast_retries):
    victim = sorted(upstream.state.repos)[0]
    upstream.state.fail(re.escape(f"/{victim}/resolve/"), 429, times=10**6, headers={"Retry-After": "3600"})
    started = time.monotonic()
    run = mirror(upstream, "--repo", victim, "--files", "none")
    assert run.failed == 1 and "asked to wait" in run.errors[0]["error"]
    assert time.monotonic() - started < 30


def test_gated_and_disappeared_repos_are_kept_and_marked(upstream):
    state = upstream.state
    ids = sorted(state.repos)[:20]
    spec = MirrorSpec.objects.create(name="some", upstream=upstream.url, repo_ids=ids, files="small")
    run_spec(spec)
    gated, gone = ids[2], ids[5]
    heads = {rid: repo(rid).head_id for rid in (gated, gone)}

    state.set_gated(gated, "manual")
    state.update_file(gated, "README.md", state.repos[gated].head.files["README.md"] + b"\nnew text\n")
    state.remove(gone)
    run = run_spec(spec)
    assert run.failed == 0  # neither is a failure of ours: both are reported as what they are
    kinds = {e["repo"]: e["kind"] for e in run.errors}
    assert kinds == {gated: "needs-access", gone: "gone"}
    g, d = repo(gated), repo(gone)
    assert g.mirror_status == "needs-access" and g.gated == "manual" and g.head_id == heads[gated]
    assert (
        d.mirror_status == "gone" and d.mirror_error.startswith("gone upstream") and d.head_id == heads[gone]
    )
    assert MirroredRepo.objects.get(upstream_id=gone).gone_at is not None

    # a token the upstream accepts unlocks the gated repo
    state.tokens.add("hf_test_token")
    spec.token_env = "MIRROR_TEST_TOKEN"
    spec.save()
    import os

    os.environ["MIRROR_TEST_TOKEN"] = "hf_test_token"
    try:
        run_spec(spec)
    finally:
        del os.environ["MIRROR_TEST_TOKEN"]
    g.refresh_from_db()
    assert g.mirror_status == "ok" and g.head.sha == state.repos[gated].head.sha


def test_access_rules_follow_the_upstream_even_without_a_new_commit(upstream, monkeypatch):
    """A repository private upstream (seen with the spec's token) was mirrored public, and one gated
    or made private upstream without a new commit stayed open here on every later run."""
    state = upstream.state
    ids = sorted(state.repos)[:6]
    secret, gated_later, private_later = ids[0], ids[1], ids[2]
    state.set_private(secret, True)
    state.tokens.add("hf_test_token")
    monkeypatch.setenv("MIRROR_TEST_TOKEN", "hf_test_token")
    spec = MirrorSpec.objects.create(
        name="some", upstream=upstream.url, repo_ids=ids, files="small", token_env="MIRROR_TEST_TOKEN"
    )
    run_spec(spec)
    assert repo(secret).private and not repo(gated_later).private
    path = f"/{secret}/resolve/main/README.md"
    assert Client().get(path).status_code == 404  # invisible here as it is there

    state.set_gated(gated_later, "manual")
    state.set_private(private_later, True)
    run_spec(spec)  # neither has a new commit
    assert repo(gated_later).gated == "manual" and repo(private_later).private
    assert Client().get(f"/{gated_later}/resolve/main/README.md").status_code == 401
    assert Client().get(f"/{private_later}/resolve/main/README.md").status_code == 404

    state.set_private(private_later, False)
    run_spec(spec)
    assert not repo(private_later).private

    # made private here by an operator: an upstream commit does not make it public again
    local = ids[3]
    Repository.objects.filter(pk=repo(local).pk).update(private=True)
    state.update_file(local, "README.md", state.repos[local].head.files["README.md"] + b"\nmore\n")
    run_spec(spec)
    assert repo(local).private and repo(local).head.sha == state.repos[local].head.sha


def test_overlapping_specs_with_different_files_never_shrink_a_revision(upstream):
    """``files: none`` after ``all`` on the same repositories removed the weights from the very
    revision the other spec had copied (404 until its next run), on every run, in turn."""
    ids = [
        r for r in sorted(upstream.state.repos) if "model.safetensors" in upstream.state.repos[r].head.files
    ][:3]
    everything = MirrorSpec.objects.create(name="all", upstream=upstream.url, repo_ids=ids, files="all")
    cards = MirrorSpec.objects.create(name="cards", upstream=upstream.url, repo_ids=ids, files="none")
    run_spec(everything)
    before = {
        r: set(RepoFile.objects.filter(commit=repo(r).head).values_list("path", flat=True)) for r in ids
    }
    assert all("model.safetensors" in paths for paths in before.values())
    run_spec(cards)
    after = {r: set(RepoFile.objects.filter(commit=repo(r).head).values_list("path", flat=True)) for r in ids}
    assert after == before
    assert Client().get(f"/{ids[0]}/resolve/main/model.safetensors").status_code == 200


def test_listing_spec_marks_repos_that_disappeared(upstream):
    state = upstream.state
    spec = MirrorSpec.objects.create(name="all", upstream=upstream.url, files="none")
    run_spec(spec)
    gone = sorted(state.repos)[7]
    state.remove(gone)
    run = run_spec(spec)
    assert run.failed == 0 and [e["kind"] for e in run.errors] == ["gone"]
    assert repo(gone).mirror_status == "gone" and repo(gone).head is not None


def test_a_sweep_that_cannot_ask_counts_the_repo_as_failed(upstream, fast_retries):
    """Unlisted repositories are asked about one by one; one whose question keeps failing is a
    failure of the run like any other (counted and listed), not a log line only."""
    state = upstream.state
    spec = MirrorSpec.objects.create(name="sweep", upstream=upstream.url, files="none")
    run_spec(spec)
    gone, unknown = sorted(state.repos)[7], sorted(state.repos)[8]
    state.remove(gone)
    state.remove(unknown)
    state.fail(rf"^/api/models/{re.escape(unknown)}$", 503, times=100)
    run = run_spec(spec)
    assert run.failed == 1
    assert sorted((e["repo"], e["kind"]) for e in run.errors) == sorted([(gone, "gone"), (unknown, "failed")])
    assert repo(unknown).mirror_status == "ok"  # not known to be gone: left as it was


def test_a_repo_that_disappeared_is_shown_as_gone_and_unmarked_when_it_comes_back(upstream):
    state = upstream.state
    spec = MirrorSpec.objects.create(name="all", upstream=upstream.url, files="small")
    run_spec(spec)
    rid = sorted(state.repos)[11]
    owner, name = rid.split("/")
    head = repo(rid).head_id
    with state.lock:  # taken down upstream, kept aside to be put back
        saved = state.repos[rid]
    state.remove(rid)
    run_spec(spec)
    api = Client().get(f"/api/v1/repos/{owner}/{name}")
    assert api.status_code == 200 and api.json()["mirror_status"] == "gone"
    assert api.json()["sha"] == saved.head.sha  # kept, with its revision
    page = Client().get(f"/{owner}/{name}")
    assert page.status_code == 200 and "Gone upstream" in page.content.decode()
    listing = Client().get("/models", {"search": name}).content.decode()
    assert "mirror · gone upstream" in listing  # the catalogue's result card says so too
    assert MirroredRepo.objects.get(upstream_id=rid).gone_at is not None

    with state.lock:  # back upstream, same revision
        state.repos[rid] = saved
        state.order.append(rid)
    run = run_spec(spec)
    assert run.failed == 0 and not [e for e in run.errors if e["repo"] == rid]
    back = repo(rid)
    assert back.mirror_status == "ok" and back.mirror_error == "" and back.head_id == head
    assert MirroredRepo.objects.get(upstream_id=rid).gone_at is None
    assert Client().get(f"/api/v1/repos/{owner}/{name}").json()["mirror_status"] == "ok"
    assert "gone upstream" not in Client().get("/models", {"search": name}).content.decode()
    assert Commit.objects.filter(repository=back).count() == 1  # nothing duplicated on its return


def test_new_gated_repo_keeps_public_metadata_until_access(upstream):
    state = upstream.state
    state.put(
        "gated-org/secret",
        {"README.md": b"---\nlicense: llama3\nextra_gated_prompt: agree\n---\n# x\n"},
        gated="auto",
    )
    run = mirror(upstream, "--repo", "gated-org/secret", "--files", "none")
    assert run.failed == 0 and run.errors[0]["kind"] == "needs-access"
    local = repo("gated-org/secret")
    assert local.mirror_status == "needs-access" and local.gated == "auto" and local.head is None
    assert local.card_data.get("license") == "llama3" and local.gating_config == {
        "extra_gated_prompt": "agree"
    }


class _Hook(BaseHTTPRequestHandler):
    received: list[dict] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        _Hook.received.append(json.loads(body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args) -> None:
        return


def test_a_violating_revision_is_recorded_and_announced(upstream, settings):
    from licenses.models import Violation

    hook = ThreadingHTTPServer(("127.0.0.1", free_port()), _Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    settings.MODELHUB_NOTIFY_WEBHOOK = f"http://127.0.0.1:{hook.server_address[1]}/hook"
    _Hook.received.clear()
    try:
        state = upstream.state
        rid = next(
            i for i, r in sorted(state.repos.items())
            if re.search(rb"^license:\s*(apache-2\.0|mit)\s*$", r.head.files.get("README.md", b""), re.M)
            and "LICENSE" not in r.head.files and "base_model" not in r.head.card
        )  # fmt: skip
        mirror(upstream, "--repo", rid, "--files", "small")
        first = repo(rid).head
        assert not Violation.objects.filter(repository=repo(rid), rule="missing-license").exists()
        card = state.repos[rid].head.files["README.md"]
        state.update_file(rid, "README.md", re.sub(rb"(?m)^license:.*\n", b"", card, count=1))
        mirror(upstream, "--repo", rid, "--files", "small")
        local = repo(rid)
        assert local.head_id != first.pk
        violation = Violation.objects.get(repository=local, rule="missing-license")
        assert violation.severity == "error" and violation.first_commit_id == local.head_id
        deadline = time.monotonic() + 10
        while not _Hook.received and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(
            v["model"] == rid and v["rule"] == "missing-license"
            for p in _Hook.received
            for v in p["violations"]
        )
    finally:
        hook.shutdown()
        hook.server_close()


def test_an_interrupted_run_resumes_without_duplicates_and_counts_exactly(upstream, settings):
    settings.MIRROR_PAGE_SIZE = 25
    settings.MIRROR_STALE_AFTER = 0
    run = MirrorRun.objects.create(upstream=upstream.url, options={"files": "all", "max_concurrency": 3})

    class Killed(BaseException):
        pass

    def die_midway(r: MirrorRun) -> None:
        if r.changed >= 60:
            raise Killed

    with pytest.raises(Killed):
        execute(run.pk, progress=die_midway)
    run.refresh_from_db()
    assert run.status == "running" and json.loads(run.cursor)["emitted"] >= 50
    done_before = MirroredRepo.objects.count()
    assert 50 <= done_before < len(upstream.state.repos)
    n_resolves = len(upstream.state.requests("/resolve/"))
    fetched_before = sum(MirroredRepo.objects.values_list("last_fetched", flat=True))

    result = execute(run.pk)
    assert result.status == "done"
    total = len(upstream.state.repos)
    assert (result.listed, result.changed, result.failed) == (total, total, 0)
    assert result.fetched <= sum(len(r.head.files) for r in upstream.state.repos.values())
    assert Commit.objects.count() == total and MirroredRepo.objects.count() == total
    # nothing fetched twice: the resumed run downloads only what the first did not
    resolves_after = len(upstream.state.requests("/resolve/")) - n_resolves
    assert resolves_after == result.fetched - fetched_before


def test_one_unstorable_card_does_not_sink_the_bulk_batch_it_is_in(upstream):
    # YAML ``.nan`` is valid card metadata but not valid JSON: the bulk insert of its batch fails
    state = upstream.state
    state.put("acme-test/nan-card", {"README.md": b"---\nlicense: mit\nscore: .nan\n---\n# x\n"})
    run = mirror(upstream, "--files", "none")
    assert run.status == "done" and run.listed == len(state.repos)
    assert run.changed + run.failed == len(state.repos) and run.failed <= 1
    others = set(state.repos) - {"acme-test/nan-card"}
    assert set(MirroredRepo.objects.values_list("upstream_id", flat=True)) >= others


def test_the_command_fails_when_the_upstream_cannot_be_listed(fast_retries):
    from django.core.management.base import CommandError

    dead = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(CommandError, match="failed"):
        call_command(
            "mirror", "--upstream", dead, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO()
        )
    run = MirrorRun.objects.latest("pk")
    assert run.status == "failed" and "gave up" in run.error


def test_a_next_page_link_to_another_host_is_not_followed_with_the_token(upstream, settings, monkeypatch):
    """Every listing request carries the upstream token: a Link naming another origin must fail
    the run with the reason, not hand the token to that host (or list its answer as upstream's)."""
    thief_seen: list[str | None] = []

    class Thief(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            thief_seen.append(self.headers.get("Authorization"))
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(b"[]")

        def log_message(self, *args) -> None:
            pass

    thief = ThreadingHTTPServer(("127.0.0.1", free_port()), Thief)
    threading.Thread(target=thief.serve_forever, daemon=True).start()
    settings.MIRROR_PAGE_SIZE = 20
    monkeypatch.setenv("UPSTREAM_TOKEN_FOR_TEST", "secret-upstream-token")
    upstream.state.tokens.add("secret-upstream-token")
    upstream.state.rewrite_next = lambda url: url.replace(
        f"127.0.0.1:{upstream.server_address[1]}", f"127.0.0.1:{thief.server_address[1]}"
    )
    try:
        from django.core.management.base import CommandError

        with pytest.raises(CommandError, match="failed"):
            call_command("mirror", "--upstream", upstream.url, "--no-progress", "--token-env",
                         "UPSTREAM_TOKEN_FOR_TEST", stdout=io.StringIO(), stderr=io.StringIO())  # fmt: skip
    finally:
        thief.shutdown()
        thief.server_close()
    assert thief_seen == []
    run = MirrorRun.objects.latest("pk")
    assert run.status == "failed" and "not followed" in run.error


def test_a_pagination_that_loops_stops_the_run(upstream, settings):
    """An upstream whose next-page link leads back to a page already read would be listed for ever
    (the heartbeat stays fresh): the run stops with the reason."""
    from django.core.management.base import CommandError

    settings.MIRROR_PAGE_SIZE = 20
    upstream.state.rewrite_next = lambda url: re.sub(r"cursor=\d+", "cursor=20", url)  # page 2, for ever
    with pytest.raises(CommandError, match="failed"):
        call_command(
            "mirror", "--upstream", upstream.url, "--no-progress", stdout=io.StringIO(), stderr=io.StringIO()
        )
    run = MirrorRun.objects.latest("pk")
    assert run.status == "failed" and "loops" in run.error
    listings = [path for _, path, _ in upstream.state.log if path.startswith("/api/models?")]
    assert 2 <= len(listings) <= 3  # page 1, page 2, page 2 again: stopped there


def test_names_this_hub_refuses_are_refused_before_anything_is_downloaded(upstream):
    """An upstream repository holding a file this hub refuses (a .git segment) fails with the
    reason, without its files being fetched or stored first; the others are mirrored."""
    state = upstream.state
    state.put("odd/dotgit", {"README.md": b"# odd\n", "sub/.git/HEAD": b"ref: refs/heads/main\n"})
    blobs_before = Blob.objects.count()
    run = mirror(upstream, "--repo", "odd/dotgit", "--files", "all")
    assert run.failed == 1 and ".git" in run.errors[0]["error"]
    assert [p for _, p, _ in state.log if "/resolve/" in p] == []  # nothing downloaded
    assert Blob.objects.count() == blobs_before


def test_a_repository_listed_twice_in_one_run_counts_once(upstream, settings):
    """A listing sorted by downloads can shift while it is paged and repeat a repository at a page
    boundary: it is synced once and counted once."""
    settings.MIRROR_PAGE_SIZE = 20
    upstream.state.rewrite_next = lambda url: re.sub(
        r"cursor=(\d+)", lambda m: f"cursor={int(m.group(1)) - 1}", url
    )
    run = mirror(upstream, "--files", "none", "--limit", "60")
    assert run.listed == 60  # listing entries, the repeats included
    assert (
        run.changed
        == Repository.objects.count()
        == Commit.objects.filter(repository__isnull=False).values("repository").distinct().count()
    )
    assert run.changed < 60  # some entries were repeats


def test_small_copies_the_mergekit_recipe_the_lineage_reads():
    files = [
        UpstreamFile("model.safetensors", 10**9, "c", "f" * 64),
        UpstreamFile("mergekit_config.yml", 300, "b", None),
        UpstreamFile("sub/mergekit_config.yml", 300, "d", None),
        UpstreamFile("README.md", 10, "a", None),
    ]
    assert [f.path for f in choose(files, CopyOptions(files="small"))] == ["README.md", "mergekit_config.yml"]
