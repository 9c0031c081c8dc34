from licenses.engine.rules import relicensed_derivative
from licenses.engine.rules import version_mismatch as rule
from tests.engine.rules.helpers import ctx, parent


def test_llama31_finetune_declaring_llama2():
    c = ctx(key="llama2", parents=[parent("meta-llama/Llama-3.1-8B", "llama3.1")])
    found = rule.check(c)
    assert [(v.rule, v.severity) for v in found] == [("version-mismatch", "warning")]
    assert relicensed_derivative.check(c) == []


def test_same_version_or_other_licence_in_family_passes():
    assert rule.check(ctx(key="llama3.1", parents=[parent("meta-llama/Llama-3.1-8B", "llama3.1")])) == []
    # cc-by-4.0 → cc-by-sa-4.0 share the "cc" family but are different licences, not versions
    assert rule.check(ctx(key="cc-by-sa-4.0", parents=[parent("org/by", "cc-by-4.0")])) == []


def test_nc_breach_inside_a_family_is_not_a_version_mismatch():
    assert rule.check(ctx(key="llama2", parents=[parent("huggyllama/llama-7b", "llama-1")])) == []
    assert (
        len(
            relicensed_derivative.check(ctx(key="llama2", parents=[parent("huggyllama/llama-7b", "llama-1")]))
        )
        == 1
    )
