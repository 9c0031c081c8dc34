from licenses.engine.rules import incompatible_parents as rule
from tests.engine.rules.helpers import ctx, parent


def test_gpl_plus_rail_D15():
    parents = [parent("org/gpl", "gpl-3.0", "merge"), parent("org/rail", "creativeml-openrail-m", "merge")]
    found = rule.check(ctx(key="gpl-3.0", parents=parents))
    assert [(v.rule, v.severity) for v in found] == [("incompatible-parents", "error")]
    assert "org/gpl" in found[0].parent and "org/rail" in found[0].parent


def test_nc_plus_sharealike_D16():
    parents = [parent("org/nc", "cc-by-nc-4.0", "merge"), parent("org/sa", "cc-by-sa-4.0", "merge")]
    assert len(rule.check(ctx(key="cc-by-sa-4.0", parents=parents))) == 1


def test_satisfiable_merges_pass_D13_D14():
    llama_apache = [parent("org/l", "llama3", "merge"), parent("org/a", "apache-2.0", "merge")]
    assert rule.check(ctx(key="llama3", parents=llama_apache)) == []
    two_vendors = [parent("org/l", "llama3", "merge"), parent("org/g", "gemma", "merge")]
    assert rule.check(ctx(key="llama3", parents=two_vendors)) == []
    nc_sa_and_nc = [parent("org/x", "cc-by-nc-sa-4.0", "merge"), parent("org/y", "cc-by-nc-4.0", "merge")]
    assert rule.check(ctx(key="cc-by-nc-sa-4.0", parents=nc_sa_and_nc)) == []


def test_single_parent_is_not_a_combination():
    assert rule.check(ctx(key="gpl-3.0", parents=[parent("org/rail", "creativeml-openrail-m")])) == []
