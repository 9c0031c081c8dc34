"""The rule stage's fast paths answer exactly like the plain computations they replace.

``evaluate_violations`` does not call a rule whose ``NEEDS`` field is empty in the context
(most cards declare no judgeable parent, so most rules would only return ``[]``); the
context memoises ``child_license`` / ``judged_parents`` without ``cached_property``'s lock;
``analyze_paths`` feeds its local resolver the licence key and class instead of the whole
``to_dict``; ``base_model_refs`` answers a card without ``base_model`` at once; ``output_source_ids`` tries its four statement patterns as one alternation at
each place a trigger word starts. Each test compares with the plain computation, kept here as the oracle, on
hand-written contexts and, when ``../shared/corpus`` is present, on real cards.
"""

from __future__ import annotations

import dataclasses
import gzip
import json
from collections.abc import Mapping
from itertools import islice
from pathlib import Path

import pytest

from licenses.engine.analyze import default_resolver
from licenses.engine.classify import classify
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.kb import default_kb
from licenses.engine.keyword_probe import KeyIndex
from licenses.engine.lineage import (
    BaseModelRef,
    LocalResolver,
    base_model_refs,
    infer_relation,
    normalise_model_id,
)
from licenses.engine.lineage import _declared_relation as declared_relation
from licenses.engine.rules import LINEAGE_RULES, RULES, RuleContext, build_context, evaluate_violations
from licenses.engine.rules import _sort_key as sort_key
from licenses.engine.rules.context import _OUTPUT_STATEMENTS, _TRIGGER, output_source_ids
from licenses.engine.snapshot import discover_repos, snapshot_from_dir
from licenses.engine.types import LicenseFinding, RepoSnapshot, Violation
from tests.engine.rules.helpers import ctx as make_ctx
from tests.engine.rules.helpers import parent

CORPUS = Path(__file__).resolve().parents[2].parent / "shared" / "corpus"
HF_SAMPLE = 3000


def plain_violations(ctx: RuleContext, rules: tuple = RULES) -> list[Violation]:
    """The oracle: every rule called, the findings sorted by the same key."""
    found: list[Violation] = []
    for rule in rules:
        found.extend(rule.check(ctx))
    return sorted(found, key=sort_key)


#: Parents that make the parent rules fire on almost any child: non-commercial, share-alike,
#: RAIL with flow-down restrictions, a vendor licence with a name prefix and notices, a
#: no-derivatives licence, a guardrail-termination licence, an unresolved one.
_PARENT_SETS = (
    (),
    (parent("meta-llama/Meta-Llama-3-8B", "llama3"),),
    (parent("someone/nc-model", "cc-by-nc-4.0"), parent("someone/sa-model", "cc-by-sa-4.0", "merge")),
    (parent("CompVis/stable-diffusion-v1-4", "creativeml-openrail-m", "quantized"),),
    (parent("someone/nd-model", "cc-by-nd-4.0", "adapter"), parent("someone/gpl-model", "gpl-3.0", "merge")),
    (parent("nvidia/some-model", "nvidia-open-model-license"), parent("someone/lost", None)),
    (parent("meta-llama/Llama-2-7b", "llama2"), parent("meta-llama/Llama-2-7b", "llama2")),
)


def _variants(ctx: RuleContext) -> list[RuleContext]:
    """``ctx`` with each parent set, plus output sources, datasets and a scan on the last one."""
    out = [dataclasses.replace(ctx, parents=list(parents)) for parents in _PARENT_SETS]
    out.append(
        dataclasses.replace(
            ctx,
            output_sources=[parent("meta-llama/Llama-2-7b", "llama2"), parent("google/gemma-7b", "gemma")],
            datasets=[{"id": "someone/nc-data", "license": "cc-by-nc-4.0", "commercial": "no"}],
            scan=[{"path": "model.bin", "dangerous": ["os.system"], "scanner": "test"}],
        )
    )
    return out


def _hand_written() -> list[RuleContext]:
    bodies = ("", "Built with Llama. Abliterated: refusals removed.", "Distilled from gpt-4 outputs.")
    base = [
        make_ctx(key=key, body=body, child_id=child)
        for key in ("apache-2.0", "none", "unknown", "cc-by-nc-4.0", "llama2", "openrail", "mit")
        for body in bodies
        for child in ("someone/child-model", "meta-llama/Llama-3-child", "nvidia/x-uncensored")
    ]
    base.append(make_ctx(key="mit", conflicts=[{"metadata": "mit", "file": "apache-2.0", "path": "LICENSE"}]))
    return [v for c in base for v in _variants(c)]


