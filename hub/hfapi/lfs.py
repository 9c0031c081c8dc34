"""The git-lfs Batch API as ``huggingface_hub`` uses it: batch, direct uploads, multipart, verify.

On S3 the client PUTs straight to presigned URLs: one URL to a staging key, or for large
files one per part of a multipart upload opened at the content address, plus a signed
completion URL through which only this server assembles the parts (never over an existing
object). ``verify`` hashes the object (copying a staged one to its address) and keeps it
only if its sha256 matches. On the filesystem store the
PUT URL points back at this server, which streams the body into the store while hashing.
Either way a ``Blob`` row exists only for content whose sha256 has been checked, and the
commit endpoint accepts ``lfsFile`` entries only for such content, and only when the committer
may use it in the repository (``hub.services.blob_access``): "already stored" is never
answered for content the caller cannot read, which is asked for (and hashed) like new content.
"""

from __future__ import annotations

import secrets

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, JsonResponse

from hub.auth import Caller
from hub.blobstore import BlobNotFound, BlobStoreError, BlobStoreUnavailable, ChecksumMismatch, get_blob_store
from hub.blobstore.base import SHA256_RE
from hub.hfapi.http import endpoint, hub_view, read_json
from hub.hfapi.write import PREFIX
from hub.models import Blob, Repository
from hub.services.access import get_contributor
from hub.services.blob_access import claim_address, grant, release_address, unavailable
from hub.services.blobs import blob_present, blobs_present, mark_storing, record_blob, store_stream
from hub.services.errors import BadRequest, HubError, TooLarge, Unprocessable

LFS_JSON = "application/vnd.git-lfs+json"
SALT_UPLOAD = "hub.lfs.upload"
SALT_COMPLETE = "hub.lfs.complete"
SALT_VERIFY = "hub.lfs.verify"
MAX_OBJECTS = 1000


def chunk_size() -> int:
    return int(getattr(settings, "MODELHUB_LFS_CHUNK_SIZE", 64 * 1024 * 1024))


def link_ttl() -> int:
    return max(settings.S3_PRESIGN_SECONDS, 3600)


def lfs_response(data: dict, status: int = 200) -> JsonResponse:
    response = JsonResponse(data, status=status)
    response["Content-Type"] = LFS_JSON
    return response


def _upload_actions(
    request: HttpRequest,
    caller: Caller,
    repo: Repository,
    oid: str,
    size: int,
    transfers: list[str],
    *,
    stored: bool,
) -> dict:
    """Where to send one object's bytes, and the verify link that credits this upload alone.

    Each upload gets a random ticket, carried (signed) in its verify link and, on S3, in its
    staging key or its multipart object's metadata: verify hashes that upload's bytes and no
    one else's. ``stored``: the content is on the hub already (for others), so a multipart
    upload is assembled at the ticket's staging key, never over the stored object; the answer
    has the same shape either way. New content is assembled at the address (no copy) by the one
    upload that claims it (``claim_address``); parallel uploads of it are staged.
    """
    store = get_blob_store()
    base = endpoint(request)
    ticket = secrets.token_urlsafe(12)
    proof = signing.dumps({"oid": oid, "repo": repo.pk, "ticket": ticket}, salt=SALT_VERIFY)
    verify = {
        "href": f"{base}/{PREFIX[repo.repo_type]}{repo.repo_id}.git/info/lfs/objects/verify?ticket={proof}"
    }
    ttl = link_ttl()
    if hasattr(store, "start_multipart_upload") and "multipart" in transfers and size > chunk_size():
        # staged as well when an unverified upload holds the address (a client that never came back
        # to verify) or another upload of the same content claimed it first: this one could not be
        # assembled there, and its verify would find someone else's object
        staged = stored or store.occupied(oid) or not claim_address(oid, ticket, ttl)
        upload_id, urls = store.start_multipart_upload(
            oid, size, chunk_size(), expires=ttl, ticket=ticket, staged=staged
        )
        token = signing.dumps(
            {
                "oid": oid,
                "size": size,
                "upload": upload_id,
                "repo": repo.pk,
                "ticket": ticket,
                "staged": staged,
            },
            salt=SALT_COMPLETE,
        )
        header = {"chunk_size": str(chunk_size())} | {f"{i:05d}": url for i, url in enumerate(urls, start=1)}
        return {"upload": {"href": f"{base}/api/lfs/complete/{token}", "header": header}, "verify": verify}
    url = store.upload_url(oid, size, expires=ttl, ticket=ticket)
    if url is None:
        token = signing.dumps(
            {"oid": oid, "size": size, "repo": repo.pk, "user": caller.user.pk if caller.user else None},
            salt=SALT_UPLOAD,
        )
        url = f"{base}/api/lfs/upload/{token}"
    return {"upload": {"href": url}, "verify": verify}


