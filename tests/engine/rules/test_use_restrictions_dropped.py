from licenses.engine.rules import relicensed_derivative
from licenses.engine.rules import use_restrictions_dropped as rule
from tests.engine.rules.helpers import ctx, parent


def test_rail_parent_permissive_child_D4():
    c = ctx(key="apache-2.0", parents=[parent("CompVis/stable-diffusion-v1-4", "creativeml-openrail-m")])
    found = rule.check(c)
    assert [(v.rule, v.severity) for v in found] == [("use-restrictions-dropped", "error")]
    assert relicensed_derivative.check(c) == []  # one verdict per pair


def test_gemma_parent_plain_nc_child():
    found = rule.check(ctx(key="cc-by-nc-4.0", parents=[parent("google/gemma-2b", "gemma")]))
    assert len(found) == 1 and found[0].parent == "google/gemma-2b"


def test_child_keeping_restrictions_passes_D5():
    assert rule.check(ctx(key="openrail++", parents=[parent("org/sd", "creativeml-openrail-m")])) == []
    assert rule.check(ctx(key="openrail", parents=[parent("org/sd", "creativeml-openrail-m")])) == []
    assert rule.check(ctx(key="apache-2.0", parents=[parent("org/m", "mit")])) == []