def _assert_same(contexts: list[RuleContext]) -> None:
    fired = 0
    for ctx in contexts:
        for rules in (RULES, LINEAGE_RULES):
            want = plain_violations(dataclasses.replace(ctx), rules)
            assert evaluate_violations(dataclasses.replace(ctx), rules) == want, ctx.child_id
            assert evaluate_violations(dataclasses.replace(ctx), list(rules)) == want  # any sequence
            fired += bool(want)
    assert fired  # the comparison saw findings, not only empty lists


def test_skipped_rules_find_nothing_without_their_field() -> None:
    """The premise of the skip: a rule with ``NEEDS`` returns ``[]`` when that field is empty."""
    needing = [r for r in RULES if getattr(r, "NEEDS", None) is not None]
    assert len(needing) >= 8
    for ctx in _hand_written():
        for rule in needing:
            if not getattr(ctx, rule.NEEDS):
                assert rule.check(ctx) == [], (rule.RULE_ID, ctx.child_id)


def test_hand_written_contexts_match_the_plain_loop() -> None:
    _assert_same(_hand_written())


def test_memoised_properties_equal_a_fresh_computation() -> None:
    for ctx in _hand_written():
        fresh = dataclasses.replace(ctx)
        assert ctx.judged_parents == type(ctx).__dict__["judged_parents"].fn(fresh)
        assert ctx.judged_parents is ctx.judged_parents  # computed once
        assert ctx.child_license == type(ctx).__dict__["child_license"].fn(fresh)
        assert ctx == fresh  # the memo is no field: equality is unchanged


def _hf_contexts() -> list[RuleContext]:
    path = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    kb, resolver = default_kb(), default_resolver()
    out = []
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in islice(handle, HF_SAMPLE):
            row = json.loads(line)
            snap = RepoSnapshot(row["id"], {"README.md": len(row["readme"])}, {"README.md": row["readme"]})
            front = parse_front_matter(row["readme"])
            out.append(build_context(snap, front, classify(snap, front, kb), resolver, kb=kb))
    return out


def test_corpus_cards_match_the_plain_loop() -> None:
    contexts = _hf_contexts()
    _assert_same(contexts)
    _assert_same([v for c in contexts[:200] for v in _variants(c)])


def _model_cards() -> list[tuple[RepoSnapshot, LicenseFinding]]:
    root = CORPUS / "model-cards"
    if not root.is_dir():
        pytest.skip(f"{root} not found")
    kb = default_kb()
    snaps = [snapshot_from_dir(folder, repo_id) for repo_id, folder in discover_repos([root])]
    return [(s, classify(s, parse_front_matter(s.readme or ""), kb)) for s in snaps]


def test_model_cards_match_the_plain_loop() -> None:
    kb, resolver = default_kb(), default_resolver()
    contexts = [
        build_context(s, parse_front_matter(s.readme or ""), finding, resolver, kb=kb)
        for s, finding in _model_cards()
    ]
    _assert_same(contexts)


def _records(resolver: LocalResolver) -> dict:
    return dict(resolver._by_id)


def test_local_resolver_reads_only_key_and_class() -> None:
    """``analyze_paths`` passes ``{"key", "class"}``; the oracle passes the whole ``to_dict``."""
    findings = [
        ("a/unknown", LicenseFinding("unknown", "unknown", None, "unknown", 0.0, reason="nothing")),
        ("a/none", LicenseFinding("none", "unknown", None, "unknown", 0.0)),
        ("A/Llama", LicenseFinding("llama3", "vendor-community", "x", "conditional", 1.0, name="Llama 3")),
    ]
    if (CORPUS / "model-cards").is_dir():
        findings += [(s.id, f) for s, f in _model_cards()]
    slim = LocalResolver(
        {"id": i, "license": {"key": f.key, "class": f.license_class}, "files": ["README.md"]}
        for i, f in findings
    )
    full = LocalResolver({"id": i, "license": f.to_dict(), "files": ["README.md"]} for i, f in findings)
    assert _records(slim) == _records(full)


# -- output statements -------------------------------------------------------------------------


def plain_output_sources(body: str) -> list[str]:
    """The oracle: at every ``_TRIGGER`` match, the first of the four patterns that matches."""
    found: list[str] = []
    seen: set[str] = set()
    for trigger in _TRIGGER.finditer(body):
        for pattern in _OUTPUT_STATEMENTS:
            m = pattern.match(body, trigger.start())
            if m is None:
                continue
            token = m.group(1).rstrip(".,;:)")
            if token.lower() not in seen:
                seen.add(token.lower())
                found.append(token)
            break
    return found


