"""The upstream changes shape between two mirror runs: renamed, rewritten, relicensed, inconsistent.

Driven through the real ``huggingface_hub`` client against ``tests/fixtures/upstream/server.py``
with small repositories written here (no corpus needed). Nothing mirrored may be lost silently:
what the upstream did is said on the copy, in the run's errors and on the API.
"""

from __future__ import annotations

import hashlib

import pytest
from django.test import Client

from hub.models import Blob, Commit, RepoFile, Repository, RevisionAnalysis
from licenses.models import Violation
from tests.fixtures.upstream.server import UpstreamServer
from tests.services import free_port
from workers.mirror.run import execute
from workers.models import MirroredRepo, MirrorRun, MirrorSpec

pytestmark = pytest.mark.django_db(transaction=True)

MIT = b"MIT License\n\nCopyright (c) 2024 Example\n\nPermission is hereby granted, free of charge.\n"


def card(licence: str, base: str | None = None, body: str = "") -> bytes:
    front = f"license: {licence}\n" + (f"base_model: {base}\n" if base else "")
    return f"---\n{front}---\n# A model\n{body}\n".encode()


@pytest.fixture
def up():
    with UpstreamServer(free_port()) as server:
        yield server


def run_spec(spec: MirrorSpec) -> MirrorRun:
    run = MirrorRun.objects.create(spec=spec, upstream=spec.upstream)
    result = execute(run.pk)
    assert result is not None and result.status == MirrorRun.Status.DONE, result and result.error
    return result


def local(repo_id: str) -> Repository | None:
    owner, name = repo_id.split("/")
    return Repository.objects.filter(namespace__name=owner, name=name).first()


def files_of(commit: Commit) -> dict[str, str]:
    return dict(RepoFile.objects.filter(commit=commit).values_list("path", "sha256"))


def test_a_repository_renamed_upstream_is_kept_marked_moved_and_followed_under_its_new_id(up):
    """The Hub answers a renamed repository's old id with a 307 the client follows: the old copy
    stayed "Up to date" for ever while its upstream moved on (relicensed here) under the new id."""
    state = up.state
    state.put("org/base", {"README.md": card("mit"), "LICENSE": MIT})
    state.put("org/child", {"README.md": card("mit", base="org/base")})
    spec = MirrorSpec.objects.create(
        name="ids", upstream=up.url, repo_ids=["org/base", "org/child"], files="small"
    )
    run_spec(spec)
    kept = local("org/base")
    old_head = kept.head

    state.rename("org/base", "neworg/base")
    state.update_file("neworg/base", "README.md", card("cc-by-nc-4.0"))
    run = run_spec(spec)

    assert run.failed == 0
    assert [(e["repo"], e["kind"]) for e in run.errors] == [("org/base", "moved")]
    assert "neworg/base" in run.errors[0]["error"]
    kept.refresh_from_db()
    assert kept.mirror_status == Repository.MirrorStatus.MOVED
    assert "renamed upstream to neworg/base" in kept.mirror_error
    assert kept.head_id == old_head.pk and kept.license_key == "mit"  # kept as it was, not lost
    state_row = MirroredRepo.objects.get(upstream_id="org/base")
    assert state_row.gone_at is not None and state_row.metadata["moved_to"] == "neworg/base"

    new = local("neworg/base")
    assert new is not None and new.mirror_status == "ok"
    assert new.head.sha == state.repos["neworg/base"].head.sha and new.license_key == "cc-by-nc-4.0"
    assert new.mirrored_from.endswith("/neworg/base")

    # what a user sees: the API and the model page say so; the kept revision still downloads
    api = Client().get("/api/v1/repos/org/base").json()
    assert api["mirror_status"] == "moved" and "neworg/base" in api["mirror_error"]
    page = Client().get("/org/base").content.decode()
    assert "Renamed upstream" in page and "neworg/base" in page
    assert Client().get(f"/org/base/resolve/{old_head.sha}/LICENSE").status_code == 200

    # a later run does not turn it back into a mirror of something else, nor duplicate anything
    commits = Commit.objects.count()
    again = run_spec(spec)
    assert again.failed == 0 and Commit.objects.count() == commits
    assert local("org/base").mirror_status == "moved"


def test_a_listing_spec_marks_a_repository_renamed_upstream_moved(up):
    """Listed specs found the old id missing, asked for it, got the new repository's answer through
    the redirect and left the old copy "Up to date"."""
    state = up.state
    state.put("org/base", {"README.md": card("mit")})
    state.put("org/other", {"README.md": card("apache-2.0")})
    spec = MirrorSpec.objects.create(name="org", upstream=up.url, authors=["org"], files="small")
    run_spec(spec)
    state.rename("org/base", "org/base-v2")
    run = run_spec(spec)
    assert run.failed == 0 and [(e["repo"], e["kind"]) for e in run.errors] == [("org/base", "moved")]
    assert local("org/base").mirror_status == "moved" and local("org/base").head is not None
    assert local("org/base-v2").mirror_status == "ok"
    assert local("org/other").mirror_status == "ok"


