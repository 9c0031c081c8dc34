"""Output amplification: a card inside the documented input limits must not make an output
disproportionately large. Sizes are asserted, not timings.

Each case is a card an uploader controls (front matter ≤ 256 kB, body ≤ 1 M characters) whose
analysis, or stored ``cardData``, used to be megabytes.
"""

from __future__ import annotations

import json

from licenses.engine import frontmatter
from licenses.engine.analyze import analyze_snapshot
from licenses.engine.frontmatter import parse_front_matter
from licenses.engine.types import RepoSnapshot

LONG = "x" * 224


def snapshot(readme: str) -> RepoSnapshot:
    return RepoSnapshot(id="me/child", files={"README.md": len(readme)}, texts={"README.md": readme})


def analysis_bytes(readme: str) -> int:
    return len(json.dumps(analyze_snapshot(snapshot(readme), parse_front_matter(readme))))


def aliases(field: str, value: str, count: int) -> str:
    return f"---\n{field}: [&a {value}, {', '.join(['*a'] * count)}]\n---\n# m\n"


def test_an_alias_expansion_is_bounded_in_characters_not_only_nodes():
    """40,000 aliases of one 224-character string: 40,001 nodes (under the node budget) in a
    160 kB block, 9 MB once expanded. The block is refused and the card says why."""
    readme = aliases("license", LONG, 40_000)
    front = parse_front_matter(readme)
    assert front.metadata == {}
    limit = getattr(frontmatter, "MAX_EXPANDED_CHARS", 4 * frontmatter.MAX_YAML_CHARS)
    assert list(front.problems) == [f"front matter rejected: alias expansion exceeds {limit:,} characters"]
    assert analysis_bytes(readme) < 50_000


def test_anchors_reused_within_the_budget_still_parse():
    reused = f"---\nlicense: mit\ntags: [&a {LONG}, {', '.join(['*a'] * 100)}]\n---\n# m\n"
    front = parse_front_matter(reused)
    assert not front.problems and len(front.metadata["tags"]) == 101


def licence_bytes(readme: str) -> int:
    result = analyze_snapshot(snapshot(readme), parse_front_matter(readme))
    return len(json.dumps([result["license"], result["violations"]]))


def test_one_long_declared_licence_is_quoted_cut_in_evidence_reason_and_message():
    """A 250,000-character ``license`` was quoted whole in the evidence, the ``reason`` and the
    unresolved-licence violation (message and evidence): 1.26 MB from a 250 kB card."""
    readme = f"---\nlicense: {'x' * 250_000}\n---\n# m\n"
    result = analyze_snapshot(snapshot(readme), parse_front_matter(readme))
    assert result["license"]["key"] == "unknown"
    assert "(250,000 characters)" in result["license"]["reason"]
    (violation,) = [v for v in result["violations"] if v["rule"] == "unresolved-license"]
    assert "(250,000 characters)" in violation["message"]
    assert licence_bytes(readme) < 10_000


def test_many_declared_names_are_listed_once_and_counted():
    """50,000 copies of ``mit`` as ``license_name`` beside ``apache-2.0`` wrote one identical
    evidence line per copy (4.6 MB); 28,000 distinct unknown ids were each quoted three times."""
    copies = f"---\nlicense: apache-2.0\nlicense_name: [{', '.join(['mit'] * 50_000)}]\n---\n# m\n"
    result = analyze_snapshot(snapshot(copies), parse_front_matter(copies))
    details = [e["detail"] for e in result["license"]["evidence"]]
    assert details == ["license: apache-2.0", "license_name/link 'mit' names mit, not the declared id"]

    unknown = f"---\nlicense: [{', '.join(f'zz{i}' for i in range(28_000))}]\n---\n# m\n"
    result = analyze_snapshot(snapshot(unknown), parse_front_matter(unknown))
    assert result["license"]["reason"].endswith("and 27,984 more is not a known licence id")
    assert licence_bytes(unknown) < 10_000


def test_many_names_each_resolving_elsewhere_make_a_bounded_number_of_notes():
    links = ", ".join(f"https://opensource.org/licenses/MIT?{i}" for i in range(6_000))
    readme = f"---\nlicense: apache-2.0\nlicense_link: [{links}]\n---\n# m\n"
    evidence = analyze_snapshot(snapshot(readme), parse_front_matter(readme))["license"]["evidence"]
    assert len(evidence) == 1 + 16 + 1 and evidence[-1]["detail"] == "5,984 more notes like these"


def test_many_named_datasets_are_judged_up_to_a_bound_and_the_rest_counted():
    """20,000 dataset links in a 1 MB body were each a ``datasets`` entry and a ``dataset_licenses``
    row: 2.2 MB of analysis. The first 256 are judged, the rest counted in ``data`` and the card's problems."""
    from licenses.engine.disclosure import MAX_DATASETS

    body = "".join(f"[l](https://huggingface.co/datasets/o{i}/d{i}) " for i in range(20_000))
    readme = f"---\nlicense: mit\n---\n{body}"
    result = analyze_snapshot(snapshot(readme), parse_front_matter(readme))
    data = result["data"]
    assert data["datasets"] == [f"o{i}/d{i}" for i in range(MAX_DATASETS)]
    assert len(data["dataset_licenses"]) == MAX_DATASETS
    assert (data["datasets_named"], data["datasets_ignored"]) == (20_000, 20_000 - MAX_DATASETS)
    assert (
        f"20,000 datasets named; only the first {MAX_DATASETS} are judged (19,744 ignored)"
        in result["card"]["problems"]
    )
    assert len(json.dumps(result)) < 100_000


def test_a_dataset_id_longer_than_any_id_is_not_judged_nor_quoted_whole():
    """One 250,000-character dataset id was a ``datasets`` entry, a licence row and the evidence of
    three openness dimensions: 1.5 MB from a 250 kB card."""
    readme = f"---\nlicense: mit\ndatasets: [org/real, a/{'x' * 250_000}]\n---\n# m\n"
    result = analyze_snapshot(snapshot(readme), parse_front_matter(readme))
    assert result["data"]["datasets"] == ["org/real"] and result["data"]["datasets_too_long"] == 1
    assert any("1 dataset ids longer than 200 characters" in p for p in result["card"]["problems"])
    assert len(json.dumps(result)) < 50_000


def test_ordinary_cards_gain_no_dataset_keys():
    readme = "---\nlicense: mit\ndatasets: [org/a, org/b]\n---\n# m\n"
    data = analyze_snapshot(snapshot(readme), parse_front_matter(readme))["data"]
    assert data["datasets"] == ["org/a", "org/b"] and not any(k.startswith("datasets_") for k in data)


def test_openness_evidence_is_cut_and_says_its_length():
    readme = f"---\nlicense: mit\nlibrary_name: {'y' * 250_000}\n---\n# m\n"
    openness = analyze_snapshot(snapshot(readme), parse_front_matter(readme))["openness"]
    quoted = [c["evidence"] for c in openness["mof"]["components"] if c["evidence"]]
    quoted += [d["evidence"] for d in openness["dimensions"] if d["evidence"]]
    assert quoted and all(len(e) < 600 for e in quoted)
    assert any(e.endswith("(250,014 characters)") for e in quoted)