OUTPUT_CASES = (
    "",
    "Distilled from meta-llama/Llama-2-70b-chat-hf. Trained on outputs of GPT-4.",
    "DISTILLATION OF bert-base-1 and Distillation from Bert-Large-2",
    "synthetic data generated by gpt-3.5-turbo; generated with Mixtral-8x7B.",
    "Synthetic responses using claude-2 and generated samples from llama2-13b",
    "outputting nothing; outputs from the model; responses by qwen/Qwen-7B, completions of x1",
    "generated generated by gpt4 and generations of GPT-4 and generations of gpt-4",
    "the dotless \u0131 and long \u017f: outputs of ModelX-7 then \u0130stanbul generated by m1",
    "ﬁne: distilled from model-ǅ9 (the ligature and titlecase change lengths when lower-cased)",
    "synthetic  \n generated \t by \n Org/Model.v2), generated using llama-3.",
    "distilled from nothing here, outputs of the, generated by 7",
)


@pytest.mark.parametrize("body", OUTPUT_CASES)
def test_output_sources_on_edge_cases(body: str) -> None:
    low = body.lower()
    want = plain_output_sources(body)
    assert output_source_ids(body) == want
    assert output_source_ids(body, low, KeyIndex(low)) == want
    assert output_source_ids(body, low) == want


def test_output_sources_on_corpus_cards() -> None:
    bodies = [parse_front_matter(s.readme or "").body or "" for s, _ in _model_cards()]
    path = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        bodies += [parse_front_matter(json.loads(line)["readme"]).body or "" for line in islice(handle, 5000)]
    found = 0
    for body in bodies:
        low = body.lower()
        want = plain_output_sources(body)
        assert output_source_ids(body) == want
        assert output_source_ids(body, low, KeyIndex(low)) == want
        found += bool(want)
    assert found  # real statements were among them


# -- declared parents ----------------------------------------------------------------------------


def plain_base_model_refs(metadata: object, snapshot: RepoSnapshot) -> list[BaseModelRef]:
    """The oracle: every entry normalised and de-duplicated, no early answer."""
    raw = metadata.get("base_model") if isinstance(metadata, Mapping) else None
    ids: list[str] = []
    for item in raw if isinstance(raw, list) else [raw]:
        mid = normalise_model_id(item)
        if mid and mid.lower() not in {i.lower() for i in ids} and mid.lower() != snapshot.id.lower():
            ids.append(mid)
    if not ids:
        return []
    declared = declared_relation(metadata)
    if declared:
        return [BaseModelRef(i, declared, False) for i in ids]
    relation = infer_relation(metadata, snapshot, len(ids))
    return [BaseModelRef(i, relation, True) for i in ids]


class _Meta(Mapping):
    """A ``Mapping`` that is no ``dict``: the early answer must not depend on the type."""

    def __init__(self, data: dict):
        self._data = data

    def __getitem__(self, key: str) -> object:
        return self._data[key]

    def __iter__(self):
        return iter(self._data)

    def __len__(self) -> int:
        return len(self._data)


BASE_MODEL_CASES = (
    None,
    [],
    "not a mapping",
    {},
    {"base_model": None},
    {"base_model": ""},
    {"base_model": []},
    {"base_model": [None, "", "  "]},
    {"base_model": "someone/child-model"},  # itself
    {"base_model": "https://huggingface.co/meta-llama/Llama-2-7b/tree/main"},
    {"base_model": ["a/b", "A/B", "c/d"], "base_model_relation": "merge"},
    {"base_model": "a/b", "tags": ["gguf"]},
    {"base_model": 7},
)


@pytest.mark.parametrize("metadata", BASE_MODEL_CASES)
def test_base_model_refs_on_edge_cases(metadata: object) -> None:
    snap = RepoSnapshot("someone/child-model", {"README.md": 1}, {"README.md": "x"})
    assert base_model_refs(metadata, snap) == plain_base_model_refs(metadata, snap)
    if isinstance(metadata, dict):
        assert base_model_refs(_Meta(metadata), snap) == plain_base_model_refs(_Meta(metadata), snap)


def test_base_model_refs_on_corpus_cards() -> None:
    cards = [(s, parse_front_matter(s.readme or "").metadata) for s, _ in _model_cards()]
    path = CORPUS / "hf-cards-2023" / "cards.jsonl.gz"
    if not path.is_file():
        pytest.skip(f"{path} not found")
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        for line in islice(handle, HF_SAMPLE):
            row = json.loads(line)
            snap = RepoSnapshot(row["id"], {"README.md": 1}, {"README.md": row["readme"]})
            cards.append((snap, parse_front_matter(row["readme"]).metadata))
    declared = 0
    for snap, metadata in cards:
        want = plain_base_model_refs(metadata, snap)
        assert base_model_refs(metadata, snap) == want
        declared += bool(want)
    assert declared  # some cards do declare parents
