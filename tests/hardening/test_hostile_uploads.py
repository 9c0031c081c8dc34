"""Hostile uploads through the real Hub endpoints (NDJSON commit, LFS batch + PUT + verify).

Each hostile input gets a clear refusal (status + ``X-Error-Message``) that leaves the rows
and the blob store exactly as they were, or, when the bytes themselves are the attack
(pickles, archives, lying headers), is stored as plain content and reported by the scanner:
a ``contains pickle`` fact, the ``unsafe-serialization`` violation, or a scan error. Every
pickle here is assembled from opcodes in the test and never loaded.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import struct
import tracemalloc
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

import pytest
from django.test import Client

from tests.hardening.uploadkit import snapshot_state

pytestmark = pytest.mark.django_db

REPO = "alice/target"


@dataclass
class Upload:
    client: Client
    auth: dict[str, str]
    store: Any
    repo: Any
    capture: Any

    def commit(self, lines: list[dict | bytes]):
        body = b"".join((ln if isinstance(ln, bytes) else json.dumps(ln).encode()) + b"\n" for ln in lines)
        with self.capture(execute=True):
            return self.client.generic(
                "POST",
                f"/api/models/{REPO}/commit/main",
                body,
                content_type="application/x-ndjson",
                **self.auth,
            )

    def lfs_put(self, data: bytes) -> str:
        """Upload ``data`` through batch → PUT → verify, as huggingface_hub does; returns the oid."""
        oid = hashlib.sha256(data).hexdigest()
        batch = self.client.post(
            f"/{REPO}.git/info/lfs/objects/batch",
            json.dumps(
                {"operation": "upload", "transfers": ["basic"], "objects": [{"oid": oid, "size": len(data)}]}
            ),
            content_type="application/json",
            **self.auth,
        )
        assert batch.status_code == 200, batch.content
        actions = batch.json()["objects"][0].get("actions")
        if actions:
            put = self.client.generic(
                "PUT", urlsplit(actions["upload"]["href"]).path, data, content_type="application/octet-stream"
            )
            assert put.status_code == 200, put.content
            verify = self.client.post(
                urlsplit(actions["verify"]["href"]).path,
                json.dumps({"oid": oid, "size": len(data)}),
                content_type="application/json",
                **self.auth,
            )
            assert verify.status_code == 200, verify.content
        return oid

    def commit_lfs(self, path: str, data: bytes):
        oid = self.lfs_put(data)
        return self.commit(
            [
                header(),
                {"key": "lfsFile", "value": {"path": path, "algo": "sha256", "oid": oid, "size": len(data)}},
            ]
        )

    def scan(self, path: str):
        from hub.models import FileScan

        self.repo.refresh_from_db()
        return FileScan.objects.get(commit=self.repo.head, path=path)


def header(summary: str = "hostile") -> dict:
    return {"key": "header", "value": {"summary": summary}}


def inline(path: str, content: bytes) -> dict:
    return {
        "key": "file",
        "value": {"path": path, "content": base64.b64encode(content).decode(), "encoding": "base64"},
    }


@pytest.fixture
def up(django_user_model, settings, tmp_path, django_capture_on_commit_callbacks) -> Iterator[Upload]:
    from django.core.cache import cache

    from hub.auth import mint_token
    from hub.blobstore import get_blob_store
    from tests.hub.conftest import make_repo

    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = tmp_path / "blobs"
    get_blob_store.cache_clear()
    cache.clear()
    alice = django_user_model.objects.create_user("alice")
    repo = make_repo(alice, "target", {"README.md": b"---\nlicense: mit\n---\n# target\n"})
    token = mint_token(alice, scope="write")[0]
    yield Upload(
        Client(),
        {"HTTP_AUTHORIZATION": f"Bearer {token}"},
        get_blob_store(),
        repo,
        django_capture_on_commit_callbacks,
    )
    get_blob_store.cache_clear()


# ------------------------------------------------------------------------------------------- paths

BAD_PATHS = [
    "../evil.txt",
    "a/../../evil.txt",
    "a/./b.txt",
    "/etc/passwd",
    "//server/share",
    "C:\\evil.txt",
    "a\\..\\b",
    ".git/config",
    ".git/hooks/post-checkout",
    "a//b.txt",
    "dir/",
    "",
    ".",
    "..",
    "a\x00b",
    "a\nb",
    "a\rb",
    "evil\r\nContent-Disposition: attachment",
    "\x1b[31mred",
    "x" * 1001,
]


@pytest.mark.parametrize("path", BAD_PATHS, ids=[repr(p)[:30] for p in BAD_PATHS])
@pytest.mark.parametrize("op", ["file", "lfsFile", "deletedFile", "deletedFolder"])
def test_paths_that_escape_or_confuse_are_refused_with_no_trace(up, path, op):
    if op == "deletedFolder" and path == "dir/":
        pytest.skip("a trailing slash is how a folder is named: not hostile for deletedFolder")
    lfs_oid = up.lfs_put(b"lfs content " + path.encode("utf-8", "replace")) if op == "lfsFile" else None
    before = snapshot_state(up.store)
    value: dict = {"path": path}
    if op == "file":
        value |= {"content": base64.b64encode(b"payload").decode()}
    elif op == "lfsFile":
        value |= {"algo": "sha256", "oid": lfs_oid}
    # A good file before the bad one: it must not survive the refusal either.
    resp = up.commit(
        [header(), inline(f"fresh-{op}.txt", f"new {op} {path!r}".encode()), {"key": op, "value": value}]
    )
    assert resp.status_code == 400, (resp.status_code, resp.content[:200])
    assert resp["X-Error-Message"]
    assert snapshot_state(up.store) == before


@pytest.mark.parametrize("path", BAD_PATHS[:12], ids=[repr(p)[:30] for p in BAD_PATHS[:12]])
def test_preupload_refuses_the_same_paths(up, path):
    resp = up.client.post(
        f"/api/models/{REPO}/preupload/main",
        json.dumps({"files": [{"path": path, "size": 1}]}),
        content_type="application/json",
        **up.auth,
    )
    assert resp.status_code == 400 and resp["X-Error-Message"]


def test_symlink_like_and_pointer_like_entries_are_plain_content(up):
    """A commit has no modes: a "symlink" is a file whose bytes name a path, and a forged LFS pointer
    naming someone else's blob is a small text file. Both are served back as their own bytes."""
    secret = b"someone else's private weights"
    other = up.lfs_put(secret)  # content that exists in the store
    pointer = f"version https://git-lfs.github.com/spec/v1\noid sha256:{other}\nsize {len(secret)}\n".encode()
    resp = up.commit([header(), inline("link", b"../../../../etc/passwd"), inline("weights.bin", pointer)])
    assert resp.status_code == 200, resp.content
    for path, content in (("link", b"../../../../etc/passwd"), ("weights.bin", pointer)):
        got = up.client.get(f"/{REPO}/resolve/main/{path}")
        assert got.status_code == 200 and b"".join(got.streaming_content) == content
    tree = up.client.get(f"/api/models/{REPO}/tree/main").json()
    assert {e["path"]: e["type"] for e in tree}["link"] == "file"
    assert "lfs" not in {e["path"]: e for e in tree}["weights.bin"]


