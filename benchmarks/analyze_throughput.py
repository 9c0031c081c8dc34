"""Throughput of ``modelhub analyze`` against the floor of reading cards and parsing their YAML.

Budgets (set by the project), each against the bare floor of reading a repository's files and
``yaml.load(front_matter, CSafeLoader)``: the licence analysis (snapshot, hostile-input-safe
front matter, classification with text detection) at most 3x; the full analysis (licence plus
card facts, disclosure, transparency, openness, lineage and every violation rule) at most 4x.
All three are measured in the same run.

Two corpora from ``../shared/corpus`` (skipped when absent):

* ``model-cards``: 154 repository folders on disk. Floor = walk the folder, read the files a
  snapshot reads (README, licence files, configs), CSafeLoader on the front matter. Licence = discovery, snapshot,
  front matter, ``classify``. Full = ``analyze_paths``.
* ``hf-cards-2023``: 25,109 README texts from ``cards.jsonl.gz``, decompressed once before
  timing (reported separately). Floor = split the front matter, CSafeLoader. Licence =
  front matter + ``classify``; full = ``analyze_snapshot`` on an in-memory snapshot.

Usage: ``.venv/bin/python benchmarks/analyze_throughput.py [--limit N] [--repeat R] [--stages]``.
``--stages`` adds, per corpus, the CPU cost of each stage of the full analysis (each timed
over all cards on inputs prepared outside the clock, fastest of ``R``) as µs per card and as
a multiple of that corpus's floor; the three main figures are measured exactly as without it.
Prints figures only; it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gc
import gzip
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from licenses.engine.analyze import analyze_paths, analyze_snapshot, default_resolver, lineage_of  # noqa: E402
from licenses.engine.card_links import extract_links  # noqa: E402
from licenses.engine.card_sections import canonical_sections, parse_sections  # noqa: E402
from licenses.engine.cardfacts import _body_index, body_line_offset, extract_facts  # noqa: E402
from licenses.engine.classify import classify  # noqa: E402
from licenses.engine.disclosure import assess_disclosure  # noqa: E402
from licenses.engine.frontmatter import parse_front_matter  # noqa: E402
from licenses.engine.kb import KnowledgeBase, default_kb  # noqa: E402
from licenses.engine.openness import assess_openness  # noqa: E402
from licenses.engine.rules import build_context, evaluate_violations  # noqa: E402
from licenses.engine.rules._common import normalise_name  # noqa: E402
from licenses.engine.snapshot import discover_repos, snapshot_from_dir, text_cap  # noqa: E402
from licenses.engine.transparency import assess_transparency  # noqa: E402
from licenses.engine.types import RepoSnapshot  # noqa: E402

CORPUS = ROOT.parent / "shared" / "corpus"


def floor_yaml(text: str) -> object:
    """The floor's parse: the front matter (if any) through PyYAML's C loader; errors count as parsed."""
    stripped = text.lstrip()
    if not stripped.startswith("---"):
        return None
    end = stripped.find("\n---", 3)
    if end == -1:
        return None
    try:
        return yaml.load(stripped[3:end], Loader=yaml.CSafeLoader)
    except yaml.YAMLError:
        return None


def floor_folder(folder: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for name in filenames:
            full = os.path.join(dirpath, name)
            os.stat(full)
            if dirpath == str(folder) and text_cap(name):  # the files a snapshot reads
                with open(full, "rb") as handle:
                    data = handle.read().decode("utf-8", errors="replace")
                if name == "README.md":
                    floor_yaml(data)


# The engine memoises two pure functions of card text (heading -> template sections, model name ->
# normal form): a real stream of cards warms them as it goes, but a second pass over the SAME cards
# would find every answer cached. Each timed pass starts cold, so it measures one real run.
INPUT_MEMOS = (canonical_sections, normalise_name)


def clear_input_memos() -> None:
    for memo in INPUT_MEMOS:
        memo.cache_clear()


def best_of(repeat: int, runs: dict[str, Callable[[], object]]) -> dict[str, float]:
    """Fastest of ``repeat`` interleaved runs of each, in CPU seconds of this process.

    CPU time rather than wall time keeps other processes on a shared machine out of the
    figures; interleaving exposes every side to the same cache and heap state, and a
    collection before each run keeps one side's garbage off the other's clock.
    """
    times: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeat):
        for name, fn in runs.items():
            clear_input_memos()
            gc.collect()
            start = time.process_time()
            fn()
            times[name].append(time.process_time() - start)
    return {name: min(values) for name, values in times.items()}


def report(label: str, n: int, t: dict[str, float]) -> None:
    floor = t["floor"]
    print(f"{label}: {n} cards")
    print(f"  floor (read + CSafeLoader): {floor:8.3f} s CPU  {n / floor:10.0f} cards/s")
    print(f"  licence analysis          : {t['licence']:8.3f} s CPU  {n / t['licence']:10.0f} cards/s")
    print(f"  full analysis             : {t['full']:8.3f} s CPU  {n / t['full']:10.0f} cards/s")
    print(f"  ratio licence/floor       : {t['licence'] / floor:8.2f}x  (budget 3x)")
    print(f"  ratio full/floor          : {t['full'] / floor:8.2f}x  (budget 4x)")


def stage_costs(
    label: str, snapshots: list[RepoSnapshot], floor: float, repeat: int, kb: KnowledgeBase
) -> None:
    """CPU per stage of ``analyze_snapshot`` over ``snapshots``; ``floor`` is their floor's time.

    Each stage runs over every card on the previous stages' outputs, computed beforehand,
    so a figure holds that stage alone. The card-facts parts (outline, links, keyword
    index) are also inside "card facts (all)".
    """
    resolver = default_resolver()
    fronts = [parse_front_matter(s.readme or "") for s in snapshots]
    findings = [classify(s, f, kb) for s, f in zip(snapshots, fronts, strict=True)]
    bodies = [f.body or "" for f in fronts]
    lows = [b.lower() for b in bodies]
    offsets = [
        body_line_offset(s.readme or "", f.raw_yaml is not None)
        for s, f in zip(snapshots, fronts, strict=True)
    ]
    outlines = [parse_sections(b, o, low)[0] for b, o, low in zip(bodies, offsets, lows, strict=True)]
    facts = [extract_facts(s, f) for s, f in zip(snapshots, fronts, strict=True)]
    datas = [assess_disclosure(f) for f in facts]

    ctxs = [
        build_context(
            s,
            f,
            x,
            resolver,
            datasets=d.get("dataset_licenses") or (),
            kb=kb,
            body_lower=c.body_lower,
            body_index=c.body_index,
        )
        for s, f, x, d, c in zip(snapshots, fronts, findings, datas, facts, strict=True)
    ]
    rows = list(
        zip(snapshots, fronts, findings, bodies, offsets, lows, outlines, facts, datas, ctxs, strict=True)
    )

    def assess(steps: int) -> None:
        for _, _, x, _, _, _, _, f, _, _ in rows:
            f.memo.clear()
            d = assess_disclosure(f)
            if steps > 1:
                t = assess_transparency(f, x.key, x.license_class, disclosure=d)
                if steps > 2:
                    assess_openness(f, x.key, x.license_class, disclosure=d, transparency=t)

    def each(step: Callable[..., object]) -> Callable[[], None]:
        """A pass of ``step`` over every card's row; results are dropped as the pipeline drops
        them (kept in a list, 25,000 of them would slow the pass through memory alone)."""

        def run() -> None:
            for row in rows:
                step(*row)

        return run

    stages: dict[str, Callable[[], object]] = {
        "front matter": each(lambda s, *_: parse_front_matter(s.readme or "")),
        "licence classification": each(lambda s, f, *_: classify(s, f, kb)),
        "card facts (all)": each(lambda s, f, *_: extract_facts(s, f)),
        "  lower-casing the body": each(lambda s, f, x, b, *_: b.lower()),
        "  outline (sections)": each(lambda s, f, x, b, o, low, *_: parse_sections(b, o, low)),
        "  links": each(lambda s, f, x, b, o, low, sec, *_: extract_links(b, sec, o, low)),
        "  keyword index": each(lambda s, f, x, b, o, low, *_: _body_index(low)),
        # the assessments share per-card memos (``CardFacts.memo``): each chain starts from
        # cleared memos, and transparency and openness are printed as differences of chains
        "disclosure": lambda: assess(1),
        "  + transparency": lambda: assess(2),
        "  + openness": lambda: assess(3),
        # as analyze_snapshot calls it: with the lower-cased body and keyword index card facts made
        "rule context": each(
            lambda s, f, x, b, o, low, sec, facts, d, c: build_context(
                s,
                f,
                x,
                resolver,
                datasets=d.get("dataset_licenses") or (),
                kb=kb,
                body_lower=facts.body_lower,
                body_index=facts.body_index,
            )
        ),
        "lineage + violations": each(
            lambda *row: (lineage_of(row[-1]), [v.to_dict() for v in evaluate_violations(row[-1])])
        ),
    }
    # the prepared inputs stay alive for every stage: frozen, the collector does not walk
    # them on each collection (the main passes hold no such heap)
    gc.freeze()
    try:
        times = best_of(repeat, stages)
    finally:
        gc.unfreeze()
    chain = [times["disclosure"], times["  + transparency"], times["  + openness"]]
    times["  + transparency"], times["  + openness"] = chain[1] - chain[0], chain[2] - chain[1]
    n = len(snapshots)
    print(f"  stages of the full analysis, {label} (µs per card, multiple of the floor):")
    print(f"    {'floor':26s} {floor / n * 1e6:8.1f}  1.00x")
    for name, t in times.items():
        print(f"    {name:26s} {t / n * 1e6:8.1f}  {t / floor:5.2f}x")


def bench_model_cards(repeat: int, stages: bool) -> None:
    root = CORPUS / "model-cards"
    if not root.is_dir():
        print(f"skipped: {root} not found")
        return
    folders = sorted(p for p in root.iterdir() if (p / "README.md").is_file())
    rounds = 5  # the corpus is small: time five passes per run

    def floor_pass() -> None:
        for _ in range(rounds):
            for folder in folders:
                floor_folder(folder)

    def licence_pass() -> None:
        for _ in range(rounds):
            for repo_id, folder in discover_repos([root]):
                snapshot = snapshot_from_dir(folder, repo_id)
                classify(snapshot, parse_front_matter(snapshot.readme or ""))

    def full_pass() -> None:
        for _ in range(rounds):
            analyze_paths([root])

    times = best_of(repeat, {"floor": floor_pass, "licence": licence_pass, "full": full_pass})
    report(f"model-cards ({len(folders)} folders on disk x {rounds} passes)", len(folders) * rounds, times)
    if stages:
        snapshots = [
            snapshot_from_dir(folder, repo_id) for repo_id, folder in discover_repos([root])
        ] * rounds
        stage_costs("model-cards", snapshots, times["floor"], repeat, default_kb())


def bench_bulk(repeat: int, limit: int | None, stages: bool) -> None:
    path = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if not path.is_file():
        print(f"skipped: {path} not found")
        return
    start = time.perf_counter()
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        rows = [json.loads(line) for _, line in zip(range(limit or 10**9), handle, strict=False)]
    read = time.perf_counter() - start
    print(
        f"hf-cards-2023: decompressed and decoded {len(rows)} rows in {read:.2f} s (not in the figures below)"
    )
    kb = default_kb()

    def floor() -> None:
        for row in rows:
            floor_yaml(row["readme"])

    snapshots = [
        RepoSnapshot(
            id=row["id"], files={"README.md": len(row["readme"])}, texts={"README.md": row["readme"]}
        )
        for row in rows
    ]

    def licence() -> None:
        for snapshot in snapshots:
            classify(snapshot, parse_front_matter(snapshot.readme or ""), kb)

    def full() -> None:
        for snapshot in snapshots:
            analyze_snapshot(snapshot, kb=kb)

    times = best_of(repeat, {"floor": floor, "licence": licence, "full": full})
    report("hf-cards-2023 (in memory)", len(rows), times)
    if stages:
        stage_costs("hf-cards-2023", snapshots, times["floor"], repeat, kb)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="use only the first N bulk cards")
    parser.add_argument("--repeat", type=int, default=3, help="runs per measurement; the fastest is reported")
    parser.add_argument("--stages", action="store_true", help="also print the CPU cost of each stage")
    args = parser.parse_args()
    print("$ " + " ".join([Path(sys.executable).name, *sys.argv]))
    default_kb()  # load the knowledge base outside the timed regions
    bench_model_cards(args.repeat, args.stages)
    bench_bulk(args.repeat, args.limit, args.stages)


if __name__ == "__main__":
    main()
