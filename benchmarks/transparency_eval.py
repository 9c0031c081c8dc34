#!/usr/bin/env python3
"""Evaluate the card analysis against expert labels, and measure its throughput.

Expert sources (read-only, ``../shared/corpus``; each folder's SOURCE.md has commit and licence):
* European Open Source AI Index (``osai_index/``): open/partial/closed on 12 dimensions and
  ``openness_pct``; the 2023-24 "Opening up ChatGPT" set (14 dimensions) as a second label set.
  Entries are matched to a real card by the Hugging Face repo in their ``link`` (or end-model
  weights link) column.
* FMTI (``fmti/``): developer totals and 0/1 indicator scores; matched by flagship name to a
  card whose owner matches the developer.
Cards come from ``model-cards/``, ``hf-cards-tags/`` and ``hf-cards-2023/``. Only the README
(plus LICENSE/USE_POLICY files where the corpus has them) is available, so file-listing
facts (weights present, configs) are unknown for every card alike.

    .venv/bin/python benchmarks/transparency_eval.py [--corpus DIR] [--throughput-sample N]

Statistics are computed here (Spearman with average ranks, Cohen's kappa, linearly weighted
kappa over closed < partial < open); no third-party package is needed.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import json
import math
import re
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from licenses.engine.cardfacts import extract_facts  # noqa: E402
from licenses.engine.disclosure import assess_disclosure  # noqa: E402
from licenses.engine.frontmatter import parse_front_matter  # noqa: E402
from licenses.engine.openness import DIMENSIONS, assess_openness  # noqa: E402
from licenses.engine.transparency import assess_transparency, load_indicators  # noqa: E402
from licenses.engine.types import RepoSnapshot  # noqa: E402

csv.field_size_limit(10**8)
ORDER = {"closed": 0, "partial": 1, "open": 2}
_HF_REPO = re.compile(r"huggingface\.co/([A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+)")
_NORM = re.compile(r"[^a-z0-9]")
#: historical "Opening up ChatGPT" dimensions -> current index dimension we rate
HISTORICAL_MAP = {
    "llmdata": "datasources_basemodel", "rldata": "datasources_endmodel", "llmweights": "weights_basemodel",
    "rlweights": "weights_endmodel", "opencode": "trainingcode", "code": "code",
    "architecture": "hardware_architecture", "preprint": "preprint", "paper": "paper", "modelcard": "modelcard",
    "datasheet": "datasheet", "license": "licenses",
}  # fmt: skip


# --- statistics ----------------------------------------------------------------------------


def _ranks(values: Sequence[float]) -> list[float]:
    order = sorted(range(len(values)), key=lambda i: values[i])
    ranks = [0.0] * len(values)
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        for k in range(i, j + 1):
            ranks[order[k]] = (i + j) / 2 + 1
        i = j + 1
    return ranks


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Pearson correlation of average ranks; NaN when undefined (n < 3 or a constant side)."""
    if len(x) < 3:
        return math.nan
    rx, ry = _ranks(x), _ranks(y)
    mx, my = sum(rx) / len(rx), sum(ry) / len(ry)
    cov = sum((a - mx) * (b - my) for a, b in zip(rx, ry, strict=True))
    vx = math.sqrt(sum((a - mx) ** 2 for a in rx))
    vy = math.sqrt(sum((b - my) ** 2 for b in ry))
    return cov / (vx * vy) if vx and vy else math.nan


def weighted_kappa(a: Sequence[int], b: Sequence[int], k: int, linear: bool = True) -> float:
    """Cohen's kappa with linear weights over ``k`` ordered categories (k=2: plain kappa)."""
    n = len(a)
    if n == 0:
        return math.nan
    obs = [[0.0] * k for _ in range(k)]
    for i, j in zip(a, b, strict=True):
        obs[i][j] += 1 / n
    pa = [sum(obs[i]) for i in range(k)]
    pb = [sum(obs[i][j] for i in range(k)) for j in range(k)]

    def w(i: int, j: int) -> float:
        return abs(i - j) / (k - 1) if linear else float(i != j)

    num = sum(w(i, j) * obs[i][j] for i in range(k) for j in range(k))
    den = sum(w(i, j) * pa[i] * pb[j] for i in range(k) for j in range(k))
    return 1 - num / den if den else math.nan


def fmt(v: float) -> str:
    return "n/a" if v is None or (isinstance(v, float) and math.isnan(v)) else f"{v:+.2f}"


# --- corpus --------------------------------------------------------------------------------


