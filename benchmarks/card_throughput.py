#!/usr/bin/env python3
"""Throughput of the card part of ``modelhub analyze`` against the floor, over real corpus cards.

* floor: read the README (from disk for ``model-cards/``; already in memory for the
  JSONL dumps) and parse its YAML front matter with PyYAML's C loader
  (``yaml.load(text, Loader=yaml.CSafeLoader)``);
* card part: ``extract_facts`` → ``assess_disclosure`` → ``assess_transparency`` →
  ``assess_openness`` on a card whose front matter is already parsed (the licence part
  parses it too, so it is shared work, timed separately as "+ front matter");
* ratio: card-part time / floor time.

Each run times floor and card part back to back (so both see the same machine load) in
process CPU time, which a shared, loaded machine disturbs far less than wall time; the
figures are the medians over ``--runs`` runs (default 5).

    .venv/bin/python benchmarks/card_throughput.py [--corpus DIR] [--runs 5] [--sample 5000]
"""

from __future__ import annotations

import argparse
import gzip
import itertools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from licenses.engine.cardfacts import extract_facts  # noqa: E402
from licenses.engine.disclosure import assess_disclosure  # noqa: E402
from licenses.engine.frontmatter import parse_front_matter  # noqa: E402
from licenses.engine.openness import assess_openness  # noqa: E402
from licenses.engine.transparency import assess_transparency  # noqa: E402
from licenses.engine.types import RepoSnapshot  # noqa: E402


def yaml_floor(text: str) -> Any:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end != -1:
            try:
                return yaml.load(text[3:end], Loader=yaml.CSafeLoader)
            except yaml.YAMLError:
                return None
    return None


def card_part(snapshot: RepoSnapshot, front: Any) -> None:
    facts = extract_facts(snapshot, front)
    dis = assess_disclosure(facts)
    tr = assess_transparency(facts, None, None, disclosure=dis)
    assess_openness(facts, None, None, disclosure=dis, transparency=tr)


def _snapshot(text: str) -> RepoSnapshot:
    return RepoSnapshot(id="x/y", files={"README.md": len(text)}, texts={"README.md": text})


def _jsonl(path: Path, limit: int | None) -> list[str]:
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        return [json.loads(line)["readme"] or "" for line in itertools.islice(fh, limit)]


def _timed(fn: Callable[[], None]) -> float:
    t0 = time.process_time()
    fn()
    return time.process_time() - t0


def measure(label: str, paths: list[Path] | None, texts: list[str], runs: int) -> dict[str, float]:
    """Median floor / card-part throughput and ratio; ``paths`` set means the floor reads files."""
    fronts = [parse_front_matter(t) for t in texts]
    snaps = [_snapshot(t) for t in texts]
    n = len(texts)

    def floor() -> None:
        if paths is not None:
            for p in paths:
                yaml_floor(p.read_text(encoding="utf-8", errors="replace"))
        else:
            for t in texts:
                yaml_floor(t)

    def ours() -> None:
        for snap, front in zip(snaps, fronts, strict=True):
            card_part(snap, front)

    def ours_fm() -> None:
        for snap, text in zip(snaps, texts, strict=True):
            card_part(snap, parse_front_matter(text))

    rows = []
    ours()  # warm caches (compiled patterns, indicator table, dataset table)
    for _ in range(runs):
        tf, to, tfm = _timed(floor), _timed(ours), _timed(ours_fm)
        rows.append((tf, to, tfm))
    tf = statistics.median(r[0] for r in rows)
    to = statistics.median(r[1] for r in rows)
    ratio = statistics.median(r[1] / r[0] for r in rows)
    ratio_fm = statistics.median(r[2] / r[0] for r in rows)
    print(f"  {label}: n={n}, median of {runs} runs\n"
          f"    floor {n / tf:8,.0f} cards/s | card part {n / to:8,.0f} cards/s | ratio {ratio:4.2f}x"
          f" (with front-matter parse {ratio_fm:4.2f}x)")  # fmt: skip
    return {"floor": n / tf, "ours": n / to, "ratio": ratio, "ratio_fm": ratio_fm}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sample", type=int, default=5000, help="hf-cards-2023 cards (typical cards)")
    parser.add_argument("--only", choices=("typical", "long", "disk"), action="append")
    args = parser.parse_args(argv)
    if not (args.corpus / "model-cards").is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    only = set(args.only or ("typical", "long", "disk"))
    print("Card part (facts + disclosure + transparency + openness) vs floor (read + CSafeLoader on YAML)")
    if "typical" in only:
        texts = _jsonl(args.corpus / "hf-cards-2023" / "cards.jsonl.gz", args.sample)
        measure(f"typical 2023 cards (hf-cards-2023, first {len(texts)}, in memory)", None, texts, args.runs)
    if "long" in only:
        texts = _jsonl(args.corpus / "hf-cards-tags" / "cards_tags.jsonl.gz", None)
        measure("long modern LLM cards (hf-cards-tags, in memory)", None, texts, args.runs)
    if "disk" in only:
        paths = sorted((args.corpus / "model-cards").glob("*/README.md"))
        texts = [p.read_text(encoding="utf-8", errors="replace") for p in paths]
        measure("model-cards (README files read from disk by the floor)", paths, texts, args.runs)
    return 0


if __name__ == "__main__":
    sys.exit(main())
