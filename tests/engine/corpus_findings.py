"""Run the violation rules over the real cards in the shared corpus (used by test_precision).

Two sources, read the way ``modelhub analyze`` would read them:

* ``model-cards/<owner>__<name>/`` folders, parents resolved among the analysed cards first,
  then from the bundled base-model table;
* the Mistral-Small-24B derivative tree (laufer-oderinwale-model-trees), one snapshot per
  JSONL row built from the card YAML, the Hub's inferred relation (``base_model:<rel>:``
  tag) when the card states none, and the row's ``created_at``.

Run as a script to print every error finding as CSV rows for review.
"""

from __future__ import annotations

import json
import sys
from datetime import datetime
from pathlib import Path

import yaml

from licenses.engine.basemodels import BundledBaseModels
from licenses.engine.classify import classify
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.kb import default_kb
from licenses.engine.lineage import ChainResolver, LocalResolver
from licenses.engine.rules import build_context, evaluate_violations
from licenses.engine.snapshot import discover_repos, snapshot_from_dir
from licenses.engine.types import RepoSnapshot

TREE = "laufer-oderinwale-model-trees/mistral_small_24b_base_2501_tree.jsonl"
_TAG_RELATIONS = {"finetune": "finetune", "adapter": "adapter", "merge": "merge", "quantized": "quantized"}


def _evaluate(items: list[tuple[RepoSnapshot, object]]) -> list[tuple[str, object]]:
    kb = default_kb()
    findings = {snap.id: classify(snap, front, kb) for snap, front in items}
    local = LocalResolver({"id": sid, "license": f.to_dict()} for sid, f in findings.items())
    resolver = ChainResolver(local, BundledBaseModels.load())
    out = []
    for snap, front in items:
        ctx = build_context(snap, front, findings[snap.id], resolver, kb=kb)
        out.extend((snap.id, v) for v in evaluate_violations(ctx))
    return out


def card_items(corpus: Path) -> list[tuple[RepoSnapshot, object]]:
    items = []
    for repo_id, folder in discover_repos([corpus / "model-cards"]):
        snap = snapshot_from_dir(folder, repo_id)
        items.append((snap, parse_front_matter(snap.readme or "")))
    return items


def tree_items(corpus: Path) -> list[tuple[RepoSnapshot, object]]:
    items = []
    for line in (corpus / TREE).read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        meta = yaml.safe_load(row.get("card_data_yaml") or "") or {}
        if "base_model_relation" not in meta:
            for tag in row.get("base_model_tags") or []:
                parts = tag.split(":")
                if len(parts) == 3 and parts[1] in _TAG_RELATIONS:
                    meta["base_model_relation"] = _TAG_RELATIONS[parts[1]]
                    break
        readme = "---\n" + yaml.safe_dump(meta, sort_keys=False) + "---\n" if meta else ""
        created = datetime.fromisoformat(row["created_at"]) if row.get("created_at") else None
        snap = RepoSnapshot(
            id=row["model_id"],
            files={"README.md": len(readme)},
            texts={"README.md": readme},
            created_at=created,
        )
        items.append((snap, parse_front_matter(readme)))
    return items


def error_findings(corpus: Path) -> set[tuple[str, str, str]]:
    """``(model, rule, parent)`` of every error-severity finding over both sources."""
    found = set()
    for items in (card_items(corpus), tree_items(corpus)):
        for model, v in _evaluate(items):
            if v.severity == "error":
                found.add((model, v.rule, v.parent or ""))
    return found


def all_findings(corpus: Path):
    for items in (card_items(corpus), tree_items(corpus)):
        yield from _evaluate(items)


if __name__ == "__main__":
    root = (
        Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parents[3] / "shared" / "corpus"
    )
    for model, v in sorted(all_findings(root), key=lambda x: (x[0], x[1].rule)):
        print(f"{v.severity:7} {model:70} {v.rule:26} {v.parent or '-':45} {v.message[:150]}")