def load_cards(corpus: Path) -> dict[str, tuple[str, str, dict[str, str]]]:
    """lower-case repo id -> (id, source folder, texts); earlier sources win."""
    cards: dict[str, tuple[str, str, dict[str, str]]] = {}
    for folder in sorted((corpus / "model-cards").iterdir()):
        if not (folder / "README.md").is_file():
            continue
        repo_id = folder.name.split("--")[0].replace("__", "/")
        texts = {
            p.name: p.read_text(encoding="utf-8", errors="replace") for p in folder.iterdir() if p.is_file()
        }
        cards.setdefault(repo_id.lower(), (repo_id, "model-cards", texts))
    for source, name in (("hf-cards-tags", "cards_tags.jsonl.gz"), ("hf-cards-2023", "cards.jsonl.gz")):
        path = corpus / source / name
        if not path.is_file():
            continue
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                row = json.loads(line)
                cards.setdefault(row["id"].lower(), (row["id"], source, {"README.md": row["readme"] or ""}))
    return cards


def classify_licence(snapshot: RepoSnapshot, front: Any) -> tuple[str | None, str | None]:
    """The project's licence classifier when importable; else the raw ``license:`` value."""
    try:
        from licenses.engine.classify import classify

        finding = classify(snapshot, front)
        return finding.key, finding.license_class
    except Exception:  # the classifier is another module; the evaluation must still run
        value = front.metadata.get("license") if isinstance(front.metadata, dict) else None
        return (value if isinstance(value, str) else None), None


def analyse(repo_id: str, texts: dict[str, str]) -> dict[str, Any]:
    snapshot = RepoSnapshot(id=repo_id, files={k: len(v) for k, v in texts.items()}, texts=texts)
    front = parse_front_matter(texts.get("README.md", ""))
    facts = extract_facts(snapshot, front)
    key, cls = classify_licence(snapshot, front)
    dis = assess_disclosure(facts)
    tr = assess_transparency(facts, key, cls, disclosure=dis)
    op = assess_openness(facts, key, cls, disclosure=dis, transparency=tr)
    return {"facts": facts, "license": (key, cls), "disclosure": dis, "transparency": tr, "openness": op}


def _hf_ids(cell: str) -> list[str]:
    return [
        m.rstrip(".")
        for m in _HF_REPO.findall(cell or "")
        if not m.lower().startswith(("datasets/", "spaces/"))
    ]


def match_rows(rows: Iterable[dict], columns: Sequence[str], cards: dict) -> list[tuple[dict, str, str]]:
    out = []
    for row in rows:
        for col in columns:
            hit = next((i for i in _hf_ids(row.get(col, "")) if i.lower() in cards), None)
            if hit:
                out.append((row, hit.lower(), col))
                break
    return out


# --- evaluations ---------------------------------------------------------------------------


def _agreement(pairs: list[tuple[str, str]]) -> tuple[int, float, float]:
    a = [ORDER[x] for x, _ in pairs]
    b = [ORDER[y] for _, y in pairs]
    acc = sum(x == y for x, y in zip(a, b, strict=True)) / len(a) if a else math.nan
    return len(a), acc, weighted_kappa(a, b, 3)


def eval_osai(corpus: Path, cards: dict, cache: dict) -> None:
    rows = list(csv.DictReader((corpus / "osai_index" / "osai_index_models.csv").open(encoding="utf-8")))
    matched = match_rows(rows, ("link", "weights_endmodel_link"), cards)
    print(f"\n== European Open Source AI Index (current, 12 dimensions): {len(matched)} of {len(rows)} entries "
          f"matched to a real card by HF repo link")  # fmt: skip
    ours_t, ours_o, theirs = [], [], []
    per_dim: dict[str, list[tuple[str, str]]] = {d: [] for d, _, _ in DIMENSIONS}
    outside: dict[str, list[bool]] = {d: [] for d, _, _ in DIMENSIONS}
    for row, key, col in matched:
        res = cache.setdefault(key, analyse(cards[key][0], cards[key][2]))
        ours_t.append(res["transparency"]["score"])
        ours_o.append(res["openness"]["openness_pct"])
        theirs.append(float(row["openness_pct"]))
        print(f"   {row['name'][:22]:22} {cards[key][0][:45]:45} [{cards[key][1]}, via {col}] index "
              f"{float(row['openness_pct']):5.1f}  ours: openness {ours_o[-1]:5.1f}, transparency {ours_t[-1]:3d}")  # fmt: skip
        ratings = {d["dimension"]: d["rating"] for d in res["openness"]["dimensions"]}
        for dim in per_dim:
            if row.get(dim) in ORDER:
                per_dim[dim].append((ratings[dim], row[dim]))
                link = row.get(f"{dim}_link", "")
                outside[dim].append(bool(link) and key not in link.lower())
    print(f"   Spearman(transparency score, openness_pct)  n={len(theirs)}: {fmt(spearman(ours_t, theirs))}")
    print(f"   Spearman(our openness_pct, openness_pct)    n={len(theirs)}: {fmt(spearman(ours_o, theirs))}")
    print(
        "   per dimension (ours vs index): n, accuracy, linear-weighted kappa, share of expert evidence "
        "links pointing outside the HF repo page"
    )
    all_pairs = []
    for dim, pairs in per_dim.items():
        n, acc, kappa = _agreement(pairs)
        all_pairs.extend(pairs)
        out = sum(outside[dim]) / len(outside[dim]) if outside[dim] else math.nan
        print(f"     {dim:24} n={n:3d} acc={acc:.2f} kappa_w={fmt(kappa)} outside-card evidence={out:.0%}")
    n, acc, kappa = _agreement(all_pairs)
    print(f"     {'(all dimensions pooled)':24} n={n:3d} acc={acc:.2f} kappa_w={fmt(kappa)}")


