"""Which files of an upstream repository a specification copies.

``none`` copies the card (README.md) only: that is what the licence/transparency
analysis reads first. ``small`` adds every other file the analysis reads — the engine's
own ``text_cap`` decides which (licence, notice and use-policy files, the configs and
recipes lineage reads), plus the file a relative ``license_link`` names — so a mirrored
repository is judged as ``modelhub analyze`` judges the same folder, within a small size
cap. ``all`` adds every other file (weights included) that matches the specification's
patterns (all files when it has none) and fits under its size limit. Files not copied
are still listed in the mirror state with their size and oid, so the catalogue can say
what exists upstream.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from licenses.engine.classify import license_link_file
from licenses.engine.snapshot import README, text_cap, text_read_rules


@dataclass(frozen=True)
class UpstreamFile:
    """One file as the upstream lists it (``blobs=true`` gives size, oid and the LFS sha256)."""

    path: str
    size: int | None
    blob_id: str | None
    lfs_sha256: str | None

    @property
    def lfs(self) -> bool:
        return self.lfs_sha256 is not None

    def as_json(self) -> dict:
        return {"path": self.path, "size": self.size, "oid": self.blob_id, "sha256": self.lfs_sha256}


@dataclass(frozen=True)
class CopyOptions:
    files: str = "small"  # none | small | all
    patterns: tuple[str, ...] = ()
    max_file_size: int | None = None
    small_max: int = 5 * 1024 * 1024

    def key(self) -> str:
        """Stored with each mirrored repo: a change of options re-syncs it.

        Beyond the card, what is copied follows the engine's read rules, so they are part of
        the key: when the engine starts reading another file, repositories mirrored before
        are fetched again (the same revision, completed) instead of staying judged without it.
        """
        key = f"{self.files}|{','.join(self.patterns)}|{self.max_file_size or ''}"
        return key if self.files == "none" else f"{key}|reads:{text_read_rules()}"


def is_small_wanted(path: str) -> bool:
    """A file the licence engine reads beyond the card: the engine's predicate, not a list of
    our own (a second list drifted: ``MODEL_LICENSE.txt``, ``ACCEPTABLE_USE_POLICY.md`` and
    ``weights-license.md`` were read from a folder and never mirrored)."""
    return path != README and text_cap(path) > 0


def choose(
    files: list[UpstreamFile], options: CopyOptions, card: Mapping[str, Any] | None = None
) -> list[UpstreamFile]:
    """The files to copy, README first; a file of unknown size counts as small only if named so.

    ``card`` is the upstream's card metadata: the file its relative ``license_link`` names is
    read by the classifier wherever it lives (``meta-license/LICENSE.txt``), so it is copied too.
    """
    linked = license_link_file(card, [f.path for f in files]) if card and options.files != "none" else None
    chosen: list[UpstreamFile] = []
    for f in files:
        if f.path == README:
            chosen.append(f)
            continue
        if options.files == "none":
            continue
        small_enough = f.size is None or f.size <= options.small_max
        # an LFS-stored licence counts too: the engine reads it from the blob store alike,
        # and the size cap keeps weights out (their names are never read as text anyway)
        wanted = is_small_wanted(f.path) or f.path == linked
        if wanted and small_enough and not (f.lfs and f.size is None):
            chosen.append(f)
            continue
        if options.files != "all":
            continue
        if options.patterns and not any(fnmatch.fnmatch(f.path, p) for p in options.patterns):
            continue
        if options.max_file_size is not None and (f.size is None or f.size > options.max_file_size):
            continue
        chosen.append(f)
    chosen.sort(key=lambda f: (f.path != README, f.path))
    return chosen
