"""Path validation and git object ids (checked against the real git binary)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from hub.models import git_blob_sha1, lfs_pointer
from hub.services import gitobj
from hub.services.errors import BadRequest
from hub.services.paths import validate_path


@pytest.mark.parametrize(
    "path",
    ["../x", "a/../../etc/passwd", "/etc/passwd", "a\\b", "a\0b", "a\nb", "a\x1bb", "a//b", "./a", "a/.", "",
     ".git/config", "a/", "x" * 1001, "a\x7fb"],
)  # fmt: skip
def test_unsafe_paths_are_refused(path):
    with pytest.raises(BadRequest):
        validate_path(path)


@pytest.mark.parametrize(
    "path", ["README.md", "a/b/c.safetensors", "weird name (1).bin", "ünïcode/ok.txt", ".gitattributes"]
)
def test_ordinary_paths_pass(path):
    assert validate_path(path) == path


@pytest.mark.skipif(shutil.which("git") is None, reason="git binary not installed")
def test_tree_and_blob_ids_match_git(tmp_path):
    files = {
        "README.md": b"# hi\n",
        "a/b.txt": b"b\n",
        "a/c/d.json": b"{}",
        "a-b": b"dash sorts before slash\n",
    }
    subprocess.run(["git", "init", "-q", str(tmp_path)], check=True)
    for rel, content in files.items():
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_bytes(content)
    subprocess.run(["git", "-C", str(tmp_path), "add", "-A"], check=True)
    tree = subprocess.run(
        ["git", "-C", str(tmp_path), "write-tree"], capture_output=True, text=True, check=True
    )
    oids = {p: git_blob_sha1(c) for p, c in files.items()}
    for rel, oid in oids.items():
        out = subprocess.run(
            ["git", "hash-object", str(tmp_path / rel)], capture_output=True, text=True, check=True
        )
        assert out.stdout.strip() == oid
    ids = gitobj.tree_ids(oids)
    assert ids[""] == tree.stdout.strip()
    sub = subprocess.run(["git", "-C", str(tmp_path), "rev-parse", "HEAD:a"], capture_output=True, text=True)
    if sub.returncode == 0:  # needs a commit; compare via ls-tree of the written tree instead
        assert ids["a"] == sub.stdout.strip()
    listing = subprocess.run(
        ["git", "-C", str(tmp_path), "ls-tree", tree.stdout.strip()], capture_output=True, text=True
    )
    assert f"tree {ids['a']}\ta" in listing.stdout


def test_lfs_pointer_matches_hub_format():
    pointer = lfs_pointer("a" * 64, 123)
    assert pointer == b"version https://git-lfs.github.com/spec/v1\noid sha256:" + b"a" * 64 + b"\nsize 123\n"


@pytest.mark.django_db
def test_a_mirrored_commit_keeps_upstream_sha_and_date(fs_store, alice):
    """Mirrors pass upstream's sha and date; revision-aware licence resolution reads that date."""
    from datetime import UTC, datetime

    from hub.auth import Caller
    from hub.models import ApiToken
    from hub.services.commits import CommitRequest, create_commit
    from hub.services.repos import create_repository

    repo, _ = create_repository(Caller(alice, ApiToken(scope="write")), name="mirrored", repo_type="model")
    when = datetime(2023, 5, 30, 12, 0, 0, 123456, tzinfo=UTC)
    commit = create_commit(
        repo, "main", CommitRequest(title="upstream", operations=[]), sha="ab" * 20, created_at=when
    )
    commit.refresh_from_db()
    assert commit.sha == "ab" * 20
    assert commit.created_at == when.replace(microsecond=0)
    later = create_commit(repo, "main", CommitRequest(title="native", operations=[]))
    assert later.created_at > when and later.parent_id == commit.pk
