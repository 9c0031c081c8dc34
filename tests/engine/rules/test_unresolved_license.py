from licenses.engine.rules import unresolved_license as rule
from tests.engine.rules.helpers import ctx


def test_unknown_key_warns():
    found = rule.check(ctx(key="unknown", metadata={"license": "other"}))
    assert [(v.rule, v.severity) for v in found] == [("unresolved-license", "warning")]


def test_family_id_warns():
    found = rule.check(ctx(key="openrail"))
    assert len(found) == 1 and "family" in found[0].message


def test_exact_licence_and_missing_licence_do_not_warn():
    assert rule.check(ctx(key="creativeml-openrail-m")) == []
    assert rule.check(ctx(key="none", metadata={})) == []


def test_unknown_class_family_id_gets_the_family_message():
    found = rule.check(ctx(key="cc"))
    assert len(found) == 1 and "family" in found[0].message
