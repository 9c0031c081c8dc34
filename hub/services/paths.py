"""Validation of file paths inside a repository.

Paths come from uploaders and end up in URLs, in clients' cache folders and in
``local_dir`` downloads on other people's disks, so anything that could escape a folder
or confuse a terminal is refused rather than normalised.
"""

from __future__ import annotations

from hub.services.errors import BadRequest

MAX_PATH_LENGTH = 1000


def validate_path(path: object) -> str:
    """Return ``path`` if it is a safe relative POSIX path; raise BadRequest saying why not."""
    if not isinstance(path, str) or not path:
        raise BadRequest("a file path is required")
    if len(path) > MAX_PATH_LENGTH:
        raise BadRequest(f"path is longer than {MAX_PATH_LENGTH} characters")
    if any(ord(ch) < 32 or ord(ch) == 127 for ch in path):
        raise BadRequest(f"path {path!r} contains NUL or control characters")
    if "\\" in path:
        raise BadRequest(f"path {path!r} contains a backslash; use '/'")
    if path.startswith("/"):
        raise BadRequest(f"path {path!r} is absolute; paths are relative to the repository root")
    parts = path.split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise BadRequest(f"path {path!r} has an empty, '.' or '..' segment")
    if parts[0] == ".git":
        raise BadRequest("paths under .git/ are reserved")
    return path


def validate_folder(path: object) -> str:
    """A folder prefix for deletedFolder: like a path, with an optional trailing '/'."""
    if isinstance(path, str) and path.endswith("/"):
        path = path[:-1]
    return validate_path(path)
