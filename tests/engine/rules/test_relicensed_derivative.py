import pytest

from licenses.engine.rules import relicensed_derivative as rule
from tests.engine.rules.helpers import ctx, parent


def test_noncommercial_parent_commercial_child_D1():
    found = rule.check(ctx(key="apache-2.0", parents=[parent("org/nc-base", "cc-by-nc-4.0")]))
    assert [(v.rule, v.severity, v.parent) for v in found] == [
        ("relicensed-derivative", "error", "org/nc-base")
    ]
    assert "non-commercial" in found[0].message and found[0].clause


def test_sharealike_parent_other_licence_D2():
    found = rule.check(ctx(key="mit", parents=[parent("org/sa-base", "cc-by-sa-4.0")]))
    assert len(found) == 1 and "same licence" in found[0].message


def test_vendor_licence_dropped_D6():
    found = rule.check(ctx(key="apache-2.0", parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3")]))
    assert len(found) == 1 and found[0].parent == "meta-llama/Meta-Llama-3-8B"
    assert "Llama 3" in found[0].clause


def test_quantized_copy_relabelled_D17():
    # apple-ascl has no derivative conditions beyond a notice: a fine-tune may choose its licence,
    # a quantized copy (the same weights) may not
    found = rule.check(ctx(key="mit", parents=[parent("org/vendor-model", "apple-ascl", "quantized")]))
    assert [v.parent for v in found] == ["org/vendor-model"] and "quantized copy" in found[0].message
    assert rule.check(ctx(key="mit", parents=[parent("org/vendor-model", "apple-ascl", "finetune")])) == []


def test_merge_checks_every_parent_D12():
    parents = [parent("org/a", "apache-2.0", "merge"), parent("org/b", "cc-by-nc-4.0", "merge")]
    found = rule.check(ctx(key="apache-2.0", parents=parents))
    assert [v.parent for v in found] == ["org/b"]


def test_compatible_children_pass():
    assert rule.check(ctx(key="llama3", parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3")])) == []
    assert rule.check(ctx(key="cc-by-nc-4.0", parents=[parent("org/a", "apache-2.0")])) == []
    assert rule.check(ctx(key="mit", parents=[parent("org/a", "apache-2.0", "quantized")])) == []
    assert rule.check(ctx(key="cc-by-nc-sa-4.0", parents=[parent("org/a", "cc-by-nc-sa-4.0")])) == []


def test_unresolved_parent_is_not_guessed():
    assert rule.check(ctx(key="apache-2.0", parents=[parent("org/unknown", None)])) == []


def test_licensor_deriving_from_its_own_bundled_release_is_not_relicensing():
    p = parent("bigorg/base-v3", "deepseek", source="bundled")
    assert rule.check(ctx(child_id="bigorg/base-v3-0324", key="mit", parents=[p])) == []
    p = parent("bigorg/base-v3", "llama3", source="bundled")
    assert len(rule.check(ctx(child_id="someone/base-v3-ft", key="mit", parents=[p]))) == 1


def test_version_variant_is_left_to_version_mismatch():
    assert rule.check(ctx(key="llama2", parents=[parent("meta-llama/Llama-3.1-8B", "llama3.1")])) == []


def _violations(card: str) -> list[tuple[str, str]]:
    from licenses.engine.analyze import analyze_snapshot
    from licenses.engine.types import RepoSnapshot

    report = analyze_snapshot(
        RepoSnapshot(id="someone/merged", files={"README.md": len(card)}, texts={"README.md": card})
    )
    return [(v["rule"], v.get("parent") or "") for v in report["violations"] if v["severity"] == "error"]


LLAMA_AND_GEMMA = "base_model:\n- meta-llama/Llama-3.1-8B\n- google/gemma-2b\n"


@pytest.mark.parametrize(
    "declared",
    ["[gemma, llama3.1]", "[llama3.1, gemma]", "llama3.1 AND gemma", "gemma AND llama3.1"],
)
def test_a_merge_carrying_both_agreements_is_not_relicensed_in_any_order_D13_D14(declared):
    """Both parents' licences declared together (an AND, or a list, which reads as AND) carry both
    agreements; which one the classifier picks to represent the pair must not matter."""
    found = _violations(f"---\nlicense: {declared}\n{LLAMA_AND_GEMMA}---\n# merged\n")
    assert ("relicensed-derivative", "meta-llama/Llama-3.1-8B") not in found
    assert ("relicensed-derivative", "google/gemma-2b") not in found


@pytest.mark.parametrize("declared", ["llama3.1 AND openrail++", "[llama3.1, cc-by-nc-4.0]"])
def test_a_fine_tune_that_keeps_its_parents_licence_beside_another_is_fine(declared):
    card = f"---\nlicense: {declared}\nbase_model: meta-llama/Llama-3.1-8B\n---\n# ft\n"
    assert ("relicensed-derivative", "meta-llama/Llama-3.1-8B") not in _violations(card)


@pytest.mark.parametrize(
    "declared", ["mit OR llama3.1", "[apache-2.0, mit]", "mit AND (apache-2.0 OR llama3.1)"]
)
def test_a_choice_that_lets_a_user_drop_the_parents_terms_is_relicensing_D6(declared):
    """An OR lets the downstream user pick the alternative without the Llama terms."""
    card = f"---\nlicense: {declared}\nbase_model: meta-llama/Llama-3.1-8B\n---\n# ft\n"
    assert ("relicensed-derivative", "meta-llama/Llama-3.1-8B") in _violations(card)


@pytest.mark.parametrize(
    ("parent_key", "child_key", "breach"),
    [
        ("cc-by-nc-sa-4.0", "cc-by-nc-4.0", True),  # another CC licence, not the same one
        ("cc-by-nc-sa-4.0", "cc-by-nc-nd-4.0", True),
        ("cc-by-sa-4.0", "cc-by-sa-3.0", True),  # an earlier version
        ("gpl-3.0", "gpl-2.0", True),
        ("gpl-2.0", "gpl-3.0", True),  # filed as GPL-2.0-only: no "or later" to take
        ("cc-by-sa-3.0", "cc-by-sa-4.0", False),  # "same or later": left to version-mismatch
        ("cc-by-nc-sa-4.0", "cc-by-nc-sa-4.0", False),
    ],
)
def test_share_alike_takes_the_same_licence_or_a_later_version_only_D2(parent_key, child_key, breach):
    found = rule.check(ctx(key=child_key, parents=[parent("org/sa-base", parent_key)]))
    assert bool(found) == breach, found


@pytest.mark.parametrize(
    ("parent_key", "declared"),
    [("gpl-3.0", "GPL-3.0-only AND CC-BY-NC-4.0"), ("cc-by-sa-4.0", "CC-BY-SA-4.0 AND CC-BY-NC-4.0")],
)
def test_a_copyleft_parents_licence_with_terms_added_is_still_relicensing_D2(parent_key, declared):
    """Share-alike and copyleft forbid adding terms (GPL §10, CC BY-SA §2(a)(5)(B)): keeping the
    parent's licence beside an NC one does not make the pair fine, unlike for NC or vendor parents."""
    from dataclasses import replace

    context = ctx(key="cc-by-nc-4.0", parents=[parent("org/sa-base", parent_key)])
    context = replace(context, license=replace(context.license, spdx=declared))
    assert [v.parent for v in rule.check(context)] == ["org/sa-base"]


def test_a_quantized_copy_that_adds_a_licence_to_its_parents_is_relabelled_D17():
    """D17: a quantized copy may declare only its parent's licence; 'llama3 AND mit' adds terms
    (for a fine-tune the same declaration carries the Llama agreement and is fine)."""
    from dataclasses import replace

    for relation, flagged in (("quantized", True), ("finetune", False)):
        context = ctx(key="llama3", parents=[parent("meta-llama/Meta-Llama-3-8B", "llama3", relation)])
        context = replace(context, license=replace(context.license, spdx="LicenseRef-hub-llama3 AND MIT"))
        assert bool(rule.check(context)) == flagged, relation
