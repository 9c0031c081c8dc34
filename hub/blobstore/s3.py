"""Blob store on S3 or an S3-compatible service (AWS S3, MinIO, Ceph) through boto3.

Written on boto3 directly rather than django-storages because the hub needs what the
Storage API does not expose: multipart uploads it can abort, presigned PUTs for the
LFS batch API, conditional writes and ETag-conditional reads and deletes.

Atomicity: S3 makes an object visible only when its PUT or multipart upload completes.
When the caller announces the sha256 the bytes stream straight to the final key and a
mismatch aborts the multipart upload; otherwise the bytes are spooled to a local temp
file while hashing (memory stays flat) and then uploaded under the computed address.

Trust: an object the hub wrote itself (after hashing the bytes) carries the metadata
``modelhub-sha256``; only such objects are taken as verified by their presence. Clients'
multipart uploads complete at the content address itself (no staging copy) but without the
mark: they are assembled only if no object holds that address yet (``If-None-Match: *``),
hashed by ``finalize_upload`` with reads pinned to the ETag, and deleted on a mismatch only
if still the same ETag. A single presigned PUT can be replayed until it expires, so those
go to a staging key and are copied once verified: a URL to the content address would let a
stale link overwrite a verified blob.

Tickets: every upload the LFS batch hands out carries a random ``ticket``, and verification
accepts only that upload's bytes: its own staging key (``incoming/<sha256>.<ticket>``) or a
multipart upload assembled at the address whose object carries the ticket in its metadata.
Without it, whoever called verify first would be credited with another client's upload of the
same content (a staging key shared per hash, or the object at the address), and could name in
a commit content they never held.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections import deque
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from http.client import HTTPException
from itertools import islice
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError
from urllib3.exceptions import HTTPError

from hub.blobstore.base import (
    SHA256_RE,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    BlobStoreUnavailable,
    ChecksumMismatch,
    HashingCounter,
    StoredObject,
    UploadSweep,
    check_sha256,
    iter_chunks,
)

PART_SIZE = 16 * 1024 * 1024  # S3 needs >= 5 MiB per part but the last
VERIFY_RANGE = 8 * 1024 * 1024  # ranged reads when hashing an uploaded object
PREFETCH = 4
MAX_SINGLE_COPY = 5 * 1024**3  # CopyObject's limit; larger objects need a multipart copy
MARK = "modelhub-sha256"  # user metadata on objects whose bytes the hub hashed before writing
TICKET = "modelhub-upload"  # user metadata naming the upload (ticket) a client's multipart object came from
REFUSED_CONDITION = {"PreconditionFailed", "412", "ConditionalRequestConflict", "409"}


def _code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code") or "")


def _server_side(exc: ClientError) -> bool:
    """True for S3's own failures (5xx, SlowDown), which a retry may get past; False for refusals."""
    status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    return status >= 500 or exc.response.get("Error", {}).get("Code") in {"SlowDown", "InternalError"}


def _read_into(response: dict, view: memoryview) -> None:
    """Fill ``view`` with the body of a ranged GET, which must be exactly that long.

    Reads through http.client's ``readinto`` under botocore and urllib3, straight into the
    buffer, then hands the connection back to the pool; any other body is read and copied.
    A body that ends early or fails half-way raises BlobStoreUnavailable, as every S3 failure.
    """
    body = response["Body"]
    if int(response.get("ContentLength", -1)) != len(view):  # e.g. a server ignoring Range
        body.close()  # unread bytes: the connection must not go back to the pool
        raise BlobStoreUnavailable(
            f"S3 answered a {len(view)}-byte range with {response.get('ContentLength')} bytes"
        )
    raw = getattr(body, "_raw_stream", None)
    fp = getattr(raw, "_fp", None)
    try:
        if fp is None or not hasattr(fp, "readinto") or not hasattr(raw, "release_conn"):
            data = body.read()
            if len(data) != len(view):
                raise BlobStoreUnavailable(f"S3 sent {len(data)} of {len(view)} bytes of a range")
            view[:] = data
            return
        filled = 0
        while filled < len(view):
            count = fp.readinto(view[filled:])
            if not count:
                raise BlobStoreUnavailable(f"S3 sent {filled} of {len(view)} bytes of a range")
            filled += count
        raw.release_conn()
    except (BotoCoreError, HTTPError, HTTPException, OSError) as exc:
        body.close()
        raise BlobStoreUnavailable(f"S3 failed in the middle of a read: {exc}") from exc


