"""WSGI entry point for gunicorn: ``gunicorn hub.wsgi``."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "hub.settings")
application = get_wsgi_application()


def _warm_blob_store() -> None:
    """Build the S3 client while the worker boots, not on its first user's request.

    Loading botocore's S3 service model costs ~0.5 s of CPU; gunicorn imports this module in every
    worker, so without this the first LFS batch each worker answers is that much slower. Building
    the client makes no network call, so a store that is down does not stop the worker starting.
    """
    from django.conf import settings

    if settings.BLOB_STORE == "s3":
        from hub.blobstore import get_blob_store

        get_blob_store()


_warm_blob_store()
