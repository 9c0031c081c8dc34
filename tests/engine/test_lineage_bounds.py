"""Bounds on what a card may declare as parents: the count and the length of an id.

A card may list thousands of parents, the same one many times, itself, or an "id" of
kilobytes. What is not judged must be said (lineage keys and a card problem), never cut silently.
"""

from __future__ import annotations

import pytest

from licenses.engine.analyze import analyze_snapshot
from licenses.engine.frontmatter import MAX_EXPANDED_CHARS, parse_front_matter
from licenses.engine.lineage import (
    MAX_PARENT_ID_CHARS,
    MAX_PARENTS,
    BaseModelRef,
    ChainResolver,
    LocalResolver,
    base_model_refs,
    declared_parents,
)
from licenses.engine.types import RepoSnapshot

LONG_ID = "a" * 5000 + "/" + "b" * 5000


def snapshot(readme: str, repo_id: str = "me/child", **texts: str) -> RepoSnapshot:
    texts = {"README.md": readme, **texts}
    return RepoSnapshot(id=repo_id, files={name: len(text) for name, text in texts.items()}, texts=texts)


def card(*parents: str, license_key: str = "apache-2.0") -> str:
    listed = "\n".join(f"- {p}" for p in parents)
    return f"---\nlicense: {license_key}\nbase_model:\n{listed}\n---\n# m\n"


def test_more_parents_than_the_bound_judges_the_first_and_counts_the_rest():
    parents = [f"p{i}/m{i}" for i in range(MAX_PARENTS + 872)]
    meta = {"base_model": parents}
    declared = declared_parents(meta, snapshot(""))
    assert [r.id for r in declared.refs] == parents[:MAX_PARENTS]
    assert (declared.named, declared.over_limit) == (MAX_PARENTS + 872, 872)
    assert base_model_refs(meta, snapshot("")) == declared.refs


def test_duplicates_and_the_card_itself_do_not_count_against_the_bound():
    parents = ["me/child", *(["org/base"] * 5000), "ORG/BASE", "other/base"]
    declared = declared_parents({"base_model": parents}, snapshot(""))
    assert [r.id for r in declared.refs] == ["org/base", "other/base"]
    assert declared.over_limit == 0 and declared.to_dict() == {} and declared.problems() == []


def test_an_id_longer_than_any_model_id_is_refused_and_named():
    declared = declared_parents({"base_model": ["org/base", LONG_ID]}, snapshot(""))
    assert declared.refs == [BaseModelRef("org/base", "finetune", True)]
    (shown,) = declared.to_dict()["invalid_parents"]
    assert shown.endswith(f"… ({len(LONG_ID)} characters)") and len(shown) < 100
    ok = "o/" + "n" * (MAX_PARENT_ID_CHARS - 2)
    assert [r.id for r in base_model_refs({"base_model": ok}, snapshot(""))] == [ok]


def test_a_merge_recipe_is_bounded_too():
    models = "\n".join(f"  - model: lab/m{i}" for i in range(MAX_PARENTS + 10))
    recipe = f"merge_method: linear\nmodels:\n{models}\n  - model: lab/{'x' * 300}\n"
    snap = RepoSnapshot("me/child", {"mergekit_config.yml": len(recipe)}, {"mergekit_config.yml": recipe})
    declared = declared_parents({}, snap)
    assert len(declared.refs) == MAX_PARENTS and declared.over_limit == 10
    assert all(r.relation == "merge" for r in declared.refs) and len(declared.too_long) == 1


def test_the_analysis_says_what_it_did_not_judge():
    parents = [f"p{i}/m{i}" for i in range(MAX_PARENTS + 3)]
    result = analyze_snapshot(
        snapshot(card(*parents, LONG_ID)),
        parse_front_matter(card(*parents, LONG_ID)),
        resolver=ChainResolver(LocalResolver([])),
    )
    lineage = result["lineage"]
    assert len(lineage["base_models"]) == MAX_PARENTS
    assert (lineage["parents_named"], lineage["parents_ignored"]) == (MAX_PARENTS + 3, 3)
    assert len(lineage["invalid_parents"]) == 1
    problems = result["card"]["problems"]
    assert any(f"only the first {MAX_PARENTS} are judged (3 ignored)" in p for p in problems)
    assert any(f"parent id of {len(LONG_ID)} characters" in p for p in problems)