def test_a_file_cannot_also_be_a_folder(up):
    before = snapshot_state(up.store)
    resp = up.commit([header(), inline("README.md/x.txt", b"x")])
    assert resp.status_code == 400 and snapshot_state(up.store) == before


@pytest.mark.parametrize(
    "name",
    ['a";filename=evil.exe', "a;b=c.txt", "naïve 名前.txt", "%2e%2e.txt", "semi;colon", "quote'\"s.txt"],
)
def test_filenames_cannot_inject_into_content_disposition(up, name):
    resp = up.commit([header(), inline(f"dir/{name}", b"data")])
    assert resp.status_code == 200, resp.content
    got = up.client.get(f"/{REPO}/resolve/main/dir/{name.replace('%', '%25').replace(';', '%3B')}")
    assert got.status_code == 200, (got.status_code, got.content[:200])
    disposition = got["Content-Disposition"]
    assert not set(disposition) & {"\r", "\n", '"'}
    kind, _, encoded = disposition.partition("; filename*=UTF-8''")
    assert kind == "inline" and ";" not in encoded and unquote(encoded) == name


# ------------------------------------------------------------------------------------- safetensors


def safetensors_with(length: int, header_bytes: bytes, body: bytes = b"") -> bytes:
    return struct.pack("<Q", length) + header_bytes + body