def test_bytes_that_are_not_the_blob_the_upstream_names_are_not_stored(up):
    """``files: none`` reads no blob ids, so a card whose bytes were not the blob the upstream's own
    ETag named was stored as the new revision's card (and judged: gpl-3.0 for an apache-2.0 card)."""
    state = up.state
    state.put("org/a", {"README.md": card("mit")})
    spec = MirrorSpec.objects.create(name="a", upstream=up.url, repo_ids=["org/a"], files="none")
    run_spec(spec)
    before = local("org/a").head
    state.update_file("org/a", "README.md", card("apache-2.0"))
    wrong = card("gpl-3.0")
    state.served[("org/a", "README.md")] = wrong
    run = run_spec(spec)

    assert run.failed == 1 and "FileMismatch" in run.errors[0]["error"]
    repo = local("org/a")
    assert repo.head_id == before.pk and repo.license_key == "mit"  # the last good revision stays
    assert repo.mirror_status == "failed" and "README.md" in repo.mirror_error
    assert not Commit.objects.filter(sha=state.repos["org/a"].head.sha).exists()
    assert not Blob.objects.filter(sha256=hashlib.sha256(wrong).hexdigest()).exists()

    del state.served[("org/a", "README.md")]  # the upstream serves the right bytes again
    run_spec(spec)
    repo = local("org/a")
    assert repo.head.sha == state.repos["org/a"].head.sha and repo.license_key == "apache-2.0"


def test_a_file_served_from_another_commit_is_not_stored_as_this_revisions(up):
    """A stale cache in front of the upstream answers the new sha with the old commit's card
    (``X-Repo-Commit`` says so): it was stored as the new revision's content."""
    state = up.state
    state.put("org/a", {"README.md": card("mit")})
    spec = MirrorSpec.objects.create(name="a", upstream=up.url, repo_ids=["org/a"], files="none")
    run_spec(spec)
    before = local("org/a").head
    new_sha = state.update_file("org/a", "README.md", card("cc-by-nc-4.0"))
    state.stale.add("org/a")
    run = run_spec(spec)
    assert run.failed == 1 and "served commit" in run.errors[0]["error"]
    assert local("org/a").head_id == before.pk
    assert not Commit.objects.filter(sha=new_sha).exists()


def test_a_listed_file_the_upstream_does_not_serve_fails_the_repository_naming_the_file(up):
    """The tree lists a file whose download is a 404: the operator read "404 Client Error." only."""
    state = up.state
    state.put("org/a", {"README.md": card("mit"), "LICENSE": MIT})
    spec = MirrorSpec.objects.create(name="a", upstream=up.url, repo_ids=["org/a"], files="small")
    run_spec(spec)
    before = local("org/a").head
    state.update_file("org/a", "LICENSE", MIT + b"\nAmended.\n")
    state.served[("org/a", "LICENSE")] = None
    run = run_spec(spec)
    assert run.failed == 1
    error = run.errors[0]["error"]
    assert error.startswith("LICENSE: listed by the upstream at") and "404" in error
    repo = local("org/a")
    assert repo.head_id == before.pk and repo.mirror_status == "failed" and repo.mirror_error == error


def test_history_rewritten_relicensed_and_files_removed_upstream_keep_the_old_evidence(up):
    """A force-push to an unrelated commit that relicenses the base (card and LICENSE), removes its
    LICENSE and replaces its config: the copy follows, the old revision and its analysis stay,
    resolvable by sha, and the child is judged again against the new licence."""
    state = up.state
    state.put("org/base", {"README.md": card("mit"), "LICENSE": MIT, "config.json": b'{"a": 1}'})
    state.put("org/child", {"README.md": card("mit", base="org/base")})
    spec = MirrorSpec.objects.create(
        name="ids", upstream=up.url, repo_ids=["org/base", "org/child"], files="small"
    )
    run_spec(spec)
    old = local("org/base").head
    old_files = files_of(old)
    assert set(old_files) == {"README.md", "LICENSE", "config.json"}

    new_sha = state.force_push(
        "org/base", {"README.md": card("cc-by-nc-4.0"), "config.json": b'{"a": 1, "b": [2, 3]}'}
    )
    run = run_spec(spec)
    assert run.failed == 0 and run.errors == []

    base = local("org/base")
    assert base.head.sha == new_sha and base.license_key == "cc-by-nc-4.0"
    assert set(files_of(base.head)) == {"README.md", "config.json"}
    assert files_of(base.head)["config.json"] != old_files["config.json"]
    assert files_of(old) == old_files  # the old revision keeps its files and its analysis
    assert RevisionAnalysis.objects.get(commit=old).license_key == "mit"
    assert Client().get(f"/api/models/org/base/revision/{old.sha}").json()["sha"] == old.sha
    answer = Client().get(f"/org/base/resolve/{old.sha}/LICENSE")
    assert b"".join(answer.streaming_content) == MIT

    child = local("org/child")
    opened = Violation.objects.filter(repository=child, rule="relicensed-derivative")
    assert opened.count() == 1 and opened.get().first_commit_id == child.head_id
