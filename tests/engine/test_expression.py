"""Tests of SPDX expression parsing and evaluation over knowledge-base licences."""

from __future__ import annotations

import pytest

from licenses.engine.expression import ExpressionError, ExprNode, evaluate, leaves, parse_expression, to_spdx
from licenses.engine.kb import load_knowledge_base


def commercial(info):
    return info is not None and info.commercial_use == "yes"


def keys(node):
    return [leaf.license.key if leaf.license else None for leaf in leaves(node)]


def test_single_spdx_id_is_a_resolved_leaf():
    node = parse_expression("Apache-2.0")
    assert node.op == "LEAF"
    assert node.license.key == "apache-2.0"
    assert node.symbol == "Apache-2.0"


def test_hub_ids_that_are_not_spdx_resolve_through_the_kb():
    node = parse_expression("llama3.1 AND openrail++ AND gemma")
    assert node.op == "AND"
    assert keys(node) == ["llama3.1", "openrail++", "gemma"]


def test_licence_refs_and_free_text_leaves_resolve():
    node = parse_expression("LicenseRef-hub-llama3 AND Apache 2.0")
    assert keys(node) == ["llama3", "apache-2.0"]


def test_whole_text_licence_name_with_punctuation_is_one_leaf():
    node = parse_expression("Apache License, Version 2.0")
    assert node == ExprNode("LEAF", license=node.license, symbol="Apache License, Version 2.0")
    assert node.license.key == "apache-2.0"


def test_unknown_symbol_gives_leaf_without_licence():
    node = parse_expression("my-own-terms OR mit")
    assert [leaf.symbol for leaf in leaves(node)] == ["my-own-terms", "mit"]
    assert keys(node) == [None, "mit"]


def test_or_passes_when_any_branch_passes():
    assert evaluate(parse_expression("cc-by-nc-4.0 OR mit"), commercial)
    assert not evaluate(parse_expression("cc-by-nc-4.0 OR cc-by-nc-sa-4.0"), commercial)


def test_and_passes_only_when_all_pass():
    assert not evaluate(parse_expression("cc-by-nc-4.0 AND mit"), commercial)
    assert evaluate(parse_expression("apache-2.0 AND mit AND bsd-3-clause"), commercial)


def test_nesting_follows_parentheses():
    node = parse_expression("(cc-by-nc-4.0 OR mit) AND apache-2.0")
    assert node.op == "AND"
    assert [child.op for child in node.children] == ["OR", "LEAF"]
    assert evaluate(node, commercial)
    assert not evaluate(parse_expression("cc-by-nc-4.0 OR (mit AND llama-1)"), commercial)


def test_unknown_licence_is_handed_to_the_predicate_as_none():
    seen = []
    evaluate(parse_expression("mystery-licence AND mit"), lambda info: seen.append(info) or True)
    assert seen[0] is None and seen[1].key == "mit"


def test_with_is_judged_on_its_licence():
    node = parse_expression("GPL-2.0-or-later WITH Classpath-exception-2.0")
    assert node.op == "WITH"
    assert node.license.key == "gpl-2.0"
    assert node.exception == "Classpath-exception-2.0"
    assert leaves(node) == [node]
    assert evaluate(node, lambda info: info.license_class == "osi-copyleft")
    assert not evaluate(node, lambda info: info.license_class == "osi-permissive")


def test_with_inside_or():
    node = parse_expression("GPL-2.0-only WITH Classpath-exception-2.0 OR cc-by-nc-4.0")
    assert [leaf.op for leaf in leaves(node)] == ["WITH", "LEAF"]
    assert evaluate(node, lambda info: info.license_class == "osi-copyleft") is True
    assert evaluate(node, lambda info: info.license_class == "noncommercial") is True
    assert evaluate(node, lambda info: info.license_class == "rail") is False


def test_to_spdx_uses_spdx_ids_and_keeps_or_later():
    assert (
        to_spdx(parse_expression("llama3 and (apache 2.0 or mit)"))
        == "LicenseRef-hub-llama3 AND (Apache-2.0 OR MIT)"
    )
    assert to_spdx(parse_expression("GPL-2.0-or-later WITH Classpath-exception-2.0")) == (
        "GPL-2.0-or-later WITH Classpath-exception-2.0"
    )
    assert to_spdx(parse_expression("gpl-3.0 OR unknown-thing")) == "GPL-3.0-only OR unknown-thing"


@pytest.mark.parametrize("text", ["", "   ", "(mit OR apache-2.0", "mit OR OR apache-2.0", "mit AND", "a, b"])
def test_bad_syntax_raises_expression_error(text):
    with pytest.raises(ExpressionError, match="licence expression"):
        parse_expression(text)


def test_custom_knowledge_base_is_used(tmp_path):
    (tmp_path / "house.yaml").write_text(
        "key: house\nname: House Licence\nspdx: LicenseRef-hub-house\nclass: noncommercial\n"
        'commercial_use: "no"\nosi_approved: false\nurl: null\naliases: []\nsummary: Ours.\n'
        "obligations: []\n",
        encoding="utf-8",
    )
    kb = load_knowledge_base(tmp_path, cache_dir=False)
    node = parse_expression("house OR mit", kb=kb)
    assert keys(node) == ["house", None]
