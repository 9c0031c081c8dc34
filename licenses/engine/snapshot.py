"""Repository snapshots from a folder on disk, and discovery of repositories under paths.

The CLI analyses folders; the server builds ``RepoSnapshot`` from its database. Both
must give the engine the same view: every file with its size, and the decoded text of
the few small files the engine reads. Reads are capped so a hostile repository (a 5 GB
"LICENSE", a symlink to ``/etc/shadow``) costs bounded time and leaks nothing outside
the repository.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import BinaryIO

from licenses.engine.frontmatter import decode_text
from licenses.engine.types import RepoSnapshot

README = "README.md"
MAX_TEXT_BYTES = 1024 * 1024
MAX_README_BYTES = 20 * 1024 * 1024

#: Top-level configuration files read as text (exact names).
CONFIG_FILES = frozenset(
    {
        "config.json",
        "tokenizer_config.json",
        "adapter_config.json",
        "quantize_config.json",
        "generation_config.json",
        "manifest.yaml",
    }
)

_LICENSE_PREFIXES = ("LICENSE", "LICENCE", "COPYING", "MODEL_LICENSE", "MODEL_LICENCE")
_POLICY_PREFIXES = ("NOTICE", "USE_POLICY", "USE-POLICY", "ACCEPTABLE_USE", "ACCEPTABLE-USE")
_TEXTUAL_SUFFIXES = frozenset({"", ".md", ".txt", ".rst", ".markdown"})
_LICENSE_WORD = re.compile(r"licen[cs]e|use[_ -]?policy|notice", re.IGNORECASE)


def is_license_file(name: str) -> bool:
    """A top-level file whose name says it carries licence terms (not NOTICE/AUP files).

    ``LICENSE``, ``LICENCE.txt``, ``COPYING``, ``MODEL_LICENSE_AGREEMENT.txt``,
    ``LICENSE-MODEL`` ... These decide the ``missing-license`` rule: a repository with one
    of them has a licence file even when its text is not recognised.
    """
    return "/" not in name and name.upper().startswith(_LICENSE_PREFIXES)


def is_terms_file(name: str) -> bool:
    """Any top-level file the licence classifier reads: licence, NOTICE, use policy, or
    a text/markdown file whose name mentions a licence (``Llama2-license.md``)."""
    if "/" in name:
        return False
    upper = name.upper()
    if upper.startswith(_LICENSE_PREFIXES + _POLICY_PREFIXES):
        return True
    return (
        name != README and Path(name).suffix.lower() in _TEXTUAL_SUFFIXES and bool(_LICENSE_WORD.search(name))
    )


def _wanted(name: str) -> int:
    """Read cap in bytes for a top-level file, or 0 when it is not read."""
    if name == README:
        return MAX_README_BYTES
    if name in CONFIG_FILES or is_terms_file(name):
        return MAX_TEXT_BYTES
    return 0


def decode_capped(data: bytes, cap: int, size: int) -> tuple[str, list[str]]:
    """The text of at most ``cap`` bytes of a ``size``-byte file, with notes on what was lost.

    Shared by every snapshot builder (folders here, the hub's blob store) so a file reads
    the same wherever the repository lives.
    """
    notes: list[str] = []
    if len(data) > cap:
        data = data[:cap]
        notes.append(f"only the first {cap:,} bytes of {size:,} were read")
    text, decode_notes = decode_text(data)
    notes.extend(decode_notes)
    return text.removeprefix("\ufeff"), notes


def snapshot_from_dir(path: Path, repo_id: str) -> RepoSnapshot:
    """Snapshot the repository folder ``path`` (skipping ``.git``; never leaving ``path``).

    Symlinks are followed only when they resolve inside the repository. Text files are
    decoded as UTF-8 with replacement; decoding problems and truncations are recorded in
    ``extra["text_problems"]`` (path -> list of messages).
    """
    root = Path(os.path.abspath(path))
    real_root = _RealRoot(root)
    files: dict[str, int] = {}
    texts: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for rel, full, size in _walk(root, real_root):
        files[rel] = size
        cap = _wanted(rel)
        if not cap:
            continue
        try:
            with open(full, "rb") as handle:
                # read(n) allocates n bytes up front, so ask for the size, not the cap
                data = handle.read(min(size, cap) + 1)
        except OSError as exc:
            problems.setdefault(rel, []).append(f"unreadable: {exc.strerror or exc}")
            continue
        texts[rel], notes = decode_capped(data, cap, size)
        if notes:
            problems[rel] = notes

    def open_file(name: str) -> BinaryIO:
        if name not in files:
            raise FileNotFoundError(name)
        target = (root / name).resolve()
        if not target.is_relative_to(real_root()):
            raise PermissionError(f"{name} points outside the repository")
        return open(target, "rb")

    extra: dict = {"path": str(root)}
    if problems:
        extra["text_problems"] = problems
    return RepoSnapshot(id=repo_id, files=files, texts=texts, open_file=open_file, extra=extra)


class _RealRoot:
    """The repository's resolved path, computed on first use: resolving costs a system call
    per path component, and only symlinks and ``open_file`` need it."""

    def __init__(self, root: Path):
        self._root = root
        self._real: Path | None = None

    def __call__(self) -> Path:
        if self._real is None:
            self._real = self._root.resolve()
        return self._real


def _walk(root: Path, real_root: _RealRoot):
    """Yield ``(relative posix path, absolute path, size)`` of regular files inside ``root``.

    ``os.scandir`` keeps this to one system call per directory plus one per symlink.
    Symlinked directories are not entered; symlinked files count only when they resolve
    to a regular file inside ``root``.
    """
    stack = [(str(root), "")]
    while stack:
        directory, prefix = stack.pop()
        try:
            with os.scandir(directory) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError:
            continue
        for entry in reversed(entries):
            rel = prefix + entry.name
            if entry.is_symlink():
                try:
                    target = Path(entry.path).resolve(strict=True)
                except (OSError, RuntimeError):
                    continue
                if target.is_relative_to(real_root()) and target.is_file():
                    yield rel, str(target), target.stat().st_size
            elif entry.is_dir(follow_symlinks=False):
                if entry.name != ".git":
                    stack.append((entry.path, rel + "/"))
            elif entry.is_file(follow_symlinks=False):
                try:
                    yield rel, entry.path, entry.stat(follow_symlinks=False).st_size
                except OSError:
                    continue


def discover_repos(paths: list[Path]) -> list[tuple[str, Path]]:
    """Repositories named by the CLI's PATH arguments, as ``(id, folder)`` pairs.

    A PATH is a README.md (its folder is the repository), a repository folder (it holds a
    README.md), or any folder above: every folder below it holding a README.md is a
    repository, and the search does not descend into a repository. Ids follow the
    contract: ``owner/name`` for a folder named ``owner__name`` or for a folder
    ``owner/name/`` below the given folder (any depth: ``root/mirror/owner/name`` is
    ``owner/name``); otherwise the folder name. Raises
    ``FileNotFoundError`` for a PATH that does not exist and ``ValueError`` for a file
    that is not a README.md. Duplicate folders are reported once.
    """
    found: dict[Path, str] = {}
    for given in paths:
        if not given.exists():
            raise FileNotFoundError(f"no such file or directory: {given}")
        if given.is_file():
            if given.name != README:
                raise ValueError(f"not a README.md or a folder: {given}")
            folder = given.resolve().parent
            found.setdefault(folder, _repo_id(folder, None))
            continue
        root = given.resolve()
        for folder in _repo_folders(root):
            found.setdefault(folder, _repo_id(folder, root))
    return sorted(((rid, folder) for folder, rid in found.items()), key=lambda pair: (pair[0], str(pair[1])))


def _repo_folders(root: Path):
    for dirpath, dirnames, filenames in os.walk(root, followlinks=False):
        if README in filenames:
            dirnames[:] = []
            yield Path(dirpath)
            continue
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))


def _id_part(part: str) -> bool:
    """A usable half of an ``owner/name`` id: not empty, not a path step (``.``, ``..``).

    Ids go into URLs (registry look-ups) and report names; ``owner__..`` must not become
    ``owner/..``.
    """
    return bool(part.strip()) and part.strip(".") != ""


def _repo_id(folder: Path, root: Path | None) -> str:
    name = folder.name
    owner, sep, rest = name.partition("__")
    if sep and _id_part(owner) and _id_part(rest):
        return f"{owner}/{rest}"
    if root is not None and folder != root:
        rel = folder.relative_to(root).parts
        if len(rel) >= 2 and _id_part(rel[-2]) and _id_part(rel[-1]):
            return f"{rel[-2]}/{rel[-1]}"
    return name
