from licenses.engine.rules import no_derivatives as rule
from tests.engine.rules.helpers import ctx, parent


def test_finetune_of_nd_model():
    found = rule.check(ctx(key="cc-by-nd-4.0", parents=[parent("org/nd", "cc-by-nd-4.0", "finetune")]))
    assert [(v.rule, v.severity, v.parent) for v in found] == [("no-derivatives", "error", "org/nd")]


def test_adapter_of_nc_nd_model():
    assert (
        len(rule.check(ctx(key="cc-by-nc-4.0", parents=[parent("org/nd", "cc-by-nc-nd-4.0", "adapter")])))
        == 1
    )


def test_quantized_copy_and_other_parents_pass():
    assert rule.check(ctx(key="cc-by-nd-4.0", parents=[parent("org/nd", "cc-by-nd-4.0", "quantized")])) == []
    assert rule.check(ctx(key="cc-by-4.0", parents=[parent("org/by", "cc-by-4.0")])) == []
