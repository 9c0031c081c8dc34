"""The upstream Hub as the mirror sees it: the real ``huggingface_hub`` client, made polite.

Every exchange goes through the client's own machinery (``HfApi.model_info``, its shared
HTTP session, ``hf_hub_url``, ``build_hf_headers``, ``hf_raise_for_status`` and its
exception types, ``ModelInfo`` parsing), so what works here works against huggingface.co.
Two things are done by hand, on purpose:

- listing pages are requested one at a time rather than through ``list_models``'s
  generator, because the resumable cursor is the upstream's ``Link: rel="next"`` URL,
  which the generator hides;
- file bodies are streamed straight from the response into the blob store (hashing as
  they go) instead of through ``hf_hub_download``, which would first write a second
  copy into a local cache.

The endpoint is always passed explicitly: ``HF_ENDPOINT`` may point at ourselves, and
the client reads it once at import. No token is sent unless the specification names an
environment variable holding one (never the token the client may find on disk).
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

from huggingface_hub import HfApi, ModelInfo, hf_hub_url
from huggingface_hub.utils import build_hf_headers, get_session, hf_raise_for_status

from hub.blobstore import BlobInfo, get_blob_store
from hub.models import git_blob_sha1
from workers.mirror.politeness import RetryPolicy, Throttle, polite_call

XET_MARKERS = ("xet",)
GIT_OID_RE = re.compile(r"^[0-9a-f]{40}$")
AUTHORED = frozenset({"cardData"})
# The client warns once per card whose model-index it cannot model; on a mirror of millions of
# third-party cards that is log spam about content we store verbatim anyway.
logging.getLogger("huggingface_hub.repocard_data").setLevel(logging.ERROR)


def strip_xet(value: Any) -> Any:
    """Drop Xet hints (``xetHash``, ``xetEnabled`` …) anywhere in upstream JSON.

    A mirrored listing that still carried them would send clients of *our* hub to
    Xet's CAS instead of our ``/resolve`` (see hf-hub-api.md §3.4, pitfalls 2). The card
    metadata (``cardData``) is the author's text, not the Hub's, and is left as written.
    """
    if isinstance(value, dict):
        return {
            k: (v if k in AUTHORED else strip_xet(v))
            for k, v in value.items()
            if not any(m in k.lower() for m in XET_MARKERS)
        }
    if isinstance(value, list):
        return [strip_xet(v) for v in value]
    return value


def to_model_info(item: dict) -> ModelInfo:
    """Parse one listing entry the way ``list_models`` does."""
    item = strip_xet(item)
    item.setdefault("siblings", None)
    return ModelInfo(**item)


def _origin(url: str) -> str:
    """scheme://host:port of ``url`` (default ports spelled out), to compare origins."""
    parts = urlsplit(url)
    port = parts.port or {"http": 80, "https": 443}.get(parts.scheme.lower(), 0)
    return f"{parts.scheme.lower()}://{(parts.hostname or '').lower()}:{port}"


@dataclass
class Page:
    """One page of a listing and the URL of the next one (None on the last page)."""

    items: list[ModelInfo]
    next_url: str | None


class _IterStream(io.RawIOBase):
    """A read-only file object over a response's byte iterator (what the blob store consumes)."""

    def __init__(self, chunks: Iterator[bytes], on_bytes: Callable[[int], None] | None = None) -> None:
        self._chunks = chunks
        self._buffer = b""
        self._on_bytes = on_bytes

    def readable(self) -> bool:
        return True

    def readinto(self, target) -> int:  # type: ignore[override]
        while not self._buffer:
            try:
                self._buffer = next(self._chunks)
            except StopIteration:
                return 0
        n = min(len(target), len(self._buffer))
        target[:n] = self._buffer[:n]
        self._buffer = self._buffer[n:]
        if self._on_bytes is not None:
            self._on_bytes(n)
        return n


class FileMismatch(Exception):
    """Downloaded bytes do not match what the upstream announced (oid or size)."""


