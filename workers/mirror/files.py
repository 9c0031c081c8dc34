"""Which files of an upstream repository a specification copies.

``none`` copies the card (README.md) only: that is what the licence/transparency
analysis reads first. ``small`` adds what the analysis reads beyond the card — licence,
notice and use-policy files, configs — within a small size cap. ``all`` adds every
other file (weights included) that matches the specification's patterns (all files
when it has none) and fits under its size limit. Files not copied are still listed in
the mirror state with their size and oid, so the catalogue can say what exists upstream.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from licenses.engine.snapshot import MERGEKIT_CONFIG

README = "README.md"
#: Name stems the licence engine reads (LICENSE, LICENSE.txt, NOTICE, USE_POLICY.md …).
LICENSE_STEMS = ("license", "licence", "notice", "use_policy", "use-policy", "copying", "responsible_ai")
#: Config-like files: small, and the lineage/openness analysis uses them.
CONFIG_NAMES = (
    "config.json", "tokenizer_config.json", "generation_config.json", "adapter_config.json",
    "model_index.json", "preprocessor_config.json", "special_tokens_map.json", "quantize_config.json",
    "params.json", ".gitattributes", MERGEKIT_CONFIG,
)  # fmt: skip


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
        """Stored with each mirrored repo: a change of options re-syncs it."""
        return f"{self.files}|{','.join(self.patterns)}|{self.max_file_size or ''}"


def is_small_wanted(path: str) -> bool:
    name = path.rsplit("/", 1)[-1].lower()
    if "/" in path:  # licences and configs of the repository itself live at its root
        return False
    return name in CONFIG_NAMES or name.startswith(LICENSE_STEMS)


def choose(files: list[UpstreamFile], options: CopyOptions) -> list[UpstreamFile]:
    """The files to copy, README first; a file of unknown size counts as small only if named so."""
    chosen: list[UpstreamFile] = []
    for f in files:
        if f.path == README:
            chosen.append(f)
            continue
        if options.files == "none":
            continue
        small_enough = f.size is None or f.size <= options.small_max
        if is_small_wanted(f.path) and small_enough and not f.lfs:
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
