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
