"""Property-based tests of the Hugging Face–compatible endpoints (hypothesis, in process).

Whatever the repo id, revision, path, query string, header or NDJSON body: the answer is
never a 5xx; an error answer of a Hub route carries ``X-Error-Message`` and, for the 404s
and gating refusals the client maps to exceptions, the documented ``X-Error-Code``
(RepoNotFound / RevisionNotFound / EntryNotFound / GatedRepo); and a refused write leaves
the database and the blob store exactly as they were. Derandomised, so a run is reproducible;
``EXAMPLES`` bounds each property for the suite.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from urllib.parse import quote, unquote

import pytest
from django.test import Client
from django.urls import Resolver404, resolve
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from tests.hardening.uploadkit import snapshot_state

pytestmark = [pytest.mark.django_db, pytest.mark.slow]

#: Per property; ``HARDENING_EXAMPLES=500`` for a long run (figures in docs/RELIABILITY.md).
EXAMPLES = int(os.environ.get("HARDENING_EXAMPLES", "60"))
PROPERTY = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CODES_404 = {"RepoNotFound", "RevisionNotFound", "EntryNotFound"}
CONFIG = b'{"hidden_size": 8}'
WEIGHTS = bytes(range(256)) * 40

# Text that goes into URLs: unicode, control characters, NUL, dots, slashes, percent signs, long runs.
NASTY = st.one_of(
    st.text(min_size=1, max_size=40),
    st.sampled_from(
        [
            "..",
            ".",
            "%2F",
            "%00",
            "a/../b",
            "../../etc/passwd",
            "\x00",
            "\r\nX-Evil: 1",
            "main",
            "refs/pr/1",
            "refs%2Fheads%2Fmain",
            "ﬁ",
            "🤗",
            "a" * 2000,
            "%",
            "%zz",
            "?",
            "#",
            "//",
        ]
    ),
    st.text(alphabet=st.characters(max_codepoint=0x1F), min_size=1, max_size=5),
)


def _seg(text: str, safe: str = "") -> str:
    return quote(text, safe=safe)


@pytest.fixture
def hub(django_user_model, settings, tmp_path) -> Iterator[dict]:
    """A public model with a config and LFS weights, a private model of someone else, a writer's token."""
    from django.core.cache import cache

    from hub.auth import mint_token
    from hub.blobstore import get_blob_store
    from tests.hub.conftest import make_repo

    settings.BLOB_STORE = "filesystem"
    settings.BLOB_ROOT = tmp_path / "blobs"
    get_blob_store.cache_clear()
    cache.clear()
    alice = django_user_model.objects.create_user("alice")
    eve = django_user_model.objects.create_user("eve")
    pub = make_repo(
        alice, "pub", {"config.json": CONFIG, "w/model.safetensors": WEIGHTS}, lfs=("w/model.safetensors",)
    )
    make_repo(eve, "secret", {"config.json": b"{}"}, private=True)
    token = mint_token(alice, scope="write")[0]
    yield {"pub": pub, "auth": {"HTTP_AUTHORIZATION": f"Bearer {token}"}, "store": get_blob_store()}
    get_blob_store.cache_clear()


def hub_route(path: str) -> bool:
    """Does the decoded path reach a Hub-compatible view (whose errors follow the Hub's contract)?"""
    try:
        match = resolve(unquote(path.split("?")[0]))
    except Resolver404:
        return False
    return (match.url_name or "").startswith("hf-")


def check_answer(resp, path: str) -> None:
    assert resp.status_code < 500, (path, resp.status_code, resp.content[:300])
    if resp.status_code < 400 or resp.status_code == 416 or not hub_route(path):
        return  # 416 is answered with Content-Range (checked where Range is generated), as on the Hub
    assert "X-Error-Message" in resp.headers, (path, resp.status_code)
    code = resp.headers.get("X-Error-Code")
    if resp.status_code == 404 and resp.headers.get("Allow") is None:
        assert code in CODES_404, (path, code, resp.content[:200])
    if code is not None:
        assert code in CODES_404 | {"GatedRepo"}, (path, code)
    if resp.request["REQUEST_METHOD"] != "HEAD":
        json.loads(resp.content)  # error bodies are JSON


READ_TEMPLATES = [
    "/api/models/{ns}/{name}",
    "/api/models/{ns}/{name}/revision/{rev}",
    "/api/models/{ns}/{name}/tree/{rev}/{path}",
    "/api/models/{ns}/{name}/refs",
    "/api/models/{ns}/{name}/commits/{rev}",
    "/api/models/{ns}/{name}/auth-check",
    "/{ns}/{name}/resolve/{rev}/{path}",
    "/datasets/{ns}/{name}/resolve/{rev}/{path}",
]