GOOD_HEADER = json.dumps({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}).encode()
LYING_SAFETENSORS = {
    "length beyond the file": safetensors_with(10_000, GOOD_HEADER, b"\0" * 8),
    "length of 2**64-1": safetensors_with(2**64 - 1, GOOD_HEADER, b"\0" * 8),
    "length 0": safetensors_with(0, b"", b"\0" * 8),
    "header not json": safetensors_with(12, b"not json!!!!", b"\0" * 8),
    "header not an object": safetensors_with(2, b"[]", b"\0" * 8),
    "offsets past the end": safetensors_with(
        len(GOOD_HEADER.replace(b"8]", b"9999]")), GOOD_HEADER.replace(b"8]", b"9999]"), b"\0" * 8
    ),
    "shape disagrees with offsets": safetensors_with(
        len(GOOD_HEADER.replace(b"[2]", b"[3]")), GOOD_HEADER.replace(b"[2]", b"[3]"), b"\0" * 8
    ),
    "truncated to 5 bytes": b"\x10\x00\x00\x00\x00",
}


@pytest.mark.parametrize("case", list(LYING_SAFETENSORS))
def test_safetensors_headers_that_lie_are_reported_not_trusted(up, case):
    data = LYING_SAFETENSORS[case]
    resp = up.commit_lfs("model.safetensors", data)
    assert resp.status_code == 200, resp.content  # the bytes are stored as uploaded: nothing loads them
    scan = up.scan("model.safetensors")
    assert "invalid safetensors header" in scan.error, (case, scan.error)
    assert scan.parameter_count is None and scan.tensor_count is None
    api = up.client.get(f"/api/v1/repos/{REPO}/scans", **up.auth)
    assert api.status_code == 200 and any("invalid safetensors header" in s["error"] for s in api.json())
    got = up.client.get(f"/{REPO}/resolve/main/model.safetensors")
    assert b"".join(got.streaming_content) == data


def test_an_honest_safetensors_header_is_read():
    """The control for the cases above: the same shape of file, telling the truth, scans clean."""
    from hub.services.scanning import scan_file

    data = safetensors_with(len(GOOD_HEADER), GOOD_HEADER, b"\0" * 8)
    out = scan_file("m.safetensors", len(data), io.BytesIO(data))
    assert out.error == "" and out.parameter_count == 2


# ------------------------------------------------------------------------------------ archives


