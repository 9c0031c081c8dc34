"""``HEAD``/``GET /{repo_id}/resolve/{rev}/{path}``: the download path of ``hf_hub_download``.

Every answer carries ``X-Repo-Commit`` and the content address the client names its
cache blob after (``X-Linked-Etag``/``ETag``: sha256 for LFS files, git sha1 for
regular ones), including error answers for missing files (``EntryNotFound`` + commit,
so the client can cache the miss). LFS files on S3 are a 302 to a short-lived presigned
GET URL carrying the same headers (S3 serves Range itself); everything else is
streamed here, with single-range requests answered 206.
"""

from __future__ import annotations

import logging
import mimetypes
import re
from collections.abc import Iterator
from urllib.parse import quote

from django.conf import settings
from django.db.models import F
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, StreamingHttpResponse

from hub.auth import Caller
from hub.blobstore import BlobNotFound, BlobStore, get_blob_store
from hub.hfapi.http import hub_view
from hub.hfapi.read import TYPES
from hub.models import RepoFile, Repository
from hub.services.access import check_download, get_readable
from hub.services.errors import ContentMissing, EntryNotFound
from hub.services.revisions import resolve_revision, split_rev_path

log = logging.getLogger(__name__)

RANGE_RE = re.compile(r"^bytes=(\d*)-(\d*)$")
STREAM_CHUNK = 1024 * 1024
#: Files that count as one download of the repository (Hub semantics: the "query file").
QUERY_FILES = {"config.json", "model_index.json"}


class RangeNotSatisfiable(Exception):
    pass


def parse_range(header: str | None, size: int) -> tuple[int, int] | None:
    """(start, end inclusive) for a single ``bytes=`` range; None = whole file (also for multi-ranges)."""
    if not header:
        return None
    match = RANGE_RE.match(header.strip())
    if not match:
        return None  # multi-range or junk: RFC 9110 allows ignoring Range
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # suffix range: the last N bytes
        length = int(last)
        if length == 0:
            raise RangeNotSatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = int(last) if last else size - 1
    if start >= size or end < start:
        raise RangeNotSatisfiable
    return start, min(end, size - 1)


def _open_body(store: BlobStore, sha256: str, start: int, length: int) -> Iterator[bytes]:
    """The response body, its first read done now: content missing from the store raises
    BlobNotFound here, before a status line is sent, instead of breaking the body mid-way."""
    if hasattr(store, "client"):  # S3: ask for the range, don't read and discard
        n = min(length, 8 * STREAM_CHUNK)
        return _ranges(store, sha256, store.read_range(sha256, start, n), start + n, length - n)
    fh = store.open(sha256)
    try:
        fh.seek(start)
    except BaseException:
        fh.close()
        raise
    return _chunks(fh, length)


def _ranges(store: BlobStore, sha256: str, first: bytes, pos: int, remaining: int) -> Iterator[bytes]:
    if first:
        yield first
    while remaining > 0:
        n = min(remaining, 8 * STREAM_CHUNK)
        yield store.read_range(sha256, pos, n)
        pos += n
        remaining -= n


def _chunks(fh, remaining: int) -> Iterator[bytes]:
    with fh:
        while remaining > 0:
            chunk = fh.read(min(STREAM_CHUNK, remaining))
            if not chunk:
                return
            remaining -= len(chunk)
            yield chunk


def _content_missing(repo: Repository, commit_sha: str, path: str, sha256: str) -> ContentMissing:
    log.error(
        "content of %s@%s:%s (sha256 %s) is missing from the blob store", repo, commit_sha, path, sha256
    )
    return ContentMissing(
        f"the content of {path} (sha256 {sha256}) is missing from this hub's blob store; "
        "the file must be uploaded again (an administrator can list such files with "
        "'manage.py blobstore check')",
        commit=commit_sha,
    )


def _metadata_headers(response: HttpResponse, commit_sha: str, row: RepoFile) -> None:
    response["X-Repo-Commit"] = commit_sha
    response["ETag"] = f'"{row.etag}"'
    if row.lfs:
        response["X-Linked-Etag"] = f'"{row.sha256}"'
        response["X-Linked-Size"] = str(row.size)
    response["Accept-Ranges"] = "bytes"
    response["Cache-Control"] = "private, max-age=0, must-revalidate"


@hub_view(("GET", "HEAD"))
def resolve(request: HttpRequest, caller: Caller, ns: str, name: str, tail: str, kind: str = "models"):
    repo = get_readable(caller, TYPES[kind], ns, name)
    check_download(caller, repo)
    rev, path = split_rev_path(repo, tail)
    commit = resolve_revision(repo, rev)
    row = RepoFile.objects.filter(commit=commit, path=path).first()
    if row is None:
        raise EntryNotFound(f"Entry Not Found for url: {request.build_absolute_uri()}.", commit=commit.sha)
    if path in QUERY_FILES and not request.headers.get("Range"):
        Repository.objects.filter(pk=repo.pk).update(downloads=F("downloads") + 1)
    store = get_blob_store()
    filename = path.rsplit("/", 1)[-1]
    if row.lfs:
        url = store.url(row.sha256, expires=settings.S3_PRESIGN_SECONDS, filename=filename)
        if url:
            response = HttpResponseRedirect(url)
            _metadata_headers(response, commit.sha, row)
            return response
    try:
        span = parse_range(request.headers.get("Range"), row.size)
    except RangeNotSatisfiable:
        response = HttpResponse(status=416)
        response["Content-Range"] = f"bytes */{row.size}"
        _metadata_headers(response, commit.sha, row)
        return response
    start, end = span if span else (0, row.size - 1)
    length = max(0, end - start + 1)
    content_type = served_type(filename) if not row.lfs else "application/octet-stream"
    if request.method == "HEAD":
        if store.stat(row.sha256) is None:  # the client's HEAD decides whether it GETs at all
            raise _content_missing(repo, commit.sha, path, row.sha256)
        response = HttpResponse(status=206 if span else 200, content_type=content_type)
    else:
        try:
            body = _open_body(store, row.sha256, start, length)
        except BlobNotFound:
            raise _content_missing(repo, commit.sha, path, row.sha256) from None
        response = StreamingHttpResponse(body, status=206 if span else 200, content_type=content_type)
    response["Content-Length"] = str(length)
    if span:
        response["Content-Range"] = f"bytes {start}-{end}/{row.size}"
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(filename)}"
    # whatever a browser makes of the bytes, they run no script and load nothing in the hub's origin
    response["Content-Security-Policy"] = FILE_CSP
    _metadata_headers(response, commit.sha, row)
    return response


#: Sent with every file the hub serves itself: an uploaded file shares the catalogue's origin,
#: so even a type a browser renders must not script, frame or fetch in a signed-in reader's session.
FILE_CSP = "default-src 'none'; sandbox"


def served_type(filename: str) -> str:
    """The Content-Type a repository file is served with: text as ``text/plain``, JSON as JSON,
    everything else as bytes.

    Never the guessed type itself: a file is whatever its uploader wrote, and served from the
    hub's own origin as ``text/html`` (``.html``, ``.htm``, ``.shtml``), ``image/svg+xml`` or
    XML it would be a page running the uploader's script in the reader's session. As
    ``text/plain`` (with ``nosniff``, set for every response) a browser shows the source.
    """
    guessed, _ = mimetypes.guess_type(filename)
    if guessed == "application/json":
        return "application/json; charset=utf-8"
    if guessed and (guessed.startswith("text/") or guessed.endswith(("+xml", "/xml"))):
        return "text/plain; charset=utf-8"
    return "application/octet-stream"