@pytest.mark.parametrize("parents", [["org/base"], ["org/a", "org/b"]])
def test_an_ordinary_card_gains_no_keys(parents):
    result = analyze_snapshot(
        snapshot(card(*parents)),
        parse_front_matter(card(*parents)),
        resolver=ChainResolver(LocalResolver([])),
    )
    assert set(result["lineage"]) == {"base_models", "unresolved"}


def test_over_long_ids_repeated_or_many_are_counted_not_each_written_out():
    """A 200 KB front matter of YAML aliases to one over-long entry named it 40,000 times: 40,000
    card problems and ``invalid_parents`` entries (6.6 MB in the stored analysis). Repeats are one
    id, as for usable ids."""
    long_id = "org/" + "x" * MAX_PARENT_ID_CHARS
    repeats = MAX_EXPANDED_CHARS // len(long_id) - 5  # as many as the alias budget lets through
    aliases = "\n".join(["- &a " + long_id, *(["- *a"] * repeats), "- ORG/" + "X" * MAX_PARENT_ID_CHARS])
    result = analyze_snapshot(snapshot(f"---\nlicense: mit\nbase_model:\n{aliases}\n---\n# m\n"))
    assert result["lineage"]["invalid_parents"] == [f"{long_id[:60]}… ({len(long_id)} characters)"]
    assert "invalid_parents_count" not in result["lineage"]
    assert sum("not a model id" in p for p in result["card"]["problems"]) == 1


def test_past_the_first_few_over_long_ids_the_rest_are_counted():
    from licenses.engine.lineage import MAX_INVALID_SHOWN

    many = [f"org{i}/" + "y" * MAX_PARENT_ID_CHARS for i in range(3 * MAX_INVALID_SHOWN)]
    declared = declared_parents({"base_model": [*many, "org/base"]}, snapshot(""))
    assert [r.id for r in declared.refs] == ["org/base"]
    listed = declared.to_dict()
    assert len(listed["invalid_parents"]) == MAX_INVALID_SHOWN
    assert listed["invalid_parents_count"] == len(many)
    problems = declared.problems()
    assert len(problems) == MAX_INVALID_SHOWN + 1
    assert problems[-1] == f"{len(many) - MAX_INVALID_SHOWN} more over-long parent ids: ignored"


@pytest.mark.parametrize("field", ["base_model", "datasets"])
def test_a_front_matter_of_aliases_does_not_blow_up_the_stored_analysis(field: str):
    """40,000 YAML aliases of one long name fit a 160 kB front matter; the transparency
    indicator quoting ``base_model`` repeated every one of them (9 MB of analysis JSON), and the
    disclosure evidence quoting ``datasets`` likewise (6 MB)."""
    import json

    repeats = (
        MAX_EXPANDED_CHARS // 224 - 10
    )  # 40,000 is now refused whole: as many as the alias budget allows
    text = f"---\nlicense: apache-2.0\n{field}: [&a {'x' * 224}, {', '.join(['*a'] * repeats)}]\n---\n# m\n"
    snap = snapshot(text)
    result = analyze_snapshot(snap, parse_front_matter(text))
    assert len(json.dumps(result)) < 50_000
    from licenses.engine.transparency import EVIDENCE_MAX

    for item in result["transparency"]["indicators"]:
        assert len(item.get("evidence") or "") <= EVIDENCE_MAX
    if field == "base_model":
        (components,) = [i for i in result["transparency"]["indicators"] if i["id"] == "model-components"]
        assert components["met"] and components["evidence"].endswith("characters)")
    else:
        (named,) = [e["detail"] for e in result["data"]["evidence"] if e["detail"].startswith("datasets: ")]
        assert named.endswith("(224 characters)")


def test_disclosure_evidence_names_each_dataset_once_and_counts_the_rest():
    from licenses.engine.disclosure import EVIDENCE_NAMES

    names = [f"org/ds{i}" for i in range(EVIDENCE_NAMES + 10)]
    text = "---\nlicense: mit\ndatasets:\n" + "".join(f"- {n}\n- {n}\n" for n in names) + "---\n# m\n"
    result = analyze_snapshot(snapshot(text), parse_front_matter(text))
    (named,) = [e["detail"] for e in result["data"]["evidence"] if e["detail"].startswith("datasets: ")]
    assert named == "datasets: " + ", ".join(names[:EVIDENCE_NAMES]) + ", and 10 more"