@hub_view(("POST",))
def batch(request: HttpRequest, caller: Caller, ns: str, name: str, kind: str = "models"):
    from hub.hfapi.read import TYPES

    # Content-addressed uploads grant nothing: whoever may propose a change (a PR) may upload.
    repo = get_contributor(caller, TYPES[kind], ns, name)
    body = read_json(request)
    if body.get("operation") != "upload":
        raise BadRequest("only the upload operation is supported; download files through /resolve")
    objects = body.get("objects")
    if not isinstance(objects, list) or len(objects) > MAX_OBJECTS:
        raise BadRequest(f"objects must be a list of at most {MAX_OBJECTS}")
    transfers = [t for t in body.get("transfers") or ["basic"] if isinstance(t, str)]
    total = 0
    entries: list[dict | tuple[str, int]] = []  # in request order: an error, or an object to answer
    for obj in objects:
        oid = str((obj or {}).get("oid") or "").lower()
        size = (obj or {}).get("size")
        if not SHA256_RE.match(oid) or not isinstance(size, int) or size < 0:
            entries.append(
                {
                    "oid": oid,
                    "size": size,
                    "error": {"code": 422, "message": "oid must be sha256 hex, size >= 0"},
                }
            )
            continue
        if size > settings.MAX_FILE_SIZE:
            raise TooLarge(
                f"a file of {size} bytes exceeds the per-file limit of {settings.MAX_FILE_SIZE} bytes"
            )
        total += size
        if total > settings.MAX_COMMIT_SIZE:
            raise TooLarge(f"this upload exceeds the per-commit limit of {settings.MAX_COMMIT_SIZE} bytes")
        entries.append((oid, size))
    # one question for the whole batch: which stored objects may this caller use here?
    stored = blobs_present(e[0] for e in entries if isinstance(e, tuple))
    refused = unavailable(caller, repo, stored)
    # answered "already stored", so the client will name it in a commit without uploading it:
    # refreshed first, then checked again (the collector may have taken it in between)
    usable = stored - refused
    if usable:
        mark_storing(usable)  # the collector deletes a row with its bytes: a row still here is stored
        stored -= usable - set(Blob.objects.filter(sha256__in=usable).values_list("sha256", flat=True))
    out = []
    for entry in entries:
        if isinstance(entry, dict):
            out.append(entry)
            continue
        oid, size = entry
        if oid in stored and oid not in refused:
            out.append({"oid": oid, "size": size})
        else:
            # content stored for others is asked for like new content: the answer must not tell
            # that content the caller cannot read exists
            actions = _upload_actions(request, caller, repo, oid, size, transfers, stored=oid in stored)
            out.append({"oid": oid, "size": size, "authenticated": True, "actions": actions})
    chosen = "multipart" if "multipart" in transfers else "basic"
    return lfs_response({"transfer": chosen, "objects": out, "hash_algo": "sha256"})


def _verify_claim(request: HttpRequest, oid: str, repo: Repository) -> dict | None:
    """The signed ticket of the verify link the batch issued (None without one)."""
    token = request.GET.get("ticket")
    if not token:
        return None
    claim = _unsign(token, SALT_VERIFY)
    if claim.get("oid") != oid or claim.get("repo") != repo.pk:
        raise BadRequest("this verify link belongs to another object or repository")
    return claim


