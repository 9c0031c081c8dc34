"""Validation of file paths inside a repository.

Paths come from uploaders and end up in URLs, in clients' cache folders and in
``local_dir`` downloads on other people's disks, so anything that could escape a folder
or confuse a terminal is refused rather than normalised.
"""

from __future__ import annotations

import re

from hub.services.errors import BadRequest

MAX_PATH_LENGTH = 1000
#: Bytes in one path segment: NAME_MAX of ext4, XFS, APFS and NTFS (in UTF-16 units there, fewer
#: than bytes). A longer name is a file nobody can download into a folder (``ENAMETOOLONG``).
MAX_SEGMENT_BYTES = 255

#: Control characters (C0, DEL, C1) and invisible format characters: bidirectional overrides
#: and isolates, which make a listed name read differently from what it is ("Trojan Source"),
#: and zero-width characters, which HFS+ ignores in names, so that ``.g\u200cit`` *is* ``.git``
#: there (git's CVE-2014-9390).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]")
#: What paths stored before those rules may hold at most: C0 controls and DEL were always refused.
_CONTROL = re.compile("[\x00-\x1f\x7f]")


def validate_path(path: object, *, removing: bool = False) -> str:
    """Return ``path`` if it is a safe relative POSIX path; raise BadRequest saying why not.

    Names are not Unicode-normalised or refused for their normal form: the Hub accepts NFD
    names (macOS writes them) and mirrors must take upstream's paths as they are.

    ``removing``: the path names a file or folder to delete. Only the rules every stored path
    ever met apply, so a file stored before the invisible-character, ``.git`` and segment-length
    rules can still be deleted; deleting writes no name to anyone's disk.
    """
    if not isinstance(path, str) or not path:
        raise BadRequest("a file path is required")
    if len(path) > MAX_PATH_LENGTH:
        raise BadRequest(f"path is longer than {MAX_PATH_LENGTH} characters")
    if (_CONTROL if removing else _INVISIBLE).search(path):
        raise BadRequest(f"path {path!r} contains NUL, control or invisible formatting characters")
    if "\\" in path:
        raise BadRequest(f"path {path!r} contains a backslash; use '/'")
    if path.startswith("/"):
        raise BadRequest(f"path {path!r} is absolute; paths are relative to the repository root")
    parts = path.split("/")
    if any(part in {"", ".", ".."} for part in parts):
        raise BadRequest(f"path {path!r} has an empty, '.' or '..' segment")
    if removing:  # the rule stored paths always met: nothing under a top-level .git/
        if parts[0] == ".git":
            raise BadRequest("paths under .git/ are reserved")
        return path
    # any segment, any case: on case-insensitive disks ``sub/.GIT/config`` downloaded into a git
    # checkout is that checkout's own configuration (git itself refuses such paths)
    if any(part.lower() == ".git" for part in parts):
        raise BadRequest(f"path {path!r} has a .git segment; .git folders are reserved")
    if any(len(part.encode("utf-8")) > MAX_SEGMENT_BYTES for part in parts):
        raise BadRequest(f"a segment of path {path[:80]!r}… is longer than {MAX_SEGMENT_BYTES} bytes")
    return path


def validate_folder(path: object) -> str:
    """A folder prefix for deletedFolder: a path to remove, with an optional trailing '/'."""
    if isinstance(path, str) and path.endswith("/"):
        path = path[:-1]
    return validate_path(path, removing=True)
