"""Parsing the NDJSON commit payload into commit operations, streaming.

The body is read one line at a time with a hard cap per line, and each inline file is
decoded and written to the blob store as soon as its line is read, so memory holds at
most one line whatever the number of files. ``lfsFile`` lines only name content that
the LFS endpoints already stored; the commit service checks it exists.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from typing import BinaryIO

from django.conf import settings

from hub.services.blobs import store_small
from hub.services.commits import AddFile, CommitRequest, DeleteFile, DeleteFolder
from hub.services.errors import BadRequest, TooLarge
from hub.services.paths import validate_folder, validate_path

SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
MAX_OPERATIONS = 50_000


def max_line_bytes() -> int:
    # base64 inflates by 4/3; the JSON wrapper and a long path add a little.
    return settings.MAX_INLINE_FILE_SIZE * 4 // 3 + 16 * 1024


def read_lines(stream: BinaryIO, limit: int):
    while True:
        line = stream.readline(limit + 1)
        if not line:
            return
        if len(line) > limit and not line.endswith(b"\n"):
            raise TooLarge(
                f"a commit line is longer than {limit} bytes: inline files are limited to "
                f"{settings.MAX_INLINE_FILE_SIZE} bytes, larger files must go through LFS"
            )
        if line.strip():
            yield line


#: Attribute of the request under which the inline blobs it added are listed: ``hub_view``
#: discards them when the request ends in an error (a refused commit leaves no partial state).
NEW_BLOBS_ATTR = "modelhub_new_blobs"


def note_new_blob(stream: object, sha256: str) -> None:
    pending = getattr(stream, NEW_BLOBS_ATTR, None)
    if pending is None:
        pending = []
        try:
            setattr(stream, NEW_BLOBS_ATTR, pending)
        except AttributeError:  # a plain stream (tests, scripts): nobody to clean up after
            return
    pending.append(sha256)


def parse_commit_stream(stream: BinaryIO) -> CommitRequest:
    request: CommitRequest | None = None
    ops: list = []
    for line in read_lines(stream, max_line_bytes()):
        try:
            item = json.loads(line)
        except ValueError as exc:
            raise BadRequest(f"invalid NDJSON line: {exc}") from exc
        if not isinstance(item, dict) or not isinstance(item.get("value"), dict):
            raise BadRequest('each line must be {"key": ..., "value": {...}}')
        key, value = item.get("key"), item["value"]
        if key == "header":
            request = CommitRequest(
                title=str(value.get("summary") or "").strip()[:500] or "Upload",
                description=str(value.get("description") or ""),
                parent_commit=value.get("parentCommit") or None,
            )
            if request.parent_commit is not None and not isinstance(request.parent_commit, str):
                raise BadRequest("parentCommit must be a commit id (a hex string)")
            continue
        if len(ops) >= MAX_OPERATIONS:
            raise TooLarge(f"at most {MAX_OPERATIONS} operations per commit")
        if key == "file":
            path = validate_path(value.get("path"))
            if value.get("encoding", "base64") != "base64":
                raise BadRequest(f"{path}: only base64 encoding is supported")
            try:
                content = base64.b64decode(value.get("content") or "", validate=True)
            except (binascii.Error, ValueError, TypeError) as exc:
                raise BadRequest(f"{path}: content is not valid base64") from exc
            stored = store_small(content, settings.MAX_INLINE_FILE_SIZE)
            if stored.created:
                note_new_blob(stream, stored.sha256)
            ops.append(AddFile(path, stored.sha256, stored.size, lfs=False, git_oid=stored.git_oid))
        elif key == "lfsFile":
            path = validate_path(value.get("path"))
            oid = str(value.get("oid") or "").lower()
            if value.get("algo", "sha256") != "sha256" or not SHA256_RE.match(oid):
                raise BadRequest(f"{path}: lfsFile needs a sha256 oid")
            size = value.get("size")
            if size is not None and (not isinstance(size, int) or size < 0):
                raise BadRequest(f"{path}: invalid size")
            ops.append(AddFile(path, oid, size, lfs=True))
        elif key == "deletedFile":
            ops.append(DeleteFile(validate_path(value.get("path"), removing=True)))
        elif key == "deletedFolder":
            ops.append(DeleteFolder(validate_folder(value.get("path"))))
        else:
            raise BadRequest(f"unsupported commit operation {key!r}")
    if request is None:
        raise BadRequest("the commit has no header line")
    request.operations = ops
    return request