@PROPERTY
@given(
    template=st.sampled_from(READ_TEMPLATES),
    ns=st.one_of(st.just("alice"), st.just("eve"), NASTY),
    name=st.one_of(st.just("pub"), st.just("secret"), NASTY),
    rev=st.one_of(st.just("main"), NASTY),
    path=st.one_of(st.just("config.json"), st.just("w/model.safetensors"), NASTY),
    encode_slashes=st.booleans(),
    authed=st.booleans(),
)
def test_read_routes_never_5xx_and_errors_carry_codes(
    hub, template, ns, name, rev, path, encode_slashes, authed
):
    safe = "" if encode_slashes else "/"
    url = template.format(ns=_seg(ns), name=_seg(name), rev=_seg(rev, safe), path=_seg(path, safe))
    client = Client()
    headers = hub["auth"] if authed else {}
    for method in ("get", "head"):
        resp = getattr(client, method)(url, **headers)
        check_answer(resp, url)
        if ns == "eve" and name == "secret" and resp.status_code >= 400:
            assert resp.headers.get("X-Error-Code") in (None, "RepoNotFound"), url


@PROPERTY
@given(
    params=st.lists(
        st.tuples(
            st.sampled_from(
                [
                    "search",
                    "filter",
                    "sort",
                    "direction",
                    "limit",
                    "cursor",
                    "expand",
                    "expand[]",
                    "full",
                    "cardData",
                    "author",
                    "gated",
                    "pipeline_tag",
                    "library",
                    "blobs",
                ]
            ),
            st.one_of(
                NASTY,
                st.integers(-(2**70), 2**70).map(str),
                st.sampled_from(["downloads", "-1", "1", "true"]),
                st.integers(0, 2**80).map(lambda n: base64.urlsafe_b64encode(str(n).encode()).decode()),
            ),
        ),
        max_size=5,
    ),
    kind=st.sampled_from(["models", "datasets"]),
)
def test_list_query_parameters_never_5xx_and_never_show_private(hub, params, kind):
    query = "&".join(f"{_seg(k)}={_seg(v)}" for k, v in params)
    url = f"/api/{kind}?{query}"
    resp = Client().get(url)
    check_answer(resp, url)
    if resp.status_code == 200:
        body = json.loads(resp.content)
        assert isinstance(body, list)
        assert all("secret" not in str(entry.get("id", "")) for entry in body)


@PROPERTY
@given(
    range_header=st.one_of(
        st.none(),
        st.sampled_from(
            [
                "bytes=0-0",
                "bytes=-1",
                "bytes=5-",
                "bytes=0-99999999",
                "bytes=10-5",
                "bytes=-0",
                "bytes=0-1,4-5",
                "bytes=",
                "items=0-1",
                "bytes=99999999999999999999-",
                "bytes=-99999999",
            ]
        ),
        st.builds(
            lambda a, b: f"bytes={a}-{b}",
            st.integers(0, 12000).map(str) | st.just(""),
            st.integers(0, 12000).map(str) | st.just(""),
        ),
        NASTY,
    ),
    if_none_match=st.one_of(st.none(), NASTY, st.just("*")),
    path=st.sampled_from(["config.json", "w/model.safetensors"]),
)
def test_resolve_headers_never_5xx_and_ranges_are_exact(hub, range_header, if_none_match, path):
    content = CONFIG if path == "config.json" else WEIGHTS
    headers = {}
    if range_header is not None and "\n" not in range_header and "\r" not in range_header:
        headers["HTTP_RANGE"] = range_header
    if if_none_match is not None and "\n" not in if_none_match and "\r" not in if_none_match:
        headers["HTTP_IF_NONE_MATCH"] = if_none_match
    url = f"/alice/pub/resolve/main/{path}"
    resp = Client().get(url, **headers)
    check_answer(resp, url)
    body = b"".join(resp.streaming_content) if resp.streaming else resp.content
    if resp.status_code == 200:
        assert body == content
    elif resp.status_code == 206:
        start, end = map(int, resp["Content-Range"].split(" ")[1].split("/")[0].split("-"))
        assert resp["Content-Range"].endswith(f"/{len(content)}")
        assert body == content[start : end + 1] and len(body) == int(resp["Content-Length"])
    elif resp.status_code == 416:
        assert resp["Content-Range"] == f"bytes */{len(content)}"
    else:
        pytest.fail(f"unexpected {resp.status_code} for Range {range_header!r}")


