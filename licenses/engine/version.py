"""What made an answer: a fingerprint of the engine's code and its knowledge base.

A stored analysis is the engine's judgement at the time it ran. A release that changes a rule, the
classifier or a file under ``licenses/data/`` (a licence's class, a base model's licence history)
can judge the same repository differently, and the server must be able to tell which stored
answers predate it. The package version alone cannot: it does not move when the knowledge base
does. So the fingerprint is a digest of the bytes that decide an answer — every Python file of
``licenses/engine/`` and every file of ``licenses/data/`` — computed once per process.

A change that does not alter any answer (a comment, a refactor) also changes the fingerprint; the
cost is one needless re-analysis per repository, which is bounded and resumable
(``manage.py reanalyse``, docs/operations.md), and the benefit is that no behaviour change can be
released without its stored answers being marked as made by an older engine.

The same release must give the same fingerprint on every machine, or the processes of one hub
would each find the others' answers stale and re-judge them for ever. So only what an install
carries counts (the suffixes ``pyproject.toml``'s package-data ships, no hidden files): an editor's
backup, a ``.orig`` left by a merge or a ``.DS_Store`` in a checkout is not in the wheel and does
not change the answer; and line endings are normalised, so a checkout made with CRLF endings
(``core.autocrlf``) digests as the repository's LF bytes.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

ENGINE_DIR = Path(__file__).resolve().parent
DATA_DIR = ENGINE_DIR.parent / "data"

#: Hex digits of the digest kept in the stamp (48 bits: no two releases collide in practice).
FINGERPRINT_LENGTH = 12


#: What counts in each directory: the engine's Python sources, and the knowledge base's files of the
#: suffixes the wheel ships (``[tool.setuptools.package-data]``); anything else is not installed.
ENGINE_SUFFIXES = frozenset({".py"})
DATA_SUFFIXES = frozenset({".yaml", ".yml", ".json", ".txt", ".md"})


def _files(root: Path, suffixes: frozenset[str]) -> list[Path]:
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file()
        and p.suffix in suffixes
        and "__pycache__" not in p.parts
        and not any(part.startswith(".") for part in p.relative_to(root).parts)
    )


def fingerprint_of(engine_dir: Path = ENGINE_DIR, data_dir: Path = DATA_DIR) -> str:
    """Digest of the engine's sources and the knowledge base's files (paths and bytes, LF endings)."""
    digest = hashlib.sha256()
    for root, suffixes in ((engine_dir, ENGINE_SUFFIXES), (data_dir, DATA_SUFFIXES)):
        for path in _files(root, suffixes):
            digest.update(f"{root.name}/{path.relative_to(root).as_posix()}\0".encode())
            digest.update(hashlib.sha256(path.read_bytes().replace(b"\r\n", b"\n")).digest())
    return digest.hexdigest()[:FINGERPRINT_LENGTH]


@lru_cache(maxsize=1)
def engine_fingerprint() -> str:
    """This process's fingerprint (the files do not change under a running process)."""
    return fingerprint_of()
