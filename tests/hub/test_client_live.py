"""The unmodified ``huggingface_hub`` client against a live server, on both blob stores.

Every client action runs in a subprocess (see ``hf_client.py``) with ``HF_ENDPOINT``
pointing at pytest-django's live server, with the newest client installed here and —
for the download/upload/error paths — with the last 0.x release (what ``transformers``
4.x pins) from a second virtualenv built once per session.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from pathlib import Path

import pytest

from hub.models import Ref, RepoFile
from hub.services.refs import create_ref
from tests.hub.conftest import make_repo, run_client, token_for

pytestmark = [pytest.mark.django_db(transaction=True)]

WEIGHTS = os.urandom(3 * 1024 * 1024 + 17)  # a few MB through the LFS path
FILES = {
    "README.md": b"---\nlicense: apache-2.0\nlibrary_name: transformers\n---\n# Live\n",
    "config.json": b'{"model_type": "live"}',
    "sub/dir/tokenizer.json": b'{"v": 1}',
    "model.safetensors": WEIGHTS,
}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def live_repo(alice, store):
    repo = make_repo(alice, "live", FILES, lfs=("model.safetensors",))
    create_ref(repo, Ref.Kind.BRANCH, "v1", "main")
    return repo


def test_snapshot_download_multi_file_with_lfs(run, live_repo):
    out = run("snapshot", repo_id="alice/live")
    assert "error" not in out, out
    expected = {p: sha(c) for p, c in FILES.items()}
    got = {p: h for p, h in out["files"].items() if p != ".gitattributes"}
    assert got == expected
    assert f"snapshots{os.sep}{live_repo.head.sha}" in out["path"]


def test_hf_hub_download_revision_and_subfolder(run, live_repo, alice):
    # Move main on so that v1 and main differ; the v1 download must still see the old content.
    make_change(live_repo, alice, "sub/dir/tokenizer.json", b'{"v": 2}')
    old = run("download", repo_id="alice/live", filename="tokenizer.json", subfolder="sub/dir", revision="v1")
    assert "error" not in old, old
    assert old["sha256"] == sha(b'{"v": 1}')
    new = run("download", repo_id="alice/live", filename="tokenizer.json", subfolder="sub/dir")
    assert new["sha256"] == sha(b'{"v": 2}')
    pinned = run("download", repo_id="alice/live", filename="model.safetensors", revision=live_repo.head.sha)
    assert pinned["sha256"] == sha(WEIGHTS) and pinned["size"] == len(WEIGHTS)


def make_change(repo, user, path: str, content: bytes):
    from django.conf import settings

    from hub.services.blobs import store_small
    from hub.services.commits import AddFile, CommitRequest, create_commit

    stored = store_small(content, settings.MAX_INLINE_FILE_SIZE)
    op = AddFile(path, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid)
    return create_commit(repo, "main", CommitRequest(title="change", operations=[op]), author=user)


def test_resume_from_incomplete_download(run, live_repo, tmp_path, client_python):
    """0.x: a partial ``<etag>.incomplete`` blob in the cache is completed with a Range request.

    The partial file is filled with marker bytes instead of the real prefix: if the
    server honoured ``Range`` the client keeps them (it trusts its partial file), if the
    server ignored it the client would restart and the markers would be gone. (Clients
    ≥ 1.x download to a per-process temp file and resume only within a download; that is
    ``test_resume_after_dropped_connection``.)
    """
    if client_python == sys.executable:
        pytest.skip("the newest client no longer resumes from a leftover .incomplete file (PR #4228)")
    cache = tmp_path / "hf-home" / "hub" / "models--alice--live" / "blobs"
    cache.mkdir(parents=True)
    prefix = 1_000_000
    (cache / f"{sha(WEIGHTS)}.incomplete").write_bytes(b"\xaa" * prefix)
    out = run("download", repo_id="alice/live", filename="model.safetensors")
    assert "error" not in out, out
    data = Path(out["path"]).read_bytes()
    assert len(data) == len(WEIGHTS)
    assert data[:prefix] == b"\xaa" * prefix and data[prefix:] == WEIGHTS[prefix:]


class CuttingProxy:
    """A TCP proxy that drops the connection once, mid-way through the first download GET."""

    def __init__(self, upstream_port: int, marker: bytes, cut_after: int) -> None:
        import socket
        import threading

        self.upstream_port, self.marker, self.cut_after = upstream_port, marker, cut_after
        self.requests: list[bytes] = []
        self.cut_done = False
        self.lock = threading.Lock()
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        import socket
        import threading

        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            state = {"armed": False}
            threading.Thread(target=self._up, args=(client, upstream, state), daemon=True).start()
            threading.Thread(target=self._down, args=(upstream, client, state), daemon=True).start()

    def _up(self, client, upstream, state) -> None:
        try:
            while data := client.recv(65536):
                with self.lock:
                    self.requests.append(data)
                    if (
                        data.startswith(b"GET ")
                        and self.marker in data.split(b"\r\n", 1)[0]
                        and not self.cut_done
                    ):
                        state["armed"] = True
                upstream.sendall(data)
        except OSError:
            pass

    def _down(self, upstream, client, state) -> None:
        sent = 0
        try:
            while data := upstream.recv(65536):
                if state["armed"]:
                    room = self.cut_after - sent
                    if room <= len(data):
                        client.sendall(data[:room])
                        with self.lock:
                            self.cut_done = True
                        break
                    sent += len(data)
                client.sendall(data)
        except OSError:
            pass
        for sock in (client, upstream):
            with contextlib.suppress(OSError):
                sock.shutdown(2)
            sock.close()

    def close(self) -> None:
        self.server.close()


def test_resume_after_dropped_connection(live_server, alice, fs_store, tmp_path, client_python):
    """The connection dies mid-download; the client retries with ``Range`` and gets a 206."""
    if client_python != sys.executable:
        pytest.skip("0.x does not retry a body cut short (ChunkedEncodingError); it resumes from .incomplete")
    # The client writes in 10 MB chunks and resumes from what it wrote: cut after more than that.
    big = os.urandom(24 * 1024 * 1024)
    make_repo(alice, "flaky", {"model.safetensors": big}, lfs=("model.safetensors",))
    port = int(live_server.url.rsplit(":", 1)[1])
    proxy = CuttingProxy(port, b"/alice/flaky/resolve/main/model.safetensors", cut_after=15 * 1024 * 1024)
    try:
        out = run_client(client_python, f"http://127.0.0.1:{proxy.port}", "download",
                         {"repo_id": "alice/flaky", "filename": "model.safetensors"}, home=tmp_path / "h")  # fmt: skip
    finally:
        proxy.close()
    assert "error" not in out, out
    assert out["sha256"] == sha(big)
    assert proxy.cut_done
    ranged = [r for r in proxy.requests if r.startswith(b"GET ") and b"\r\nrange: bytes=" in r.lower()]
    assert ranged, "the client did not resume with a Range request"


def test_model_info_and_list_models_pagination(run, alice, fs_store, settings):
    settings.MODELHUB_API_PAGE_SIZE = 2
    for i in range(5):
        make_repo(alice, f"paged-{i}", {"README.md": b"---\nlicense: mit\n---\n"})
    out = run("list", search="paged")
    assert sorted(out["ids"]) == [f"alice/paged-{i}" for i in range(5)], out
    out = run("list", filter="license:mit", author="alice", limit=3)
    assert len(out["ids"]) == 3
    info = run("info", repo_id="alice/paged-0", files_metadata=True)
    assert info.get("id") == "alice/paged-0" and len(info["sha"]) == 40, info
    assert "license:mit" in info["tags"] and info["card_data"]["license"] == "mit"
    readme = next(s for s in info["siblings"] if s["rfilename"] == "README.md")
    assert readme["size"] == len(b"---\nlicense: mit\n---\n") and readme["blob_id"]


def test_client_exceptions(run, alice, bob, fs_store):
    make_repo(alice, "open", {"config.json": b"{}"})
    make_repo(alice, "private", {"config.json": b"{}"}, private=True)
    make_repo(alice, "gated", {"config.json": b"{}"}, gated="manual")
    bob_token = token_for(bob)

    def err(**kw):
        return run("download", **kw).get("bases", [])

    assert "RepositoryNotFoundError" in err(repo_id="alice/missing", filename="config.json")
    assert "RepositoryNotFoundError" in err(repo_id="alice/private", filename="config.json")
    assert "RepositoryNotFoundError" in err(repo_id="alice/private", filename="config.json", token=bob_token)
    gated = err(repo_id="alice/gated", filename="config.json")
    assert "GatedRepoError" in gated
    assert "GatedRepoError" in err(repo_id="alice/gated", filename="config.json", token=bob_token, home="bob")
    assert "RevisionNotFoundError" in err(repo_id="alice/open", filename="config.json", revision="nope")
    missing = err(repo_id="alice/open", filename="nope.json")
    assert "RemoteEntryNotFoundError" in missing or "EntryNotFoundError" in missing
    assert "RepositoryNotFoundError" in run("info", repo_id="alice/private").get("bases", [])
    owner = run("info", repo_id="alice/private", token=token_for(alice))
    assert owner.get("private") is True


def test_create_repo_and_upload_folder_with_large_file(run, alice, store, settings, tmp_path):
    settings.MODELHUB_LFS_CHUNK_SIZE = 5 * 1024 * 1024  # S3: exercise presigned multipart (3 parts)
    token = token_for(alice)
    who = run("whoami", token=token)
    assert who.get("name") == "alice", who
    created = run("create_repo", token=token, repo_id="alice/pushed")
    assert created.get("repo_id") == "alice/pushed", created
    again = run("create_repo", token=token, repo_id="alice/pushed")
    assert "HfHubHTTPError" in again.get("bases", []) and "409" in again["message"]
    # what `hf upload` and push_to_hub call every time: the 409 is swallowed, then its url read
    existing = run("create_repo", token=token, repo_id="alice/pushed", exist_ok=True)
    assert existing.get("repo_id") == "alice/pushed" and existing["url"].endswith("/alice/pushed"), existing
    folder = tmp_path / "to-upload"
    (folder / "nested").mkdir(parents=True)
    big = os.urandom(12 * 1024 * 1024 + 5)
    files = {"README.md": b"---\nlicense: mit\n---\n# Pushed\n", "config.json": b"{}", "nested/big.bin": big,
             "nested/small.safetensors": b"\x08" + bytes(100)}  # fmt: skip
    for rel, content in files.items():
        (folder / rel).write_bytes(content)
    pushed = run("upload_folder", token=token, repo_id="alice/pushed", folder=str(folder))
    assert len(pushed.get("oid", "")) == 40, pushed
    rows = {f.path: f for f in RepoFile.objects.filter(commit__sha=pushed["oid"])}
    assert rows["nested/big.bin"].lfs and rows["nested/big.bin"].sha256 == sha(big)
    assert not rows["config.json"].lfs
    got = run("snapshot", repo_id="alice/pushed", home="fresh")
    assert {p: h for p, h in got["files"].items() if p != ".gitattributes"} == {
        p: sha(c) for p, c in files.items()
    }
    # Re-uploading the same folder is a no-op for the LFS file (already stored, no actions).
    second = run("upload_file", token=token, repo_id="alice/pushed", path=str(folder / "nested/big.bin"),
                 path_in_repo="copy/big.bin")  # fmt: skip
    assert len(second.get("oid", "")) == 40, second


def test_datasets_branches_and_deletes(run, alice, fs_store, tmp_path):
    token = token_for(alice)
    assert (
        run("create_repo", token=token, repo_id="alice/ds", repo_type="dataset").get("repo_id") == "alice/ds"
    )
    folder = tmp_path / "ds"
    folder.mkdir()
    (folder / "train.csv").write_bytes(b"a,b\n1,2\n")
    (folder / "data.parquet").write_bytes(b"PAR1" + os.urandom(2048))
    pushed = run("upload_folder", token=token, repo_id="alice/ds", repo_type="dataset", folder=str(folder))
    assert len(pushed.get("oid", "")) == 40, pushed
    got = run("snapshot", repo_id="alice/ds", repo_type="dataset")
    assert set(got.get("files", {})) == {".gitattributes", "train.csv", "data.parquet"}, got
    assert run("create_branch", token=token, repo_id="alice/ds", repo_type="dataset", branch="dev").get("ok")
    extra = tmp_path / "extra.txt"
    extra.write_bytes(b"only on dev")
    on_dev = run("upload_file", token=token, repo_id="alice/ds", repo_type="dataset", path=str(extra),
                 path_in_repo="extra.txt", revision="dev")  # fmt: skip
    assert len(on_dev.get("oid", "")) == 40, on_dev
    dev_files = run("list_files", repo_id="alice/ds", repo_type="dataset", revision="dev")["files"]
    main_files = run("list_files", repo_id="alice/ds", repo_type="dataset")["files"]
    assert "extra.txt" in dev_files and "extra.txt" not in main_files
    deleted = run(
        "delete_file", token=token, repo_id="alice/ds", repo_type="dataset", path_in_repo="train.csv"
    )
    assert len(deleted.get("oid", "")) == 40, deleted
    assert run("list_files", repo_id="alice/ds", repo_type="dataset")["files"] == [
        ".gitattributes",
        "data.parquet",
    ]