def eval_historical(corpus: Path, cards: dict, cache: dict) -> None:
    path = corpus / "osai_index" / "opening_up_chatgpt_2023_2024.csv"
    rows = list(csv.DictReader(path.open(encoding="utf-8")))
    matched = match_rows(rows, ("link", "rlweights_link"), cards)
    print(f"\n== Opening up ChatGPT (2023-24, 14 dimensions): {len(matched)} of {len(rows)} entries matched")
    ours, theirs = [], []
    per_dim: dict[str, list[tuple[str, str]]] = {d: [] for d in HISTORICAL_MAP}
    for row, key, _col in matched:
        res = cache.setdefault(key, analyse(cards[key][0], cards[key][2]))
        ours.append(res["openness"]["openness_pct"])
        theirs.append(float(row["openness_sum_of_14"]))
        ratings = {d["dimension"]: d["rating"] for d in res["openness"]["dimensions"]}
        for hist, dim in HISTORICAL_MAP.items():
            if row.get(f"{hist}_class") in ORDER:
                per_dim[hist].append((ratings[dim], row[f"{hist}_class"]))
    print(f"   Spearman(our openness_pct, openness_sum_of_14) n={len(ours)}: {fmt(spearman(ours, theirs))}")
    all_pairs = []
    for hist, pairs in per_dim.items():
        n, acc, kappa = _agreement(pairs)
        all_pairs.extend(pairs)
        print(f"     {hist:12} (ours: {HISTORICAL_MAP[hist]:22}) n={n:3d} acc={acc:.2f} kappa_w={fmt(kappa)}")
    n, acc, kappa = _agreement(all_pairs)
    print(f"     {'(pooled)':12} {'':30} n={n:3d} acc={acc:.2f} kappa_w={fmt(kappa)}")


def _owner_matches(owner: str, developer: str) -> bool:
    o = _NORM.sub("", owner.lower())
    first = _NORM.sub("", developer.lower().split()[0])
    d = _NORM.sub("", developer.lower())
    return bool(o) and (first in o or o in d)


def fmti_card(flagship: str, developer: str, cards: dict) -> str | None:
    """The card of the flagship: name starts with the flagship name and the owner is the developer."""
    name = _NORM.sub("", flagship.split("(")[0].lower())
    if not name:
        return None
    cands = []
    for key, (repo_id, _src, _t) in cards.items():
        owner, _, model = repo_id.partition("/")
        m = _NORM.sub("", model.lower())
        if m.startswith(name) and _owner_matches(owner, developer):
            cands.append((m != name, len(m), key))
    return min(cands)[2] if cands else None