def zip_with(members: dict[str, bytes | int], compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    """A zip; an int member is that many zero bytes, streamed in (so the test never holds it)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as zf:
        for name, content in members.items():
            with zf.open(name, "w", force_zip64=True) as fh:
                if isinstance(content, int):
                    chunk = b"\0" * (1 << 20)
                    for _ in range(content >> 20):
                        fh.write(chunk)
                else:
                    fh.write(content)
    return buf.getvalue()


BOMB_BYTES = 96 * 1024 * 1024
#: One BINBYTES8 opcode whose argument fills the member: a disassembler reads it whole.
BINBYTES8_BOMB = b"\x80\x04\x8e" + struct.pack("<Q", BOMB_BYTES - 11)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("members", "why"),
    [
        ({"archive/data.pkl": BINBYTES8_BOMB + b"\0" * (1 << 20)}, None),  # control: small, scanned
        ({"archive/data.pkl": BOMB_BYTES}, "inflates"),
        ({"archive/data/0": BOMB_BYTES, "archive/data.pkl": b"\x80\x02}q\x00."}, "inflates"),
    ],
    ids=["small-pickle", "deflated-pickle-bomb", "deflated-storage-bomb"],
)
def test_zip_bombs_are_reported_not_expanded(up, members, why):
    data = zip_with(members)
    assert len(data) < 2 * 1024 * 1024
    tracemalloc.start()
    try:
        resp = up.commit_lfs("model.pt", data)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert resp.status_code == 200, resp.content
    scan = up.scan("model.pt")
    assert scan.contains_pickle
    if why:
        assert "archive not expanded" in scan.error and why in scan.error, scan.error
        assert peak < 32 * 1024 * 1024, f"scanning a {len(data)}-byte bomb peaked at {peak} bytes"
    else:
        assert "archive not expanded" not in scan.error


# ------------------------------------------------------------------------------------- pickles

#: Pickles built from opcodes (peers.md §3 evasion classes among them). ``True``: the scan names a
#: dangerous import and the revision gets the unsafe-serialization violation; ``False``: no import
#: that can run code, so only the "contains pickle" fact, which a policy can refuse outright.
PICKLES: dict[str, tuple[bytes, bool]] = {
    "protocol-0 os.system": (b"cos\nsystem\n(S'true'\ntR.", True),
    "memoised STACK_GLOBAL": (
        b"\x80\x04\x8c\x02os\x94\x8c\x06system\x94h\x00h\x01\x93\x8c\x04true\x85R.",
        True,
    ),
    "getattr(import_module('os'), 'system')": (
        b"cbuiltins\ngetattr\n(cimportlib\nimport_module\n(S'os'\ntRS'system'\ntR(S'true'\ntR.",
        True,
    ),
    "functools.partial(os.system)": (b"cfunctools\npartial\n(cos\nsystem\nS'true'\ntR(tR.", True),
    "second pickle after a benign one": (b"\x80\x02}q\x00." + b"cos\nsystem\n(S'true'\ntR.", True),
    "truncated after the global": (b"cos\nsystem\n(S'true'\n\xff\xfe", True),
    # picklescan 1.0.5 calls this "suspicious" only; the hub counts importlib and kin as dangerous.
    "importlib.import_module alone": (b"cimportlib\nimport_module\n(S'os'\ntR.", True),
    "marshal.loads of code": (b"cmarshal\nloads\n(C\x01xtR.", True),
    # No import at all: nothing runs on load beyond building a dict; still a pickle, and known as one.
    "plain dict": (b"\x80\x02}q\x00X\x01\x00\x00\x00aK\x01s.", False),
}


def _torch_zip(pickle_bytes: bytes, member: str = "archive/data.pkl") -> bytes:
    return zip_with({member: pickle_bytes, "archive/version": b"3\n"}, zipfile.ZIP_STORED)


@pytest.mark.parametrize("container", ["raw .bin", "torch zip .pt", "zip member not named .pkl"])
@pytest.mark.parametrize("name", list(PICKLES))
def test_malicious_pickles_are_flagged_or_at_least_known_as_pickles(up, name, container):
    from licenses.models import Violation

    payload, flagged = PICKLES[name]
    if container == "raw .bin":
        path, data = "pytorch_model.bin", payload
    elif container == "torch zip .pt":
        path, data = "model.pt", _torch_zip(payload)
    else:
        if not payload.startswith(b"\x80"):
            pytest.skip("a member is recognised by the pickle protocol header, which protocol 0 lacks")
        path, data = "model.pt", _torch_zip(payload, "archive/weights.bin")
    resp = up.commit_lfs(path, data)
    assert resp.status_code == 200, resp.content
    scan = up.scan(path)
    assert scan.contains_pickle, (name, container, scan.file_format, scan.error)
    unsafe = Violation.objects.filter(repository=up.repo, rule="unsafe-serialization").exists()
    if flagged:
        assert scan.dangerous_imports, (name, container, scan.error)
        assert unsafe, name
    else:
        assert not scan.dangerous_imports and not unsafe


# -------------------------------------------------------------------------------- NDJSON size limits


def test_an_oversized_ndjson_line_is_refused_with_no_trace(up, settings):
    settings.MAX_INLINE_FILE_SIZE = 4096
    before = snapshot_state(up.store)
    big = inline("big.txt", b"x" * 64 * 1024)
    resp = up.commit([header(), inline("small.txt", b"small and new"), big])
    assert resp.status_code == 413 and "LFS" in resp["X-Error-Message"]
    assert snapshot_state(up.store) == before
    # No newline at all: the cap holds for the first line too.
    resp = up.client.generic(
        "POST",
        f"/api/models/{REPO}/commit/main",
        b"{" + b" " * 200_000,
        content_type="application/x-ndjson",
        **up.auth,
    )
    assert resp.status_code == 413 and snapshot_state(up.store) == before


def test_a_refused_commit_keeps_content_that_was_already_there(up):
    """The clean-up after a refusal removes only what the refused request added."""
    readme = up.client.get(f"/{REPO}/resolve/main/README.md")
    existing = b"".join(readme.streaming_content)
    before = snapshot_state(up.store)
    resp = up.commit([header(), inline("copy.md", existing), inline("new.txt", b"brand new"), b"{broken"])
    assert resp.status_code == 400
    assert snapshot_state(up.store) == before
    again = up.client.get(f"/{REPO}/resolve/main/README.md")
    assert b"".join(again.streaming_content) == existing


@pytest.mark.parametrize(
    "readme",
    [b"---\nlicense: mit\n---\n\xff\xfe not utf-8 \x00 with NUL", b"\x00" * 1000, b"---\n" + b"- a\n" * 5000],
)
def test_readmes_with_hostile_bytes_commit_and_render(up, readme):
    resp = up.commit([header(), inline("README.md", readme)])
    assert resp.status_code == 200, resp.content
    assert up.client.get(f"/api/models/{REPO}").status_code == 200
    assert up.client.get(f"/{REPO}").status_code == 200