# ----------------------------------------------------------------------------- NDJSON commit bodies


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**70), 2**70)
    | st.floats(allow_nan=False)
    | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
GOOD_FILE = {"key": "file", "value": {"path": "ok.txt", "content": _b64(b"fine"), "encoding": "base64"}}
OPERATION = st.one_of(
    st.just(GOOD_FILE),
    st.builds(lambda p: {"key": "file", "value": {"path": p, "content": _b64(b"x")}}, NASTY),
    st.builds(
        lambda p, s: {"key": "lfsFile", "value": {"path": "w.bin", "algo": "sha256", "oid": p, "size": s}},
        st.text(max_size=70) | st.just("a" * 64),
        JSON_VALUES,
    ),
    st.builds(lambda p: {"key": "deletedFile", "value": {"path": p}}, NASTY | st.just("config.json")),
    st.builds(lambda p: {"key": "deletedFolder", "value": {"path": p}}, NASTY | st.just("w/")),
    st.builds(lambda k, v: {"key": k, "value": v}, JSON_VALUES, JSON_VALUES),
    JSON_VALUES,
)
HEADER = st.builds(
    lambda s, d, p: {"key": "header", "value": {"summary": s, "description": d, "parentCommit": p}},
    JSON_VALUES,
    JSON_VALUES,
    st.none() | JSON_VALUES | st.just("0" * 40),
)
RAW_LINE = st.one_of(
    st.binary(max_size=50),
    st.just(b"{"),
    st.just(b'{"key": "file", "value": 1e999}'),
    st.just(b'{"key": "lfsFile", "value": {"size": ' + b"9" * 5000 + b"}}"),
    st.just(b"\xff\xfe\x00"),
)


@PROPERTY
@given(
    header=st.one_of(HEADER, st.none()),
    ops=st.lists(OPERATION, max_size=4),
    raw=st.lists(RAW_LINE, max_size=2),
    raw_at=st.integers(0, 5),
)
# Regressions found by this property: a non-string parentCommit (500), and inline files stored
# before a bad line surviving the refusal.
@example(header={"key": "header", "value": {"summary": "x", "parentCommit": 7}}, ops=[], raw=[], raw_at=0)
@example(header={"key": "header", "value": {}}, ops=[GOOD_FILE], raw=[b"{"], raw_at=5)
def test_commit_bodies_never_5xx_and_refusals_change_nothing(hub, header, ops, raw, raw_at):
    lines = [json.dumps(o).encode() for o in ([header] if header is not None else []) + ops]
    lines[raw_at:raw_at] = raw
    body = b"\n".join(lines) + b"\n"
    before = snapshot_state(hub["store"])
    url = "/api/models/alice/pub/commit/main"
    resp = Client().generic("POST", url, body, content_type="application/x-ndjson", **hub["auth"])
    check_answer(resp, url)
    if resp.status_code >= 400:
        assert snapshot_state(hub["store"]) == before, (resp.status_code, resp.content[:300])


@PROPERTY
@given(
    files=st.one_of(
        JSON_VALUES,
        st.lists(
            st.fixed_dictionaries({"path": NASTY, "size": JSON_VALUES, "sample": JSON_VALUES}), max_size=3
        ),
    ),
    route=st.sampled_from(["preupload/main", "paths-info/main"]),
)
@example(files=[{"path": "a.txt", "size": [1], "sample": ""}], route="preupload/main")
@example(files=[{"path": "a.txt", "size": 1, "sample": True}], route="preupload/main")
@example(files=[{"path": "a.txt"}], route="paths-info/main")
@example(files="config.json", route="paths-info/main")
def test_preupload_and_paths_info_bodies_never_5xx(hub, files, route):
    url = f"/api/models/alice/pub/{route}"
    key = "files" if route.startswith("preupload") else "paths"
    resp = Client().post(url, json.dumps({key: files}), content_type="application/json", **hub["auth"])
    check_answer(resp, url)


@PROPERTY
@given(
    body=st.one_of(
        JSON_VALUES,
        st.fixed_dictionaries({"operation": JSON_VALUES, "objects": JSON_VALUES, "transfers": JSON_VALUES}),
    )
)
def test_lfs_batch_bodies_never_5xx_and_store_nothing(hub, body):
    before = snapshot_state(hub["store"])
    url = "/alice/pub.git/info/lfs/objects/batch"
    resp = Client().post(url, json.dumps(body), content_type="application/json", **hub["auth"])
    check_answer(resp, url)
    assert snapshot_state(hub["store"]) == before