class _GuardedBody:
    """The streaming body of a GET, whose read errors are the store's: S3 stalling or dropping
    the connection half-way through an object raises BlobStoreUnavailable, as every other S3
    failure does, instead of a botocore/urllib3 error callers do not expect (a scan task that
    catches BlobStoreError would otherwise crash). Found by tests/hardening/test_faults.py."""

    def __init__(self, body) -> None:
        self._body = body

    def read(self, amt: int | None = None) -> bytes:
        try:
            return self._body.read(amt)
        except (BotoCoreError, OSError) as exc:
            raise BlobStoreUnavailable(f"S3 failed in the middle of a read: {exc}") from exc

    def iter_chunks(self, chunk_size: int = 1024 * 1024) -> Iterator[bytes]:
        while chunk := self.read(chunk_size):
            yield chunk

    def __iter__(self) -> Iterator[bytes]:
        return self.iter_chunks()

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._body.close()

    def __enter__(self) -> _GuardedBody:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def __getattr__(self, name: str):
        return getattr(self._body, name)


class S3BlobStore(BlobStore):
    name = "s3"

    def __init__(
        self,
        bucket: str,
        *,
        endpoint_url: str | None = None,
        region: str = "us-east-1",
        prefix: str = "",
        client=None,
        connect_timeout: float = 3,
        read_timeout: float = 10,
        max_attempts: int = 2,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""
        self.client = client or boto3.client(
            "s3",
            endpoint_url=endpoint_url,
            region_name=region,
            config=Config(
                connect_timeout=connect_timeout,
                read_timeout=read_timeout,
                retries={"total_max_attempts": max_attempts, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
            ),
        )

    def key_for(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}sha256/{sha256[:2]}/{sha256}"

    def staging_key_for(self, sha256: str, ticket: str = "") -> str:
        check_sha256(sha256)
        if ticket and not ticket.replace("-", "").replace("_", "").isalnum():
            raise ValueError("an upload ticket is URL-safe base64")
        return f"{self.prefix}incoming/{sha256}" + (f".{ticket}" if ticket else "")

    # -- writing -----------------------------------------------------------------------
    def put(
        self, stream: BinaryIO, *, expected_sha256: str | None = None, max_bytes: int | None = None
    ) -> BlobInfo:
        try:
            if expected_sha256:
                return self._put_known(stream, check_sha256(expected_sha256), max_bytes)
            return self._put_spooled(stream, max_bytes)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 refused the write: {exc}") from exc

    def _put_known(self, stream: BinaryIO, sha256: str, max_bytes: int | None) -> BlobInfo:
        existing = self._trusted(sha256)
        if existing is not None:  # same content already stored: consume and verify, don't rewrite
            counter = HashingCounter()
            for chunk in iter_chunks(stream, max_bytes):
                counter.update(chunk)
            counter.verify(sha256)
            return existing
        key = self.key_for(sha256)
        counter, buf = HashingCounter(), bytearray()
        chunks = iter_chunks(stream, max_bytes)
        for chunk in chunks:
            counter.update(chunk)
            buf += chunk
            if len(buf) >= PART_SIZE:
                break
        else:  # smaller than one part: a single PUT, made only once the hash is known to match
            counter.verify(sha256)
            self.client.put_object(Bucket=self.bucket, Key=key, Body=bytes(buf), Metadata={MARK: sha256})
            return BlobInfo(sha256, counter.size)
        # Marked at creation, but visible only on completion, which happens only once the hash matched.
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, Metadata={MARK: sha256})[
            "UploadId"
        ]
        try:
            parts: list[dict] = []
            for chunk in chunks:
                if len(buf) >= PART_SIZE:
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buf)))
                    buf.clear()
                counter.update(chunk)
                buf += chunk
            if buf or not parts:
                parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buf)))
            counter.verify(sha256)
            self.client.complete_multipart_upload(
                Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        except BaseException:
            with contextlib.suppress(BotoCoreError, ClientError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise
        return BlobInfo(sha256, counter.size)

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> dict:
        resp = self.client.upload_part(
            Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body
        )
        return {"ETag": resp["ETag"], "PartNumber": number}

    def _put_spooled(self, stream: BinaryIO, max_bytes: int | None) -> BlobInfo:
        counter = HashingCounter()
        with tempfile.TemporaryFile() as spool:
            for chunk in iter_chunks(stream, max_bytes):
                counter.update(chunk)
                spool.write(chunk)
            spool.seek(0)
            if self._trusted(counter.hexdigest) is None:
                self.client.upload_fileobj(
                    spool,
                    self.bucket,
                    self.key_for(counter.hexdigest),
                    ExtraArgs={"Metadata": {MARK: counter.hexdigest}},
                )
        return BlobInfo(counter.hexdigest, counter.size)

    # -- reading -----------------------------------------------------------------------
    def open(self, sha256: str) -> BinaryIO:
        try:
            return _GuardedBody(self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))["Body"])
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"NoSuchKey", "404"}:
                raise BlobNotFound(f"blob {sha256} is not stored") from exc
            raise BlobStoreUnavailable(f"S3 refused the read: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 could not be reached: {exc}") from exc

    def read_range(self, sha256: str, start: int, length: int) -> bytes:
        if length <= 0:
            return b""
        rng = f"bytes={start}-{start + length - 1}"
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256), Range=rng)["Body"]
            return body.read()
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:  # missing content, not an outage
                raise BlobNotFound(f"blob {sha256} is not stored") from exc
            raise BlobStoreUnavailable(f"S3 refused the ranged read: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 refused the ranged read: {exc}") from exc

    def iter_objects(self) -> Iterator[StoredObject]:
        """The bucket's listing under ``sha256/``: S3 lists keys in ascending order, and a key's
        order is its digest's (``sha256/ab/<digest>``)."""
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(
                Bucket=self.bucket, Prefix=f"{self.prefix}sha256/"
            ):
                for item in page.get("Contents") or ():
                    digest = item["Key"].rsplit("/", 1)[-1]
                    if SHA256_RE.match(digest) and item["Key"] == self.key_for(digest):
                        yield StoredObject(digest, int(item.get("Size") or 0), item["LastModified"])
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 refused the listing: {exc}") from exc

    def stat(self, sha256: str) -> BlobInfo | None:
        return self._head(self.key_for(sha256), sha256)

    def _head(self, key: str, sha256: str) -> BlobInfo | None:
        head = self._head_raw(key)
        return None if head is None else BlobInfo(sha256, int(head["ContentLength"]))

    def _head_raw(self, key: str) -> dict | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if _code(exc) in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise BlobStoreUnavailable(f"S3 refused the stat: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 could not be reached: {exc}") from exc

    def occupied(self, sha256: str) -> bool:
        """Whether any object holds the content address (verified or not): a multipart upload
        cannot be assembled there then, so it goes to its staging key."""
        return self._head_raw(self.key_for(sha256)) is not None

    def _trusted(self, sha256: str) -> BlobInfo | None:
        """The object at the content address if the hub itself wrote it (hashed first), else None.

        An unmarked object is a client's upload, verified or not: presence alone proves nothing.
        """
        head = self._head_raw(self.key_for(sha256))
        if head is None or (head.get("Metadata") or {}).get(MARK) != sha256:
            return None
        return BlobInfo(sha256, int(head["ContentLength"]))

    def delete(self, sha256: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self.key_for(sha256))
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 refused the delete: {exc}") from exc

    def url(self, sha256: str, *, expires: int = 900, filename: str | None = None) -> str | None:
        params = {"Bucket": self.bucket, "Key": self.key_for(sha256)}
        if filename:
            safe = filename.replace('"', "").replace("\r", "").replace("\n", "")
            params["ResponseContentDisposition"] = f'attachment; filename="{safe}"'
        # the object's stored type is whatever the uploader's PUT said: never let it be a page
        params["ResponseContentType"] = "application/octet-stream"
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    # -- direct client uploads (LFS) -----------------------------------------------------
    def upload_url(self, sha256: str, size: int, *, expires: int = 900, ticket: str = "") -> str | None:
        """Presigned PUT to this upload's staging key; ``finalize_upload`` verifies and publishes it."""
        return self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": self.staging_key_for(sha256, ticket)},
            ExpiresIn=expires,
        )

    def start_multipart_upload(
        self,
        sha256: str,
        size: int,
        part_size: int,
        *,
        expires: int = 900,
        ticket: str = "",
        staged: bool = False,
    ) -> tuple[str, list[str]]:
        """Open a multipart upload of the content address; (upload id, one presigned PUT URL per part).

        The client PUTs the parts itself (parts of ``part_size`` bytes, the last shorter), then
        asks us to complete the upload, which only we can do; ``finalize_upload`` then hashes the
        object in place. A part URL is dead once its upload is completed or aborted, so a stale
        one cannot touch the object. S3 needs parts of at least 5 MiB but the last.

        ``ticket`` names the upload in the object's metadata (verification accepts only its own);
        ``staged`` assembles at the ticket's staging key instead of the address (content already
        stored, which a client upload must not replace).
        """
        key = self._upload_key(sha256, ticket, staged)
        count = max(1, -(-size // part_size))
        if count > 10_000:
            raise BlobStoreError(f"{size} bytes in parts of {part_size} needs more than 10,000 parts")
        try:
            extra = {"Metadata": {TICKET: ticket}} if ticket else {}
            upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key, **extra)["UploadId"]
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 refused to start a multipart upload: {exc}") from exc
        urls = [
            self.client.generate_presigned_url(
                "upload_part",
                Params={"Bucket": self.bucket, "Key": key, "UploadId": upload_id, "PartNumber": number},
                ExpiresIn=expires,
            )
            for number in range(1, count + 1)
        ]
        return upload_id, urls

    def _upload_key(self, sha256: str, ticket: str, staged: bool) -> str:
        return self.staging_key_for(sha256, ticket) if staged else self.key_for(sha256)

    def complete_multipart_upload(
        self,
        sha256: str,
        upload_id: str,
        parts: list[tuple[int, str]],
        *,
        ticket: str = "",
        staged: bool = False,
    ) -> bool:
        """Assemble the client's parts ((number, etag) pairs) at the content address (``staged``: at
        the ticket's staging key), unless an object is there already (verified, or another client's
        upload awaiting verification): then the upload is aborted and nothing is overwritten. True
        when this upload became the object."""
        key = self._upload_key(sha256, ticket, staged)
        try:
            self.client.complete_multipart_upload(
                Bucket=self.bucket,
                Key=key,
                UploadId=upload_id,
                MultipartUpload={"Parts": [{"PartNumber": n, "ETag": etag} for n, etag in sorted(parts)]},
                IfNoneMatch="*",
            )
            return True
        except ClientError as exc:
            if _code(exc) in REFUSED_CONDITION:
                self.abort_multipart_upload(sha256, upload_id, ticket=ticket, staged=staged)
                return False
            if _server_side(exc):
                # S3 itself failed: keep the upload (and the client's parts) so a retry completes it.
                raise BlobStoreUnavailable(f"S3 failed while assembling the parts: {exc}") from exc
            with contextlib.suppress(BotoCoreError, ClientError):
                self.client.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            raise BlobStoreError(f"S3 could not assemble the uploaded parts: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 could not be reached: {exc}") from exc

    def abort_multipart_upload(
        self, sha256: str, upload_id: str, *, ticket: str = "", staged: bool = False
    ) -> None:
        """Drop an upload and its parts; its part URLs stop working. Best effort (S3 lifecycle rules
        for incomplete uploads are the backstop)."""
        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.abort_multipart_upload(
                Bucket=self.bucket, Key=self._upload_key(sha256, ticket, staged), UploadId=upload_id
            )

    def finalize_upload(self, sha256: str, *, ticket: str = "", keep_staged: bool = False) -> BlobInfo:
        """Check an uploaded object's sha256; only a matching object stays.

        A single PUT (or a staged multipart upload) went to the staging key: hashed there, then
        copied to the content address if it matches, or just dropped when the address already
        holds verified bytes. A multipart upload sits at the content address: hashed in place,
        deleted if it does not match. Raises BlobNotFound when nothing arrived, ChecksumMismatch
        when the bytes are wrong.

        With a ``ticket`` only that upload counts: its own staging key, or an object at the
        address carrying the ticket. Anything else there is someone else's upload (or verified
        content), which proves nothing about this caller's. ``keep_staged`` leaves a verified
        staged copy in place for the caller to drop (``discard_staged``) once it has recorded the
        result: a retry after a failure in between finds the upload again.
        """
        staging = self.staging_key_for(sha256, ticket)
        try:
            head = self._head_raw(staging)
            if head is not None:
                info = self._publish_staged(sha256, staging, head)
                if not keep_staged:
                    self.discard_staged(sha256, ticket)
                return info
            head = self._head_raw(self.key_for(sha256))  # one HEAD: the mark and the ETag to pin
            if head is None:
                raise BlobNotFound(f"no upload arrived for {sha256}")
            metadata = head.get("Metadata") or {}
            if ticket:
                if metadata.get(TICKET) != ticket:
                    raise BlobNotFound(f"no upload arrived for {sha256} under this ticket")
                return self._verify_in_place(sha256, head)
            if metadata.get(MARK) == sha256:  # the hub wrote it: hashed already
                return BlobInfo(sha256, int(head["ContentLength"]))
            return self._verify_in_place(sha256, head)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 failed while verifying the upload: {exc}") from exc

    def _hash(self, key: str, head: dict) -> str:
        counter = HashingCounter()
        for chunk in self._prefetched_ranges(key, int(head["ContentLength"]), etag=head.get("ETag")):
            counter.update(chunk)
        return counter.hexdigest

    def discard_staged(self, sha256: str, ticket: str = "") -> None:
        """Drop an upload's staged copy (best effort: a lifecycle rule on ``incoming/`` is the backstop)."""
        with contextlib.suppress(BotoCoreError, ClientError):
            self.client.delete_object(Bucket=self.bucket, Key=self.staging_key_for(sha256, ticket))

    # -- garbage collection -------------------------------------------------------------
    def sweep_uploads(self, before: datetime, *, dry_run: bool = False) -> UploadSweep:
        """Staged copies and staged multipart uploads under ``incoming/`` started before
        ``before``: their links have expired, so no client can finish them.

        Only ``incoming/``: a multipart upload at a content address may be the hub's own write of
        a large file (a mirror streaming for hours), indistinguishable in a listing from a
        client's abandoned one, and other applications may share the bucket. A bucket lifecycle
        rule that aborts incomplete multipart uploads after a day covers those. S3 lists
        ``incoming/`` itself, so the cost is one LIST per 1,000 leftovers, not a walk of the store.
        """
        found = UploadSweep()
        try:
            for item in self._incoming_before("list_objects_v2", "Contents", "LastModified", before):
                if not dry_run:
                    self.client.delete_object(Bucket=self.bucket, Key=item["Key"])
                found.objects += 1
                found.bytes += int(item.get("Size") or 0)
            for upload in self._incoming_before("list_multipart_uploads", "Uploads", "Initiated", before):
                if not dry_run:
                    with contextlib.suppress(ClientError):  # completed or aborted meanwhile
                        self.client.abort_multipart_upload(
                            Bucket=self.bucket, Key=upload["Key"], UploadId=upload["UploadId"]
                        )
                found.multipart += 1
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 failed while sweeping abandoned uploads: {exc}") from exc
        return found

    def _incoming_before(self, operation: str, items: str, stamp: str, before: datetime) -> Iterator[dict]:
        """What a listing of ``incoming/`` (objects, or multipart uploads) holds from before ``before``."""
        for page in self.client.get_paginator(operation).paginate(
            Bucket=self.bucket, Prefix=f"{self.prefix}incoming/"
        ):
            for item in page.get(items) or ():
                if item[stamp] < before:
                    yield item

    def _publish_staged(self, sha256: str, staging: str, head: dict) -> BlobInfo:
        """Hash a staged upload and make sure the address holds its bytes; the staged copy stays."""
        size = int(head["ContentLength"])
        digest = self._hash(staging, head)
        if digest != sha256:
            self.client.delete_object(Bucket=self.bucket, Key=staging)
            raise ChecksumMismatch(
                f"uploaded content hashes to {digest}, not {sha256}; the upload was discarded"
            )
        existing = self._head_raw(self.key_for(sha256))
        if existing is not None:
            if (existing.get("Metadata") or {}).get(MARK) == sha256:  # the hub wrote these bytes: keep them
                return BlobInfo(sha256, size)
            # another client's upload awaiting its own verify: not written over (its ticket would
            # go with it); if it holds these bytes it serves as the blob, if not it is deleted
            with contextlib.suppress(ChecksumMismatch):
                self._verify_in_place(sha256, existing)
                return BlobInfo(sha256, size)
        source = {"Bucket": self.bucket, "Key": staging}
        # Copy the very bytes hashed: a replay of the presigned PUT meanwhile makes the copy fail (412).
        mark = {"Metadata": {MARK: sha256}, "MetadataDirective": "REPLACE", "CopySourceIfMatch": head["ETag"]}
        if size <= MAX_SINGLE_COPY:  # one server-side request; the managed copy is many
            self.client.copy_object(CopySource=source, Bucket=self.bucket, Key=self.key_for(sha256), **mark)
        else:
            self.client.copy(source, self.bucket, self.key_for(sha256), ExtraArgs=mark)
        return BlobInfo(sha256, size)

    def _verify_in_place(self, sha256: str, head: dict) -> BlobInfo:
        """Hash the object at the content address, every read pinned to the ETag seen first: if the
        object is replaced meanwhile (the hub writing the right bytes over a bad upload) the reads
        fail instead of mixing two versions, and the delete of a mismatch spares the replacement."""
        key, etag = self.key_for(sha256), head.get("ETag")
        try:
            digest = self._hash(key, head)
        except ClientError as exc:
            if _code(exc) in REFUSED_CONDITION:
                raise BlobStoreUnavailable(f"blob {sha256} changed while it was verified; retry") from exc
            raise
        if digest != sha256:
            try:
                self.client.delete_object(Bucket=self.bucket, Key=key, **({"IfMatch": etag} if etag else {}))
            except ClientError as exc:  # replaced meanwhile, or a concurrent verify deleted it first
                if _code(exc) not in REFUSED_CONDITION | {"NoSuchKey", "404", "NotFound"}:
                    raise
            raise ChecksumMismatch(
                f"uploaded content hashes to {digest}, not {sha256}; the upload was discarded"
            )
        return BlobInfo(sha256, int(head["ContentLength"]))

    def _prefetched_ranges(self, key: str, size: int, *, etag: str | None = None) -> Iterator[memoryview]:
        """The object's bytes in order, fetched as ranges by a few threads ahead of the reader.

        Hashing is sequential, but the network need not be: with ``PREFETCH`` ranges in
        flight the hash runs at disk/CPU speed instead of one connection's. Each range is read
        in place into one of ``PREFETCH + 1`` buffers allocated once and reused (a yielded view
        is valid until the next one is requested), so memory stays at ``(PREFETCH + 1) *
        VERIFY_RANGE``. Reading each range into new ``bytes`` (urllib3 allocates and copies,
        in whichever thread fetched it) cost 11 % more CPU and raised a worker's peak RSS by
        55-71 MB per verify instead of 40 (docs/BENCHMARKS.md, "The hub").
        """
        pinned = {"IfMatch": etag} if etag else {}

        def fetch(start: int, buffer: bytearray) -> memoryview:
            end = min(start + VERIFY_RANGE, size)
            view = memoryview(buffer)[: end - start]
            response = self.client.get_object(
                Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}", **pinned
            )
            _read_into(response, view)
            return view

        starts = iter(range(0, size, VERIFY_RANGE))
        free = [
            bytearray(min(VERIFY_RANGE, size)) for _ in range(min(PREFETCH + 1, -(-size // VERIFY_RANGE)))
        ]
        with ThreadPoolExecutor(max_workers=PREFETCH) as pool:
            pending = deque(pool.submit(fetch, start, free.pop()) for start in islice(starts, PREFETCH))
            while pending:
                view = pending.popleft().result()
                nxt = next(starts, None)
                if nxt is not None:
                    pending.append(pool.submit(fetch, nxt, free.pop()))
                yield view
                free.append(view.obj)  # the reader is done with it: a later range reuses it

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 bucket {self.bucket!r} is not reachable: {exc}") from exc