class Upstream:
    """One upstream endpoint with its token, throttle and retry policy."""

    def __init__(
        self,
        endpoint: str,
        *,
        token: str | None = None,
        max_concurrency: int = 4,
        policy: RetryPolicy | None = None,
        timeout: float = 30.0,
        on_wait: Callable[[str, float], None] | None = None,
    ) -> None:
        self.endpoint = endpoint.rstrip("/")
        self.token = token or None
        self.api = HfApi(endpoint=self.endpoint, token=self.token or False, library_name="modelhub-mirror")
        self.throttle = Throttle.for_upstream(self.endpoint, max_concurrency)
        self.policy = policy or RetryPolicy()
        self.timeout = timeout
        self.on_wait = on_wait

    @property
    def headers(self) -> dict[str, str]:
        return build_hf_headers(token=self.token or False, library_name="modelhub-mirror")

    def _call(self, what: str, fn: Callable[[], Any]) -> Any:
        return polite_call(fn, throttle=self.throttle, policy=self.policy, what=what, on_wait=self.on_wait)

    # -- listing -------------------------------------------------------------------------
    def list_url(self) -> str:
        return f"{self.endpoint}/api/models"

    def list_page(self, url: str, params: list[tuple[str, str]] | None = None) -> Page:
        """GET one page of ``/api/models``; ``params`` only on the first page (Link URLs carry them)."""

        def go() -> Any:
            response = get_session().get(url, params=params, headers=self.headers, timeout=self.timeout)
            hf_raise_for_status(response)
            return response

        response = self._call(f"list {url}", go)
        next_url = response.links.get("next", {}).get("url")
        items = response.json()
        if not isinstance(items, list):
            raise ValueError(f"{url} did not answer a JSON list")
        following = urljoin(url, next_url) if next_url else None
        if following and _origin(following) != _origin(self.endpoint):
            # every page request carries the upstream token: never to a host the spec did not name
            raise ValueError(
                f"{url}: the next-page link points at {_origin(following)}, not the upstream "
                f"{_origin(self.endpoint)}; not followed (the upstream token would go with it)"
            )
        return Page([to_model_info(item) for item in items], following)

    # -- one repository ------------------------------------------------------------------
    def model_info(
        self, repo_id: str, *, revision: str | None = None, files_metadata: bool = False
    ) -> ModelInfo:
        info = self._call(
            f"model_info {repo_id}",
            lambda: self.api.model_info(
                repo_id, revision=revision, files_metadata=files_metadata, timeout=self.timeout
            ),
        )
        if info.siblings:  # drop Xet hints the client kept as unknown attributes
            for sibling in info.siblings:
                for key in [k for k in vars(sibling) if "xet" in k.lower()]:
                    delattr(sibling, key)
        return info

    def read_small(self, repo_id: str, revision: str, path: str, *, max_bytes: int) -> bytes:
        """A small file's bytes (README, configs, licences), refusing more than ``max_bytes``."""
        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)

        def go() -> bytes:
            with get_session().stream(
                "GET", url, headers=self.headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    response.read()
                hf_raise_for_status(response)
                check_served_commit(path, revision, response.headers)
                chunks: list[bytes] = []
                total = 0
                for chunk in response.iter_bytes():
                    total += len(chunk)
                    if total > max_bytes:
                        raise FileMismatch(f"{path} is larger than {max_bytes} bytes")
                    chunks.append(chunk)
                content = b"".join(chunks)
                check_served_etag(path, content, response.headers)
                return content

        return self._call(f"get {repo_id}/{path}", go)

    def stream_to_store(
        self,
        repo_id: str,
        revision: str,
        path: str,
        *,
        expected_sha256: str | None,
        expected_size: int | None,
        max_bytes: int,
        on_bytes: Callable[[int], None] | None = None,
    ) -> BlobInfo:
        """Copy a (large) file into the blob store without holding it, verifying its sha256.

        The store writes to a temporary object and publishes it under its sha256 only
        once the hash checks out, so an interrupted copy is never visible.
        """
        url = hf_hub_url(repo_id, path, revision=revision, endpoint=self.endpoint)
        limit = max_bytes if expected_size is None else min(max_bytes, expected_size)

        def go() -> BlobInfo:
            with get_session().stream(
                "GET", url, headers=self.headers, timeout=self.timeout, follow_redirects=True
            ) as response:
                if response.status_code >= 400:
                    response.read()
                hf_raise_for_status(response)
                check_served_commit(path, revision, response.headers)
                stream = _IterStream(response.iter_bytes(1024 * 1024), on_bytes)
                info = get_blob_store().put(stream, expected_sha256=expected_sha256, max_bytes=limit)
            if expected_size is not None and info.size != expected_size:
                raise FileMismatch(f"{path}: received {info.size} bytes, upstream announced {expected_size}")
            return info

        return self._call(f"get {repo_id}/{path}", go)


def check_served_commit(path: str, revision: str, headers: Any) -> None:
    """Refuse a file the upstream serves from another commit than the one asked for.

    ``X-Repo-Commit`` says which commit the bytes come from (hf-hub-api.md §2). Asked for a
    40-hex sha, an answer from another commit (a stale cache in front of the Hub, a mirror
    serving its own head) would be stored as the content of a revision it does not belong to.
    """
    served = (headers.get("X-Repo-Commit") or "").strip().lower()
    asked = revision.lower()
    if GIT_OID_RE.match(asked) and GIT_OID_RE.match(served) and served != asked:
        raise FileMismatch(f"{path}: upstream served commit {served}, asked for {asked}")


def check_served_etag(path: str, content: bytes, headers: Any) -> None:
    """Refuse a regular file whose bytes are not the blob the upstream's own ``ETag`` names.

    The Hub (and Modelhub) answer a regular file with its git blob id as ``ETag``. A listing
    without blob ids (``files: none`` reads no file metadata) has nothing else to check the card
    against, so bytes that do not hash to it were stored as the revision's card. An ``ETag`` that
    is not a git blob id (a CDN's, a weak one) says nothing about the bytes and is not compared.
    """
    etag = (headers.get("ETag") or "").strip()
    if etag.startswith("W/"):
        return
    etag = etag.strip('"').lower()
    if GIT_OID_RE.match(etag):
        verify_git_oid(path, content, etag)


def verify_git_oid(path: str, content: bytes, expected: str | None) -> str:
    """The git blob id of ``content``; raises when upstream announced a different one."""
    oid = git_blob_sha1(content)
    if expected and expected != oid:
        raise FileMismatch(f"{path}: content hashes to git oid {oid}, upstream announced {expected}")
    return oid


def sha256_hex(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()
