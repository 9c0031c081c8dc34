"""Repository snapshots from a folder on disk, and discovery of repositories under paths.

The CLI analyses folders; the server builds ``RepoSnapshot`` from its database. Both
must give the engine the same view: every file with its size, and the decoded text of
the few small files the engine reads. Reads are capped so a hostile repository (a 5 GB
"LICENSE", a symlink to ``/etc/shadow``) costs bounded time and leaks nothing outside
the repository.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

from licenses.engine.frontmatter import decode_text
from licenses.engine.types import RepoSnapshot

README = "README.md"
MAX_TEXT_BYTES = 1024 * 1024
#: How a file the snapshot could not read is noted in its problems (``"<path>: unreadable: <why>"``).
UNREADABLE = "unreadable"
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
        "model_index.json",  # a diffusers pipeline's config: its ``_class_name`` names the architecture
    }
)
#: A sharded checkpoint's index (``model.safetensors.index.json``): its ``metadata.total_size``
#: sizes the weights when they are not held here (a README-only mirror) or not read.
SHARD_INDEX_SUFFIX = ".safetensors.index.json"
#: The recipe mergekit writes beside merged weights (``mergekit-yaml`` copies its input config
#: there): lineage reads the models it names when the card names none. Real ones are a few KB.
MERGEKIT_CONFIG = "mergekit_config.yml"
#: The recipe ``mergekit-moe`` writes beside a mixture of experts (``base_model`` + ``experts``).
MERGEKIT_MOE_CONFIG = "mergekit_moe_config.yml"
#: Both recipes, in the order lineage reads them; each is read up to ``MERGEKIT_CONFIG_BYTES``.
MERGEKIT_CONFIGS = (MERGEKIT_CONFIG, MERGEKIT_MOE_CONFIG)
MERGEKIT_CONFIG_BYTES = 64 * 1024

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
    return name != README and _suffix(name).lower() in _TEXTUAL_SUFFIXES and bool(_LICENSE_WORD.search(name))


def _suffix(name: str) -> str:
    """``Path(name).suffix`` of a name without ``/``, without building a path (the CLI asks
    for every file of every repository): the part from the last dot, unless that dot starts
    or ends the name."""
    dot = name.rfind(".")
    return name[dot:] if 0 < dot < len(name) - 1 else ""


def text_cap(name: str) -> int:
    """Read cap in bytes for a top-level file, or 0 when it is not read (folders and the
    hub's blob store alike)."""
    if name == README:
        return MAX_README_BYTES
    if name in CONFIG_FILES or is_terms_file(name) or (name.endswith(SHARD_INDEX_SUFFIX) and "/" not in name):
        return MAX_TEXT_BYTES
    if name in MERGEKIT_CONFIGS:
        return MERGEKIT_CONFIG_BYTES
    return 0


def text_read_rules() -> str:
    """A short digest of which top-level names ``text_cap`` reads (not how much of each).

    Whoever copies "the files the engine reads" (the mirror's ``small`` mode) keys its copies
    by it, so a change to the names read here is noticed there without a second list to keep
    in step. It digests the name rules below; a change to the *logic* of ``is_terms_file`` or
    ``text_cap`` that reads other names must change one of them too (or ``_READ_RULES``).
    """
    rules = (
        _READ_RULES,
        README,
        sorted(CONFIG_FILES),
        MERGEKIT_CONFIGS,
        SHARD_INDEX_SUFFIX,
        _LICENSE_PREFIXES,
        _POLICY_PREFIXES,
        sorted(_TEXTUAL_SUFFIXES),
        _LICENSE_WORD.pattern,
    )
    return hashlib.sha256(repr(rules).encode()).hexdigest()[:12]


#: Bumped when ``text_cap`` reads other names by a change of logic rather than of the names above.
_READ_RULES = 1


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
    return _snapshot(os.path.abspath(path), repo_id, None)


def discover_snapshots(paths: list[Path]) -> list[RepoSnapshot]:
    """``snapshot_from_dir`` of every repository ``discover_repos(paths)`` names, in its order.

    Discovery has already listed each repository folder it found by walking: the snapshot
    starts from that listing instead of reading the folder a second time.
    """
    return [_snapshot(folder, repo_id, listing) for repo_id, folder, listing in _discover(paths)]


def _snapshot(root: str, repo_id: str, listing: list[os.DirEntry] | None) -> RepoSnapshot:
    """``snapshot_from_dir`` of the absolute folder ``root``; ``listing``: its entries, when known."""
    real_root = _RealRoot(root)
    files: dict[str, int] = {}
    texts: dict[str, str] = {}
    problems: dict[str, list[str]] = {}
    for rel, full, size in _walk(root, real_root, listing):
        files[rel] = size
        cap = text_cap(rel)
        if not cap:
            continue
        try:
            # read(n) allocates n bytes up front, so ask for the size, not the cap
            data = _read_head(full, min(size, cap) + 1, size)
        except OSError as exc:
            problems.setdefault(rel, []).append(f"{UNREADABLE}: {exc.strerror or exc}")
            continue
        texts[rel], notes = decode_capped(data, cap, size)
        if notes:
            problems[rel] = notes

    def open_file(name: str) -> BinaryIO:
        if name not in files:
            raise FileNotFoundError(name)
        target = (Path(root) / name).resolve()
        if not target.is_relative_to(real_root()):
            raise PermissionError(f"{name} points outside the repository")
        return open(target, "rb")

    extra: dict = {"path": root}
    if problems:
        extra["text_problems"] = problems
    return RepoSnapshot(id=repo_id, files=files, texts=texts, open_file=open_file, extra=extra)


def _read_head(path: str, limit: int, size: int) -> bytes:
    """The first ``limit`` bytes of the file ``path`` (fewer at its end) of ``size`` bytes by its stat.

    ``open(path, "rb").read(limit)`` costs seven system calls (a buffered reader asks
    for the block size, whether it is a terminal and its position, then reads until a
    read returns nothing); an unbuffered descriptor needs three. A regular file gives
    all it has in one read; only a read shorter than ``size`` (the file shrank, or a
    short read) goes on until the end or ``limit``.
    """
    fd = os.open(path, _READ_FLAGS)
    try:
        data = os.read(fd, limit)
        if len(data) < min(size, limit):
            chunks = [data]
            got = len(data)
            while got < limit:
                chunk = os.read(fd, limit - got)
                if not chunk:
                    break
                chunks.append(chunk)
                got += len(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


_READ_FLAGS = os.O_RDONLY | getattr(os, "O_BINARY", 0)  # (Python makes descriptors close-on-exec)


class _RealRoot:
    """The repository's resolved path, computed on first use: resolving costs a system call
    per path component, and only symlinks and ``open_file`` need it."""

    def __init__(self, root: str):
        self._root = root
        self._real: Path | None = None

    def __call__(self) -> Path:
        if self._real is None:
            self._real = Path(self._root).resolve()
        return self._real


def _walk(root: str, real_root: _RealRoot, listing: list[os.DirEntry] | None = None):
    """Yield ``(relative posix path, absolute path, size)`` of regular files inside ``root``.

    ``os.scandir`` keeps this to one system call per directory plus one per symlink
    (``listing``, when given, is ``root``'s own scan). Symlinked directories are not
    entered; symlinked files count only when they resolve to a regular file inside ``root``.
    """
    stack = [(root, "")]
    while stack:
        directory, prefix = stack.pop()
        if listing is not None:
            entries, listing = sorted(listing, key=_name), None
        else:
            try:
                with os.scandir(directory) as it:
                    entries = sorted(it, key=_name)
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


def _name(entry: os.DirEntry) -> str:
    return entry.name


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
    return [(repo_id, Path(folder)) for repo_id, folder, _ in _discover(paths)]


def _discover(paths: list[Path]) -> list[tuple[str, str, list[os.DirEntry] | None]]:
    """``discover_repos`` with folders as strings, each with its entries as the walk listed
    them (None for a folder named by its README). Strings, because a ``Path`` costs more to
    build and hash than the rest of a folder's discovery; they are the normalised absolute
    paths the ``Path`` objects would print as, so they compare and sort alike."""
    found: dict[str, str] = {}
    listings: dict[str, list[os.DirEntry]] = {}
    for given in paths:
        if not given.exists():
            raise FileNotFoundError(f"no such file or directory: {given}")
        if given.is_file():
            if given.name != README:
                raise ValueError(f"not a README.md or a folder: {given}")
            # the folder the README is in, not the one a symlinked README points into
            folder = str(given.absolute().parent.resolve())
            found.setdefault(folder, _repo_id(folder, None))
            continue
        root = str(given.resolve())
        for folder, entries in _repo_folders(root):
            found.setdefault(folder, _repo_id(folder, root))
            listings.setdefault(folder, entries)
    return sorted(((rid, folder, listings.get(folder)) for folder, rid in found.items()), key=_id_and_folder)


def _id_and_folder(row: tuple[str, str, object]) -> tuple[str, str]:
    return row[0], row[1]


def _repo_folders(top: str) -> Iterator[tuple[str, list[os.DirEntry]]]:
    """Folders holding a README.md at or below ``top``, with their entries; not below them.

    What ``os.walk(top, followlinks=False)`` pruned to sorted non-hidden subfolders would
    find, in its order, keeping the entries it lists and drops: a folder below ``top`` that
    cannot be listed (or fails midway) is skipped, ``top`` itself raises PermissionError; an entry is a folder when ``is_dir()`` says so
    through symlinks (errors: not a folder), and a symlinked folder is not entered. A stack,
    not recursion, so no depth of folders can exhaust Python's.
    """
    stack = [top]
    while stack:
        folder = stack.pop()
        entries = _listing(folder)
        if entries is None:
            if folder == top:  # the input itself: below it a folder that cannot be listed is skipped
                raise PermissionError(f"cannot list {top}")
            continue
        dirs = [entry for entry in entries if _is_dir(entry)]
        if any(entry.name == README for entry in entries) and README not in {d.name for d in dirs}:
            yield folder, entries
            continue
        below = sorted((d for d in dirs if not d.name.startswith(".")), key=_name, reverse=True)
        stack.extend(os.path.join(folder, d.name) for d in below if not _is_symlink(d))


def _listing(folder: str) -> list[os.DirEntry] | None:
    """Every entry of ``folder``, or None when it cannot be listed to the end."""
    try:
        scan = os.scandir(folder)
    except OSError:
        return None
    entries: list[os.DirEntry] = []
    with scan:
        while True:
            try:
                entry = next(scan)
            except StopIteration:
                return entries
            except OSError:
                return None
            entries.append(entry)


def _is_dir(entry: os.DirEntry) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False


def _is_symlink(entry: os.DirEntry) -> bool:
    try:
        return entry.is_symlink()
    except OSError:
        return False


def _id_part(part: str) -> bool:
    """A usable half of an ``owner/name`` id: not empty, not a path step (``.``, ``..``).

    Ids go into URLs (registry look-ups) and report names; ``owner__..`` must not become
    ``owner/..``.
    """
    return bool(part.strip()) and part.strip(".") != ""


def _repo_id(folder: str, root: str | None) -> str:
    """The id of ``folder`` (found walking ``root``, or named by its README when None);
    both are normalised absolute paths, ``folder`` at or below ``root``."""
    name = os.path.basename(folder)
    owner, sep, rest = name.partition("__")
    if sep and _id_part(owner) and _id_part(rest):
        return f"{owner}/{rest}"
    if root is not None and folder != root:
        rel = folder[len(root) :].lstrip("/").split("/")  # Path.relative_to(root).parts
        if len(rel) >= 2 and _id_part(rel[-2]) and _id_part(rel[-1]):
            return f"{rel[-2]}/{rel[-1]}"
    return name
