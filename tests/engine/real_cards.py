"""The real READMEs of ``../shared/corpus`` that the engine's oracle tests check fast paths on.

One reader for every such test: the ``model-cards`` folders (long, hand-picked cards), then the
first cards of the bulk ``hf-cards-2023`` sample (typical, short ones).
"""

from __future__ import annotations

import gzip
import itertools
import json
from pathlib import Path

import pytest


def real_readmes(corpus: Path, bulk: int) -> list[str]:
    """Every ``model-cards/*/README.md``, then the first ``bulk`` READMEs of ``hf-cards-2023``.

    Skips the calling test when neither is present (a checkout without ``../shared``).
    """
    readmes = [p.read_text(encoding="utf-8", errors="replace")
               for p in sorted(corpus.glob("model-cards/*/README.md"))]  # fmt: skip
    cards = corpus / "hf-cards-2023" / "cards.jsonl.gz"
    if cards.is_file():
        with gzip.open(cards, "rt", encoding="utf-8") as handle:
            readmes += [json.loads(line)["readme"] for line in itertools.islice(handle, bulk)]
    if not readmes:
        pytest.skip(f"no cards under {corpus}")
    return readmes
