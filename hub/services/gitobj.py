"""Git object ids for revisions, so commit and tree ids look and behave like the Hub's.

The hub does not keep a git object database, but computing the ids git would give the
same content keeps ``sha``/``oid`` values meaningful (a tree id changes exactly when its
content does) and lets a client or a mirror compare them with git's own.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime


def _sha1(data: bytes) -> str:
    return hashlib.sha1(data, usedforsecurity=False).hexdigest()


def git_object_id(kind: str, body: bytes) -> str:
    return _sha1(f"{kind} {len(body)}\0".encode() + body)


def tree_ids(files: Mapping[str, str]) -> dict[str, str]:
    """Tree id of every directory ("" is the root) of ``files`` (path → blob oid)."""
    children: dict[str, dict[str, tuple[str, str]]] = {"": {}}
    for path in files:
        parts = path.split("/")
        for depth in range(1, len(parts)):
            parent, name = "/".join(parts[: depth - 1]), parts[depth - 1]
            children.setdefault("/".join(parts[:depth]), {})
            children.setdefault(parent, {})[name] = ("40000", "/".join(parts[:depth]))
        parent = "/".join(parts[:-1])
        children.setdefault(parent, {})[parts[-1]] = ("100644", path)
    ids: dict[str, str] = {}
    for folder in sorted(children, key=lambda p: p.count("/") + bool(p), reverse=True):
        entries = children[folder]
        body = b""
        # git orders tree entries by name, with directories compared as "name/".
        for name in sorted(entries, key=lambda n: n + "/" if entries[n][0] == "40000" else n):
            mode, full = entries[name]
            oid = ids[full] if mode == "40000" else files[full]
            body += f"{mode} {name}\0".encode() + bytes.fromhex(oid)
        ids[folder] = git_object_id("tree", body)
    return ids


def commit_id(
    tree: str, parents: Iterable[str], author: str, email: str, when: datetime, message: str
) -> str:
    """The id git gives a commit of ``tree`` with these parents, author and message."""
    stamp = f"{int(when.timestamp())} +0000"
    lines = [f"tree {tree}", *(f"parent {p}" for p in parents)]
    lines += [f"author {author} <{email}> {stamp}", f"committer {author} <{email}> {stamp}"]
    return git_object_id("commit", ("\n".join(lines) + "\n\n" + message.rstrip("\n") + "\n").encode())