def _unsign(token: str, salt: str) -> dict:
    try:
        return signing.loads(token, salt=salt, max_age=link_ttl())
    except signing.BadSignature as exc:
        raise HubError("this upload link is invalid or has expired", status=403) from exc


@hub_view(("PUT",))
def upload(request: HttpRequest, caller: Caller, token: str):
    """The filesystem store's PUT target: stream the body into the store, checking sha256 and size."""
    claim = _unsign(token, SALT_UPLOAD)
    store_stream(
        request, expected_sha256=claim["oid"], expected_size=claim["size"], max_bytes=settings.MAX_FILE_SIZE
    )
    grant(claim["repo"], claim["oid"], claim.get("user"))  # the body hashed to the oid: its sender holds it
    return lfs_response({"oid": claim["oid"], "size": claim["size"]})


@hub_view(("POST",))
def complete_multipart(request: HttpRequest, caller: Caller, token: str):
    """The client's multipart completion call (unauthenticated by design: the URL is signed)."""
    claim = _unsign(token, SALT_COMPLETE)
    body = read_json(request)
    if str(body.get("oid") or "").lower() != claim["oid"]:
        raise BadRequest("oid does not match this upload")
    try:
        parts = [(int(p["partNumber"]), str(p["etag"])) for p in body.get("parts") or []]
    except (KeyError, TypeError, ValueError) as exc:
        raise BadRequest("parts must be a list of {partNumber, etag}") from exc
    expected = max(1, -(-claim["size"] // chunk_size()))
    if sorted(n for n, _ in parts) != list(range(1, expected + 1)):
        raise BadRequest(f"expected parts 1..{expected}")
    store = get_blob_store()
    ticket, staged = claim.get("ticket", ""), bool(claim.get("staged"))
    try:
        if not staged and blob_present(claim["oid"]) is not None:
            # Verified content is there already: never assemble over it (the store refuses too).
            store.abort_multipart_upload(claim["oid"], claim["upload"], ticket=ticket)
        else:
            store.complete_multipart_upload(
                claim["oid"], claim["upload"], parts, ticket=ticket, staged=staged
            )
    except BlobStoreUnavailable:
        raise  # S3 failing or slow: a 503 the client retries, not a 422 it gives up on
    except BlobStoreError as exc:
        raise Unprocessable(str(exc)) from exc
    return lfs_response({"oid": claim["oid"], "size": claim["size"]})


@hub_view(("POST",))
def verify(request: HttpRequest, caller: Caller, ns: str, name: str, kind: str = "models"):
    from hub.hfapi.read import TYPES

    repo = get_contributor(caller, TYPES[kind], ns, name)
    body = read_json(request)
    oid, size = str(body.get("oid") or "").lower(), body.get("size")
    if not SHA256_RE.match(oid):
        raise BadRequest("oid must be a sha256 hex digest")
    proof = _verify_claim(request, oid, repo)
    store = get_blob_store()
    blob = None
    if proof is not None and hasattr(store, "finalize_upload"):
        # this upload's own bytes, hashed: never another client's upload of the same content
        ticket = proof["ticket"]
        try:
            # the staged copy is kept until the rows below are written: a verify retried after a
            # database failure must still find this upload's bytes under its ticket
            mark_storing([oid])
            blob = record_blob(store.finalize_upload(oid, ticket=ticket, keep_staged=True))
            grant(repo.pk, oid, caller.user.pk if caller.user else None)
        except BlobNotFound:
            # nothing arrived under this ticket: fine only if the caller may use the content anyway
            blob = None
        except ChecksumMismatch as exc:
            raise Unprocessable(str(exc)) from exc
        else:
            release_address(oid, ticket)
            store.discard_staged(oid, ticket)
    if blob is None:
        # the filesystem store's upload endpoint hashed and granted what it received
        blob = blob_present(oid)
        if blob is None or unavailable(caller, repo, {oid}):
            raise Unprocessable(f"object {oid} was not uploaded")
    if isinstance(size, int) and blob.size != size:
        raise Unprocessable(f"object {oid} is {blob.size} bytes, not {size}")
    return lfs_response({"oid": oid, "size": blob.size})
