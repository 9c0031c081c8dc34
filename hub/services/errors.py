"""Errors the hub's services raise, carrying the HTTP status and the Hub's ``X-Error-Code``.

The ``huggingface_hub`` client maps ``X-Error-Code`` to its own exception classes
(``RepositoryNotFoundError``, ``GatedRepoError`` …), so the services name the code at the
point where they know what went wrong and the views only translate.
"""

from __future__ import annotations


class HubError(Exception):
    status = 400
    code: str | None = None

    def __init__(self, message: str, *, status: int | None = None, commit: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        self.commit = commit  # sent as X-Repo-Commit (EntryNotFound needs it for the client's cache)


class BadRequest(HubError):
    status = 400


class Unauthorized(HubError):
    status = 401


class Forbidden(HubError):
    status = 403


class RepoNotFound(HubError):
    status = 404
    code = "RepoNotFound"


class RevisionNotFound(HubError):
    status = 404
    code = "RevisionNotFound"


class EntryNotFound(HubError):
    status = 404
    code = "EntryNotFound"


class GatedRepo(HubError):
    """401 for anonymous callers, 403 for signed-in users without an accepted request."""

    code = "GatedRepo"


class Conflict(HubError):
    status = 409


class ContentMissing(HubError):
    """A file the revision lists whose bytes the blob store does not hold (a restore from a database
    dump newer than the store's copy: docs/operations.md). Not the client's fault, and not
    transient: the file must be uploaded again or the store restored."""

    status = 500
    code = "ContentMissing"


class PreconditionFailed(HubError):
    status = 412


class TooLarge(HubError):
    status = 413


class Unprocessable(HubError):
    status = 422
