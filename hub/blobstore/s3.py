"""Blob store on S3 or an S3-compatible service (AWS S3, MinIO, Ceph) through boto3.

Written on boto3 directly rather than django-storages because the hub needs what the
Storage API does not expose: multipart uploads it can abort, presigned PUTs for the
LFS batch API, and server-side copies from a staging key into the content address.

Atomicity: S3 makes an object visible only when its PUT or multipart upload completes.
When the caller announces the sha256 the bytes stream straight to the final key and a
mismatch aborts the multipart upload; otherwise the bytes are spooled to a local temp
file while hashing (memory stays flat) and then uploaded under the computed address.
"""

from __future__ import annotations

import contextlib
import tempfile
from typing import BinaryIO

import boto3
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from hub.blobstore.base import (
    CHUNK,
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreUnavailable,
    ChecksumMismatch,
    HashingCounter,
    check_sha256,
    iter_chunks,
)

PART_SIZE = 16 * 1024 * 1024  # S3 needs >= 5 MiB per part but the last


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
        connect_timeout: float = 5,
        read_timeout: float = 60,
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
                retries={"max_attempts": 3, "mode": "standard"},
                signature_version="s3v4",
                s3={"addressing_style": "path"},
            ),
        )

    def key_for(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}sha256/{sha256[:2]}/{sha256}"

    def staging_key_for(self, sha256: str) -> str:
        check_sha256(sha256)
        return f"{self.prefix}incoming/{sha256}"

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
        existing = self.stat(sha256)
        if existing is not None:  # same content already stored: consume and verify, don't rewrite
            counter = HashingCounter()
            for chunk in iter_chunks(stream, max_bytes):
                counter.update(chunk)
            counter.verify(sha256)
            return existing
        key = self.key_for(sha256)
        upload_id = self.client.create_multipart_upload(Bucket=self.bucket, Key=key)["UploadId"]
        try:
            counter = HashingCounter()
            parts, buf = [], bytearray()
            for chunk in iter_chunks(stream, max_bytes):
                counter.update(chunk)
                buf += chunk
                if len(buf) >= PART_SIZE:
                    parts.append(self._upload_part(key, upload_id, len(parts) + 1, bytes(buf)))
                    buf.clear()
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
            if self.stat(counter.hexdigest) is None:
                self.client.upload_fileobj(spool, self.bucket, self.key_for(counter.hexdigest))
        return BlobInfo(counter.hexdigest, counter.size)

    # -- reading -----------------------------------------------------------------------
    def open(self, sha256: str) -> BinaryIO:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self.key_for(sha256))["Body"]
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
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 refused the ranged read: {exc}") from exc

    def stat(self, sha256: str) -> BlobInfo | None:
        return self._head(self.key_for(sha256), sha256)

    def _head(self, key: str, sha256: str) -> BlobInfo | None:
        try:
            head = self.client.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in {"404", "NoSuchKey", "NotFound"}:
                return None
            raise BlobStoreUnavailable(f"S3 refused the stat: {exc}") from exc
        except BotoCoreError as exc:
            raise BlobStoreUnavailable(f"S3 could not be reached: {exc}") from exc
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
        return self.client.generate_presigned_url("get_object", Params=params, ExpiresIn=expires)

    # -- direct client uploads (LFS) -----------------------------------------------------
    def upload_url(self, sha256: str, size: int, *, expires: int = 900) -> str | None:
        """Presigned PUT to a staging key; ``finalize_upload`` verifies and publishes it."""
        return self.client.generate_presigned_url(
            "put_object",
            Params={"Bucket": self.bucket, "Key": self.staging_key_for(sha256)},
            ExpiresIn=expires,
        )

    def finalize_upload(self, sha256: str) -> BlobInfo:
        """Hash the staged object; publish it under its address only if the hash matches."""
        staging = self.staging_key_for(sha256)
        if self._head(staging, sha256) is None:
            existing = self.stat(sha256)
            if existing is not None:
                return existing
            raise BlobNotFound(f"no upload arrived for {sha256}")
        counter = HashingCounter()
        try:
            body = self.client.get_object(Bucket=self.bucket, Key=staging)["Body"]
            for chunk in iter(lambda: body.read(CHUNK), b""):
                counter.update(chunk)
            if counter.hexdigest != sha256:
                self.client.delete_object(Bucket=self.bucket, Key=staging)
                raise ChecksumMismatch(
                    f"uploaded content hashes to {counter.hexdigest}, not {sha256}; the upload was discarded"
                )
            self.client.copy({"Bucket": self.bucket, "Key": staging}, self.bucket, self.key_for(sha256))
            self.client.delete_object(Bucket=self.bucket, Key=staging)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 failed while verifying the upload: {exc}") from exc
        return BlobInfo(sha256, counter.size)

    def check(self) -> None:
        try:
            self.client.head_bucket(Bucket=self.bucket)
        except (BotoCoreError, ClientError) as exc:
            raise BlobStoreUnavailable(f"S3 bucket {self.bucket!r} is not reachable: {exc}") from exc
