from licenses.engine.rules import missing_notice as rule
from tests.engine.rules.helpers import ctx, parent

L31 = "meta-llama/Llama-3.1-8B"


def test_llama31_child_without_licence_notice_or_phrase_D18():
    found = rule.check(ctx(key="llama3.1", parents=[parent(L31, "llama3.1")], body="A fine-tune."))
    assert [(v.rule, v.severity, v.parent) for v in found] == [("missing-notice", "warning", L31)]
    assert "Built with Llama" in found[0].message and "LICENSE" in found[0].message


def test_child_shipping_everything_passes():
    texts = {
        "README.md": "Built with Llama. Llama 3.1 is licensed under the Llama 3.1 Community License.",
        "LICENSE": "LLAMA 3.1 COMMUNITY LICENSE AGREEMENT ...",
    }
    assert rule.check(ctx(key="llama3.1", parents=[parent(L31, "llama3.1")], texts=texts)) == []


def test_qwen_display_phrase_D19():
    texts = {"README.md": "Qwen is licensed under the Qwen LICENSE AGREEMENT", "LICENSE": "..."}
    found = rule.check(ctx(key="qwen", parents=[parent("Qwen/Qwen2.5-72B", "qwen")], texts=texts))
    assert len(found) == 1 and "Built with Qwen" in found[0].message
    texts["README.md"] += "\nBuilt with Qwen"
    assert rule.check(ctx(key="qwen", parents=[parent("Qwen/Qwen2.5-72B", "qwen")], texts=texts)) == []


def test_permissive_parent_is_not_checked_D24_declined():
    assert (
        rule.check(ctx(key="apache-2.0", parents=[parent("mistralai/Mistral-7B-v0.1", "apache-2.0")])) == []
    )