def eval_fmti(corpus: Path, cards: dict, cache: dict) -> None:
    totals = list(csv.DictReader((corpus / "fmti" / "fmti_totals.csv").open(encoding="utf-8")))
    scores: dict[tuple[str, str], dict[str, int]] = {}
    with (corpus / "fmti" / "fmti_scores.csv").open(encoding="utf-8") as fh:
        for row in csv.DictReader(fh):
            scores.setdefault((row["edition"], row["developer"]), {})[row["indicator_id"]] = int(row["score"])
    triage = {r["indicator_id"]: r["observability"]
              for r in csv.DictReader((corpus / "fmti" / "fmti_indicator_observability_triage.csv").open())}  # fmt: skip
    ours_by_fmti: dict[str, list[str]] = {}
    for row in load_indicators():
        ours_by_fmti.setdefault(row["fmti_id"], []).append(row["id"])
        if row.get("fmti_2025_id"):
            ours_by_fmti.setdefault(row["fmti_2025_id"], []).append(row["id"])
    print("\n== FMTI (developer x flagship; matched by flagship name + owner = developer)")
    by_edition: dict[str, list[tuple[float, float, float, str]]] = {}
    ind_pairs: dict[str, list[tuple[int, int]]] = {}
    for row in totals:
        key = fmti_card(row["flagship_model"], row["developer"], cards)
        ed = row["edition"]
        if key is None:
            continue
        res = cache.setdefault(key, analyse(cards[key][0], cards[key][2]))
        labels = scores[(ed, row["developer"])]
        ours = {i["id"]: i["met"] for i in res["transparency"]["indicators"]}
        mapped = [fid for fid in labels if fid in ours_by_fmti]
        a_subset = [fid for fid in labels if triage.get(fid) == "A"]
        mapped_score = sum(labels[f] for f in mapped)
        for fid in mapped:
            mine = int(any(ours[i] for i in ours_by_fmti[fid]))
            ind_pairs.setdefault(ed, []).append((mine, labels[fid]))
        by_edition.setdefault(ed, []).append(
            (
                res["transparency"]["score"],
                float(row["total"]),
                float(sum(labels[f] for f in a_subset)),
                row["developer"],
            )
        )
        print(f"   {ed} {row['developer'][:14]:14} {row['flagship_model'][:22]:22} -> {cards[key][0]} "
              f"[{cards[key][1]}]: FMTI total {row['total']}, A-subset {sum(labels[f] for f in a_subset)}, "
              f"on our {len(mapped)} mapped ids {mapped_score}; ours {res['transparency']['score']}")  # fmt: skip
    unmatched = [f"{r['edition'][:4]} {r['flagship_model']}" for r in totals
                 if fmti_card(r["flagship_model"], r["developer"], cards) is None]  # fmt: skip
    print(
        f"   no card in the corpus for {len(unmatched)} of {len(totals)} ratings "
        f"(closed API models have no repository at all)"
    )
    pooled: list[tuple[float, float, float, str]] = []
    for ed, vals in sorted(by_edition.items()):
        if ed.startswith(("2023", "2024")):
            pooled.extend(vals)
        print(f"   {ed}: n={len(vals)} Spearman(ours, total)={fmt(spearman([v[0] for v in vals], [v[1] for v in vals]))}"
              f" Spearman(ours, A-subset)={fmt(spearman([v[0] for v in vals], [v[2] for v in vals]))}")  # fmt: skip
    print(
        f"   v1 editions pooled (2023+2024): n={len(pooled)} "
        f"Spearman(ours, total)={fmt(spearman([v[0] for v in pooled], [v[1] for v in pooled]))} "
        f"Spearman(ours, A-subset)={fmt(spearman([v[0] for v in pooled], [v[2] for v in pooled]))}"
    )
    for ed, pairs in sorted(ind_pairs.items()):
        a, b = [p[0] for p in pairs], [p[1] for p in pairs]
        acc = sum(x == y for x, y in pairs) / len(pairs)
        fn = sum(1 for x, y in pairs if y == 1 and x == 0)
        print(
            f"   per-indicator {ed}: n={len(pairs)} (developer x mapped indicator) accuracy={acc:.2f} "
            f"kappa={fmt(weighted_kappa(a, b, 2))}; FMTI=1 but card silent: {fn}"
        )


def throughput(corpus: Path, cards: dict, sample: int, runs: int = 5) -> None:
    """Cards per second of the card part vs the floor (read + CSafeLoader on the YAML block).

    The measurement lives in ``benchmarks/card_throughput.py`` (medians of ``runs`` runs,
    floor and card part timed back to back in each run).
    """
    from benchmarks.card_throughput import measure

    readmes = sorted((corpus / "model-cards").glob("*/README.md"))
    mem = [t[2]["README.md"] for k, t in sorted(cards.items()) if t[1] == "hf-cards-2023"][:sample]
    tags = [t[2]["README.md"] for k, t in sorted(cards.items()) if t[1] == "hf-cards-tags"]
    print("\n== Throughput of the card part (facts + disclosure + transparency + openness)")
    print(
        "   floor = read + CSafeLoader on the YAML block; ratio = card-part time / floor time, median of runs"
    )
    measure(f"hf-cards-2023 (first {len(mem)}, typical 2023 cards, in memory)", None, mem, runs)
    measure(f"hf-cards-tags ({len(tags)} long modern LLM cards, in memory)", None, tags, runs)
    texts = [p.read_text(encoding="utf-8", errors="replace") for p in readmes]
    measure("model-cards (files on disk)", readmes, texts, runs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=ROOT.parent / "shared" / "corpus")
    parser.add_argument("--throughput-sample", type=int, default=5000)
    args = parser.parse_args(argv)
    if not (args.corpus / "osai_index").is_dir():
        print(f"corpus not found at {args.corpus}", file=sys.stderr)
        return 2
    cards = load_cards(args.corpus)
    print(f"cards available: {len(cards)} (model-cards, hf-cards-tags, hf-cards-2023)")
    cache: dict[str, dict] = {}
    eval_osai(args.corpus, cards, cache)
    eval_historical(args.corpus, cards, cache)
    eval_fmti(args.corpus, cards, cache)
    throughput(args.corpus, cards, args.throughput_sample)
    return 0


if __name__ == "__main__":
    sys.exit(main())
