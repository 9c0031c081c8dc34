"""Content-addressed blob storage: one interface, a filesystem and an S3 implementation."""

from __future__ import annotations

from functools import cache

from hub.blobstore.base import (
    BlobInfo,
    BlobNotFound,
    BlobStore,
    BlobStoreError,
    BlobStoreUnavailable,
    BlobTooLarge,
    ChecksumMismatch,
)

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobStore",
    "BlobStoreError",
    "BlobStoreUnavailable",
    "BlobTooLarge",
    "ChecksumMismatch",
    "get_blob_store",
]


@cache
def get_blob_store() -> BlobStore:
    """The configured store (settings.BLOB_STORE), built once per process."""
    from django.conf import settings

    if settings.BLOB_STORE == "s3":
        from hub.blobstore.s3 import S3BlobStore

        return S3BlobStore(
            settings.S3_BUCKET,
            endpoint_url=settings.S3_ENDPOINT_URL,
            region=settings.S3_REGION,
            connect_timeout=settings.S3_CONNECT_TIMEOUT,
            read_timeout=settings.S3_READ_TIMEOUT,
            max_attempts=settings.S3_MAX_ATTEMPTS,
        )
    from hub.blobstore.filesystem import FilesystemBlobStore

    return FilesystemBlobStore(settings.BLOB_ROOT, sync_mode=settings.BLOB_FS_SYNC)
